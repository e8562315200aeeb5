"""Staff bins pages: a location's bins in walk order, and their labels printed one, an aisle or all at a time."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from wms.auth.access import roles_required
from wms.auth.current import current_staff
from wms.auth.service import visible_locations
from wms.errors import NotFound
from wms.locations.queries import location_bins
from wms.printing.service import print_bin_labels
from wms.printing.views import ALL_ROLES, print_form, read_print_form, web_key

bp = Blueprint("locations", __name__, template_folder="templates")


@bp.get("/bins")
@roles_required(*ALL_ROLES)
def bins_home():
    """The bins of the user's own location, or of the first location they may see."""
    user = current_staff()
    locations = visible_locations(user)
    if not locations:
        raise NotFound("you may not see any location yet: ask a manager to give you one")
    home = user.location.code if user.location and any(loc.code == user.location.code for loc in locations) else None
    return redirect(url_for("locations.bins", code=home or locations[0].code))


@bp.get("/locations/<code>/bins")
@roles_required(*ALL_ROLES)
def bins(code: str):
    user = current_staff()
    view = location_bins(user, code)
    others = [loc for loc in visible_locations(user) if loc.code != view.location.code]
    form = print_form(user, prefer_location=view.location.code)
    return render_template("locations/bins.html", view=view, form=form, others=others)


@bp.post("/locations/<code>/bins/print")
@roles_required(*ALL_ROLES)
def print_bins(code: str):
    """One form, one button per bin, per aisle and for every bin: the button pressed says what to print."""
    user = current_staff()
    printer_id, copies, key = read_print_form(user)
    if request.form.get("bin"):
        scope, what = "bin", request.form["bin"]
    elif request.form.get("aisle"):
        scope, what = "aisle", request.form["aisle"]
    elif request.form.get("all") == "1":
        scope, what = "all", ""
    else:
        # Enter pressed in a field: nothing says which labels, so none (never every bin by accident).
        flash("Choose which labels to print: a bin's Print button, an aisle's, or Print all.", "info")
        return redirect(url_for("locations.bins", code=code), 303)
    view = location_bins(user, code)
    codes = [b.code for b in view.bins if scope == "all" or (b.code if scope == "bin" else b.aisle) == what]
    if not codes:
        raise NotFound(f"{view.location.code} has no such bin or aisle: {what}")
    jobs = print_bin_labels(
        printer_id,
        view.location.code,
        codes,
        copies=copies,
        idempotency_key=web_key(user, key, "bins", view.location.code, scope, what),
        actor=user,
    )
    printer = jobs[0].printer.name
    if len(jobs) == 1:
        message = Markup('Label of bin {} queued on {}: <a href="{}">job #{}</a>.').format(
            codes[0], printer, url_for("printing.job", job_id=jobs[0].id), jobs[0].id
        )
    else:
        which = f"aisle {what}" if scope == "aisle" else f"every bin of {view.location.code}"
        message = Markup('{} bin labels ({}) queued on {}: <a href="{}">see the print jobs</a>.').format(
            len(jobs), which, printer, url_for("printing.jobs", printer=jobs[0].printer_id, mine="1")
        )
    flash(message, "success")
    return redirect(url_for("locations.bins", code=view.location.code), 303)
