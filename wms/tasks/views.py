"""The counts page (managers and admins): counts waiting for approval with their variances and the orders
approving them would hit, Approve and Recount buttons, a form that opens counts of bins, and the counts still on
the floor.

Thin views: parse the form, call one service (or read) function, render.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from wms.auth.access import MANAGERS, roles_required
from wms.auth.current import current_staff
from wms.auth.rules import safe_next
from wms.auth.service import visible_locations
from wms.tasks import counts
from wms.tasks.kinds.count import threshold
from wms.tasks.service import list_tasks

bp = Blueprint("tasks_pages", __name__, template_folder="templates")

#: what separates bin codes typed into the form: blanks, commas, semicolons, new lines
_SEPARATORS = re.compile(r"[\s,;]+")


class ActionForm(FlaskForm):
    """No fields: the CSRF token of a form whose fields the view reads itself."""


@bp.get("/counts")
@roles_required(*MANAGERS)
def counts_page():
    user = current_staff()
    on_floor = [task for status in ("open", "in_progress") for task in list_tasks(user, kind="count", status=status)]
    return render_template(
        "tasks/counts.html",
        waiting=counts.counts_waiting(user),
        on_floor=sorted(on_floor, key=lambda task: task["id"]),
        locations=visible_locations(user),
        threshold=threshold(),
        form=ActionForm(),
    )


def _checked_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.post("/counts/open")
@roles_required(*MANAGERS)
def open_counts():
    _checked_form()
    location = request.form.get("location", "").strip()
    bins = [code for code in _SEPARATORS.split(request.form.get("bins", "")) if code]
    if not bins:
        flash(_("Name the bins to count."), "error")
        return redirect(url_for("tasks_pages.counts_page"), 303)
    opened = counts.open_counts(location, bins, actor=current_staff().username)["tasks"]
    flash(
        _(
            "%(n)s count task(s) open at %(location)s: %(bins)s.",
            n=len(set(opened)),
            location=location,
            bins=", ".join(dict.fromkeys(bins)),
        ),
        "success",
    )
    return redirect(url_for("tasks_pages.counts_page"), 303)


@bp.post("/counts/<int:task_id>/approve")
@roles_required(*MANAGERS)
def approve(task_id: int):
    _checked_form()
    task = counts.approve_count(task_id, current_staff())
    flagged = task["reference"].get("flagged_orders") or []
    if flagged:
        message = _(
            "Count %(id)s of %(bin)s booked. Orders flagged: %(orders)s.",
            id=task_id,
            bin=task["reference"]["bin"],
            orders=", ".join(f"#{order}" for order in flagged),
        )
    else:
        message = _("Count %(id)s of %(bin)s booked.", id=task_id, bin=task["reference"]["bin"])
    flash(message, "success")
    back = safe_next(request.form.get("next"))  # the exceptions page sends its own address
    return redirect(back or url_for("tasks_pages.counts_page"), 303)


@bp.post("/counts/<int:task_id>/recount")
@roles_required(*MANAGERS)
def recount(task_id: int):
    _checked_form()
    new = counts.recount(task_id, current_staff())
    flash(
        _(
            "Count %(id)s cancelled; bin %(bin)s is to be counted again (task %(new)s).",
            id=task_id,
            bin=new["reference"]["bin"],
            new=new["id"],
        ),
        "success",
    )
    return redirect(url_for("tasks_pages.counts_page"), 303)
