"""The returns page (managers and admins): returned units waiting in quarantine, each with Restock and Scrap,
and the newest returns with their status and what came in.

Thin views: check the form, call one service function, render.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from wms.auth.access import MANAGERS, roles_required
from wms.auth.current import current_staff
from wms.returns.queries import find_returns
from wms.returns.service import decide_quarantined, quarantined, return_view

bp = Blueprint("returns", __name__, template_folder="templates")


class ActionForm(FlaskForm):
    """No fields: the CSRF token of a form whose fields the view reads itself."""


@bp.get("/returns")
@roles_required(*MANAGERS)
def returns_page():
    user = current_staff()
    return render_template(
        "returns/returns.html",
        waiting=quarantined(),
        recent=[return_view(ret) for ret in find_returns(user)],
        form=ActionForm(),
    )


@bp.post("/returns/items/<int:item_id>/decide")
@roles_required(*MANAGERS)
def decide(item_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    decision = request.form.get("decision", "")
    ret = decide_quarantined(item_id, decision, current_staff())
    if decision == "restock":
        flash(_("Restocked: the units of %(rma)s are sellable again.", rma=ret.rma), "success")
    else:
        flash(_("Scrapped: the units of %(rma)s left stock.", rma=ret.rma), "success")
    return redirect(url_for("returns.returns_page"), 303)
