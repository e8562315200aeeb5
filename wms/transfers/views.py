"""The transfers page (managers and admins): send stock from one location to another, and follow every transfer
(requested, picking, packed, in transit, received, with the variance its receiving found).

Thin views: check the form, call one service function, render.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from wms.auth.access import MANAGERS, roles_required
from wms.auth.current import current_staff
from wms.auth.service import visible_locations
from wms.errors import InsufficientStock, NotFound, ValidationError
from wms.tables import Column, Spec, table, tables_or_csv
from wms.transfers.replenishment import min_max_rows, remove_min_max, set_min_max, suggestions, transfers_from
from wms.transfers.rules import parse_lines
from wms.transfers.service import create_transfer, find_transfers, transfer_view

bp = Blueprint("transfers", __name__, template_folder="templates")


class ActionForm(FlaskForm):
    """No fields: the CSRF token of a form whose fields the view reads itself."""


def _transfer_row(view: dict) -> dict:
    items = "; ".join(f"{x['sku']} {x['shipped']}/{x['received']}/{x['damaged']} of {x['qty']}" for x in view["lines"])
    return {**view, "items": items}


def _transfers_spec(only_open: bool) -> Spec:
    return Spec(
        "transfers",
        (
            Column("id", _l("Transfer"), numeric=True),
            Column("from", _l("From")),
            Column("to", _l("To")),
            Column("status", _l("Status")),
            Column("order_id", _l("For order"), numeric=True),
            Column("items", _l("Items: shipped / received / damaged of asked")),
            Column("variance", _l("Variance")),
            Column("created_at", _l("Made")),
        ),
        lambda: [
            _transfer_row(transfer_view(t))
            for t in find_transfers(current_staff(), status="open" if only_open else None)
        ],
        "-id",
    )


@bp.get("/transfers")
@roles_required(*MANAGERS)
def transfers_page():
    status = request.args.get("status") or None
    shown = tables_or_csv([_transfers_spec(status == "open")])
    if isinstance(shown, Response):
        return shown
    return render_template(
        "transfers/transfers.html",
        transfers=shown["transfers"],
        locations=visible_locations(current_staff()),
        form=ActionForm(),
        typed={"from": "", "to": "", "lines": ""},
        only_open=status == "open",
    )


@bp.post("/transfers")
@roles_required(*MANAGERS)
def new_transfer():
    if not ActionForm().validate_on_submit():
        abort(400)
    source, target, text = (request.form.get(key, "").strip() for key in ("from", "to", "lines"))
    lines, problems = parse_lines(text)
    if not problems and not lines:
        problems = [_("Name at least one product: one row per sku, e.g. KT-1001 5.")]
    if not problems:
        try:
            transfer = create_transfer(source, target, lines, current_staff().username, "web")
        except ValidationError as exc:
            problems = [f"{d['field']}: {d['message']}" for d in exc.details]
        except InsufficientStock as exc:
            problems = [
                _("%(sku)s: %(requested)s asked, %(available)s available at %(source)s", source=source, **d)
                for d in exc.details
            ]
        else:
            flash(
                _(
                    "Transfer %(id)s requested: reserved at %(source)s, picked with the next wave.",
                    id=transfer.id,
                    source=source,
                ),
                "success",
            )
            return redirect(url_for("transfers.transfers_page"), 303)
    for problem in problems:
        flash(problem, "error")
    return render_template(
        "transfers/transfers.html",
        transfers=table(_transfers_spec(False)),
        locations=visible_locations(current_staff()),
        form=ActionForm(),
        typed={"from": source, "to": target, "lines": text},
        only_open=False,
    ), 422


# --- replenishment ------------------------------------------------------------------------------------------------


def _replenishment_specs(location: str | None, rows: list[dict]) -> list[Spec]:
    """The suggestions (the ones to act on) and the min/max rules, as tables."""
    return [
        Spec(
            "suggestions",
            (
                Column("sku", _l("Product")),
                Column("source", _l("From")),
                Column("location", _l("To")),
                Column("qty", _l("Qty"), numeric=True),
                Column("projected", _l("Has and coming"), numeric=True),
                Column("min_qty", _l("Min"), numeric=True),
                Column("max_qty", _l("Max"), numeric=True),
            ),
            lambda: [{**asdict(s), "rank": i} for i, s in enumerate(suggestions(location, rows))],
            "rank",
        ),
        Spec(
            "rules",
            (
                Column("location", _l("Location")),
                Column("sku", _l("Product")),
                Column("name", _l("Name")),
                Column("available", _l("Available"), numeric=True),
                Column("incoming", _l("Coming"), numeric=True),
                Column("min", _l("Min"), numeric=True),
                Column("max", _l("Max"), numeric=True),
                Column("below", _l("Below min")),
            ),
            lambda: rows,
            "location",
        ),
    ]


@bp.get("/replenishment")
@roles_required(*MANAGERS)
def replenishment_page():
    location = request.args.get("location") or None
    rows = min_max_rows(location)
    lists = tables_or_csv(_replenishment_specs(location, rows))
    if isinstance(lists, Response):
        return lists
    return render_template(
        "transfers/replenishment.html",
        rules=lists["rules"],
        rules_total=len(rows),
        suggested=lists["suggestions"],
        locations=visible_locations(current_staff()),
        location=location,
        form=ActionForm(),
    )


@bp.post("/replenishment/rules")
@roles_required(*MANAGERS)
def save_rule():
    if not ActionForm().validate_on_submit():
        abort(400)
    location, sku = request.form.get("location", "").strip(), request.form.get("sku", "").strip()
    if request.form.get("remove"):
        remove_min_max(location, sku)
        flash(_("%(sku)s is no longer kept at %(location)s.", sku=sku, location=location), "success")
        return redirect(url_for("transfers.replenishment_page"), 303)
    try:
        levels = [int(request.form.get(name, "").strip()) for name in ("min", "max")]
    except ValueError:
        flash(_("Min and max are whole numbers."), "error")
        return redirect(url_for("transfers.replenishment_page"), 303)
    try:
        set_min_max(location, sku, levels[0], levels[1], current_staff().username)
    except (ValidationError, NotFound) as exc:
        flash(exc.message, "error")
        return redirect(url_for("transfers.replenishment_page"), 303)
    flash(
        _(
            "%(sku)s at %(location)s: min %(min)s, max %(max)s.",
            sku=sku,
            location=location,
            min=levels[0],
            max=levels[1],
        ),
        "success",
    )
    return redirect(url_for("transfers.replenishment_page"), 303)


@bp.post("/replenishment/transfers")
@roles_required(*MANAGERS)
def transfers_from_suggestions():
    if not ActionForm().validate_on_submit():
        abort(400)
    chosen = []
    for value in request.form.getlist("pick"):
        parts = value.split("|")
        if len(parts) == 4 and parts[3].isdigit():
            chosen.append({"sku": parts[0], "to": parts[1], "from": parts[2], "qty": int(parts[3])})
    if not chosen:
        flash(_("Choose at least one suggestion."), "error")
        return redirect(url_for("transfers.replenishment_page"), 303)
    made, problems = transfers_from(chosen, current_staff().username)
    for problem in problems:
        flash(problem, "error")
    if made:
        flash(_("Transfers requested: %(ids)s.", ids=", ".join(f"#{i}" for i in made)), "success")
    return redirect(
        url_for("transfers.transfers_page") if made and not problems else url_for("transfers.replenishment_page"), 303
    )
