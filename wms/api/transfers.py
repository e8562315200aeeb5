"""Transfers (docs/api.md, "Store endpoints"): a manager or an integration sends stock from one location to
another; a clerk of either end follows it. Shipping (``POST /shipments`` with ``transfer_id``) and receiving (a
``transfer_receive`` task) go through the floor endpoints."""

from __future__ import annotations

from flask import g, request

from wms.api import bp, check_path, parse_body, parse_no_body, require
from wms.api.actors import api_actor, api_device
from wms.api.integration import LOCATION_CODE_MAX, SKU_MAX
from wms.api.schemas import MinMaxIn, TransferIn
from wms.enums import values
from wms.errors import NotFound, ValidationError
from wms.params import query_int
from wms.transfers.models import TransferStatus
from wms.transfers.replenishment import min_max_rows, remove_min_max, set_min_max
from wms.transfers.service import MAX_TRANSFER_ID, create_transfer, find_transfers, get_transfer, transfer_view

READERS = ("picker", "clerk", "manager", "admin")
STATUS_FILTERS = ("open", *values(TransferStatus))


@bp.post("/transfers")
@require("integration", staff_roles=("manager", "admin"))
def post_transfer():
    body = parse_body(TransferIn)
    transfer = create_transfer(
        body.from_, body.to, [line.model_dump() for line in body.lines], api_actor(), api_device()
    )
    return transfer_view(transfer), 201


@bp.get("/transfers")
@require("integration", staff_roles=READERS)
def list_transfers():
    """``?order_id=`` (the pickup order a transfer brings), ``?location=`` (either end), ``?status=`` (``open``:
    not yet received): ``{"items": [...]}``, newest first, the ones the caller may see."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUS_FILTERS:
        raise ValidationError.one("status", f"one of {', '.join(STATUS_FILTERS)}")
    order_id = query_int("order_id", minimum=1, maximum=MAX_TRANSFER_ID)
    items = find_transfers(g.get("user"), order_id, request.args.get("location") or None, status)
    return {"items": [transfer_view(t) for t in items]}


@bp.get("/transfers/<int:transfer_id>")
@require("integration", staff_roles=READERS)
def read_transfer(transfer_id: int):
    return transfer_view(get_transfer(transfer_id, g.get("user")))


# --- min/max (replenishment) -------------------------------------------------------------------------------------


def _rule_view(row: dict) -> dict:
    return {k: row[k] for k in ("location", "sku", "min", "max", "available", "incoming", "projected", "below")}


@bp.get("/min-max")
@require("integration", staff_roles=("manager", "admin"))
def list_min_max():
    """``?location=``: ``{"items": [{location, sku, min, max, available, incoming, projected, below}]}``."""
    return {"items": [_rule_view(r) for r in min_max_rows(request.args.get("location") or None)]}


@bp.put("/min-max/<code>/<path:sku>")
@require("integration", staff_roles=("manager", "admin"))
def put_min_max(code: str, sku: str):
    body = parse_body(MinMaxIn, check_path({"location": (code, LOCATION_CODE_MAX)}, {"sku": (sku, SKU_MAX)}))
    set_min_max(code, sku, body.min, body.max, api_actor())
    (row,) = [r for r in min_max_rows(code) if r["sku"] == sku]
    return _rule_view(row)


@bp.delete("/min-max/<code>/<path:sku>")
@require("integration", staff_roles=("manager", "admin"))
def delete_min_max(code: str, sku: str):
    parse_no_body()
    if not remove_min_max(code, sku):
        raise NotFound(f"{sku} has no min/max at {code}", {"location": code, "sku": sku})
    return "", 204
