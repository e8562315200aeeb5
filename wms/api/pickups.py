"""The pickup counter (docs/api.md, "Store endpoints"): find a pickup order by its code, hand it over. A clerk
acts at their own store (another store's order answers 404); managers and admins everywhere."""

from __future__ import annotations

from flask import g, request

from wms.api import bp, parse_body, require_staff
from wms.api.schemas import HandoverIn
from wms.orders.service import MAX_ORDER_ID, order_view
from wms.params import query_int
from wms.pickups.service import find_pickup, find_pickup_by_order, hand_over

COUNTER = ("clerk", "manager", "admin")


@bp.get("/pickups")
@require_staff(*COUNTER)
def get_pickup():
    """``?code=``: the pickup order with that code (typed, or the customer's QR scanned) at the caller's store;
    without a code, ``?order=<number>&surname=<customer's surname>``."""
    args = request.args
    if not args.get("code") and args.get("order") and args.get("surname"):
        order_id = query_int("order", minimum=1, maximum=MAX_ORDER_ID)
        return order_view(find_pickup_by_order(order_id, args["surname"], g.user))
    return order_view(find_pickup(args.get("code", ""), g.user))


@bp.post("/orders/<int:order_id>/handover")
@require_staff(*COUNTER)
def post_handover(order_id: int):
    body = parse_body(HandoverIn)
    order, _applied = hand_over(order_id, body.id, [line.model_dump() for line in body.lines], g.user, g.device)
    return order_view(order)
