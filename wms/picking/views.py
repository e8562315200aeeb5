"""The waves page (managers and admins): the orders due for picking per location, releasing a wave of them,
marking one urgent, and the recent waves with their pick tasks and pick lists (printed, or downloaded as PDF).

Thin views: parse the form, call one service (or read) function, render.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape

from wms.auth.access import MANAGERS, roles_required
from wms.auth.current import current_staff
from wms.auth.rules import safe_next
from wms.auth.service import visible_locations
from wms.errors import NotFound, ValidationError
from wms.locations.models import Location
from wms.orders.service import clear_attention
from wms.params import MAX_ID
from wms.picking import queries, service
from wms.picking.rules import WaveOptions
from wms.printing.queries import visible_printers
from wms.printing.views import print_form, read_print_form, web_key
from wms.tables import Column, Spec, tables_or_csv

bp = Blueprint("picking", __name__, template_folder="templates")


class ActionForm(FlaskForm):
    """No fields: the CSRF token of a form whose fields the view reads itself."""


def _location(code: str | None):
    """The location ``code`` (None: the first warehouse), as the page shows it; NotFound for an unknown one."""
    locations = visible_locations(current_staff())
    if not locations:
        raise NotFound("there is no location yet")
    if not code:
        return locations[0], locations
    for location in locations:
        if location.code == code:
            return location, locations
    raise NotFound(f"no location {code}", {"location": code})


def _pdf_print_form(location_code: str):
    """The shared print form, offering only the PDF printers: a pick list is an A4 document (PDF only)."""
    user = current_staff()
    form = print_form(user, prefer_location=location_code)
    pdf = {p.id for p in visible_printers(user, active_only=True) if p.fmt == "pdf"}
    groups = {name: [c for c in items if c[0] in pdf] for name, items in form.printer.choices.items()}
    form.printer.choices = {name: items for name, items in groups.items() if items}
    ids = [pid for items in form.printer.choices.values() for pid, _label in items]
    if form.printer.data not in ids:
        form.printer.data = ids[0] if ids else None
    return form


@bp.get("/waves")
@roles_required(*MANAGERS)
def waves():
    location, locations = _location(request.args.get("location"))
    due = tables_or_csv([_due_spec(location)])
    if isinstance(due, Response):
        return due
    return render_template(
        "picking/waves.html",
        location=location,
        locations=locations,
        due=due["due"],
        flagged=queries.flagged_orders(location),
        waves=queries.recent_waves(location),
        form=ActionForm(),
        print_form=_pdf_print_form(location.code),
        default_max_orders=WaveOptions().max_orders,
        max_orders=service.MAX_WAVE_ORDERS,
    )


def _due_spec(location: Location) -> Spec:
    """The orders due for picking at ``location`` as a table: urgent first, then oldest, until sorted."""
    return Spec(
        "due",
        (
            Column("external_id", _l("Order")),
            Column("channel", _l("Channel")),
            Column("fulfilment", _l("Fulfilment")),
            Column("status", _l("Status")),
            Column("created_at", _l("Placed")),
            Column("age_minutes", _l("Age (minutes)"), numeric=True),
            Column("lines", _l("Lines"), numeric=True),
            Column("units", _l("Units"), numeric=True),
            Column("urgent", _l("Urgent")),
        ),
        lambda: [{**asdict(order), "rank": n} for n, order in enumerate(queries.due_orders(location))],
        "rank",
    )


def _whole(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ValidationError.one(name, _("a whole number from %(low)d to %(high)d", low=low, high=high))
    return number


@bp.post("/waves")
@roles_required(*MANAGERS)
def release():
    if not ActionForm().validate_on_submit():
        abort(400)
    user = current_staff()
    code = (request.form.get("location") or "").strip()
    location, _locations = _location(code)
    back = url_for("picking.waves", location=location.code)
    raw_max = (request.form.get("max_orders") or "").strip()
    max_orders = _whole("max_orders", raw_max, 1, service.MAX_WAVE_ORDERS) if raw_max else None
    # Checked orders only; none checked: every due order of the location.
    order_ids = [_whole("orders", value, 1, MAX_ID) for value in request.form.getlist("orders")] or None
    wave = service.release_wave(location.code, order_ids, max_orders, actor=user.username)
    orders = ngettext("%(num)d order", "%(num)d orders", len(wave["orders"]))
    tasks = ngettext("%(num)d pick task", "%(num)d pick tasks", len(wave["tasks"]))
    flash(_("Wave %(wave)s released: %(orders)s, %(tasks)s.", wave=wave["id"], orders=orders, tasks=tasks), "success")
    return redirect(back, 303)


@bp.post("/waves/orders/<int:order_id>/settled")
@roles_required(*MANAGERS)
def settled(order_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    order = clear_attention(order_id, actor=current_staff().username)
    flash(_("Order %(order)s no longer waits for a manager.", order=order.external_id), "success")
    back = safe_next(request.form.get("next"))  # the exceptions page sends its own address
    if back:
        return redirect(back, 303)
    code = request.form.get("location") or None
    return redirect(url_for("picking.waves", location=code) if code else url_for("picking.waves"), 303)


@bp.post("/waves/orders/<int:order_id>/urgent")
@roles_required(*MANAGERS)
def urgent(order_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    flag = request.form.get("urgent") == "1"
    order = service.set_urgent(order_id, flag, actor=current_staff().username)
    if flag:
        flash(_("Order %(order)s is urgent: the next wave picks it first.", order=order.external_id), "success")
    else:
        flash(_("Order %(order)s is no longer urgent.", order=order.external_id), "success")
    code = request.form.get("location") or None
    return redirect(url_for("picking.waves", location=code) if code else url_for("picking.waves"), 303)


@bp.get("/waves/<int:wave_id>/picklist.pdf")
@roles_required(*MANAGERS)
def picklist(wave_id: int):
    body = service.picklist_pdf(wave_id)
    response = Response(body, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="picklist-wave-{wave_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/waves/<int:wave_id>/print")
@roles_required(*MANAGERS)
def print_picklist(wave_id: int):
    user = current_staff()
    printer_id, copies, key = read_print_form(user)
    jobs = service.print_picklist(
        wave_id, printer_id, copies, idempotency_key=web_key(user, key, "picklist", wave_id), actor=user
    )
    # The printer's name and the link are escaped before they go into the (translated) message with its link.
    message = _(
        'Pick list of wave %(wave)s queued on %(printer)s: <a href="%(url)s">see the print jobs</a>.',
        wave=wave_id,
        printer=escape(jobs[0].printer.name),
        url=escape(url_for("printing.jobs", printer=jobs[0].printer_id, mine="1")),
    )
    flash(
        Markup(message),
        "success",
    )
    code = request.form.get("location") or None
    return redirect(url_for("picking.waves", location=code) if code else url_for("picking.waves"), 303)
