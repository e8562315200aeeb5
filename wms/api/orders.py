"""Channel order endpoints (channel token): place, find, list, read, cancel."""

from __future__ import annotations

from flask import g, request

from wms.api import bp, parse_body, parse_no_body, require
from wms.api.actors import api_actor, api_device
from wms.api.schemas import OrderIn
from wms.errors import ValidationError
from wms.orders.models import Order
from wms.orders.queries import changed_orders, find_by_external_id
from wms.orders.service import get_order, order_view, place_order
from wms.tasks.kinds.pick import cancel_order_and_work

#: longest external id an order can have
EXTERNAL_ID_MAX = Order.__table__.c.external_id.type.length


@bp.post("/orders")
@require("channel")
def post_order():
    body = parse_body(OrderIn)
    order, created = place_order(
        g.principal.channel_id,
        body.model_dump(mode="json"),
        actor=api_actor(),
        buffer=g.principal.channel_buffer,
        device=api_device(),
    )
    return order_view(order if created else get_order(order.id)), 201 if created else 200


@bp.get("/orders")
@require("channel")
def list_orders():
    """``?external_id=X``: ``{"items": [the order]}`` (empty when this channel has none with that id).
    Otherwise ``?status=&updated_after=&limit=&after=``: ``{"items": [...], "next": "<cursor>"}``, this channel's
    orders, oldest change first, each order as ``GET /orders/{id}`` shows it."""
    args = request.args
    channel_id = g.principal.channel_id
    if "external_id" in args:
        external_id = args["external_id"]
        if not 1 <= len(external_id) <= EXTERNAL_ID_MAX:
            raise ValidationError.one("external_id", f"must be 1 to {EXTERNAL_ID_MAX} characters")
        return {"items": [order_view(o) for o in find_by_external_id(channel_id, external_id)]}
    orders, cursor = changed_orders(
        channel_id,
        status=args.get("status"),
        updated_after=args.get("updated_after"),
        limit=args.get("limit", "100"),
        after=args.get("after"),
    )
    return {"items": [order_view(o) for o in orders], "next": cursor}


@bp.get("/orders/<int:order_id>")
@require("channel")
def read_order(order_id: int):
    return order_view(get_order(order_id, channel_id=g.principal.channel_id))


@bp.post("/orders/<int:order_id>/cancel")
@require("channel")
def post_cancel(order_id: int):
    parse_no_body()
    order = cancel_order_and_work(order_id, channel_id=g.principal.channel_id, actor=api_actor(), device=api_device())
    return order_view(order)
