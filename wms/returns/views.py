"""The returns page (managers and admins): returned units waiting in quarantine, each with Restock and Scrap,
and the newest returns with their status and what came in.

Thin views: check the form, call one service function, render.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from wms.auth.access import MANAGERS, roles_required
from wms.auth.current import current_staff
from wms.auth.models import User
from wms.returns.queries import find_returns
from wms.returns.service import decide_quarantined, quarantined, return_view
from wms.tables import Column, Spec, tables_or_csv

bp = Blueprint("returns", __name__, template_folder="templates")


class ActionForm(FlaskForm):
    """No fields: the CSRF token of a form whose fields the view reads itself."""


@bp.get("/returns")
@roles_required(*MANAGERS)
def returns_page():
    lists = tables_or_csv(_specs(current_staff()))
    if isinstance(lists, Response):
        return lists
    waiting, recent = lists["quarantine"], lists["returns"]
    return render_template("returns/returns.html", waiting=waiting, recent=recent, form=ActionForm())


def _return_row(view: dict) -> dict:
    items = "; ".join(f"{line['sku']} {line['received']}/{line['qty']}" for line in view["lines"])
    return {**view, "items": items}


def _specs(user: User) -> list[Spec]:
    """The page's tables: units waiting in quarantine, and the returns."""
    return [
        Spec(
            "quarantine",
            (
                Column("rma", _l("Return")),
                Column("sku", _l("Product")),
                Column("name", _l("Name")),
                Column("qty", _l("Qty"), numeric=True),
                Column("grade", _l("Grade")),
                Column("location", _l("Location")),
                Column("bin", _l("Bin")),
            ),
            quarantined,
            "item",  # oldest first until sorted
        ),
        Spec(
            "returns",
            (
                Column("rma", _l("Return")),
                Column("order_id", _l("Order"), numeric=True),
                Column("status", _l("Status")),
                Column("location", _l("Expected at")),
                Column("items", _l("Items")),
                Column("refund_due", _l("Refund due"), numeric=True),
                Column("id", _l("Opened"), numeric=True, export=False),
            ),
            lambda: [_return_row(return_view(ret)) for ret in find_returns(user)],
            "-id",
        ),
    ]


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
