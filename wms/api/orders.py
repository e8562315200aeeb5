"""Channel order endpoints (channel token): place, read, cancel."""

from __future__ import annotations

from flask import g

from wms.api import bp, parse_body, parse_no_body, require
from wms.api.schemas import OrderIn
from wms.orders.service import cancel_order, get_order, order_view, place_order


@bp.post("/orders")
@require("channel")
def post_order():
    body = parse_body(OrderIn)
    order, created = place_order(
        g.principal.channel_id,
        body.model_dump(mode="json"),
        actor=g.principal.channel_code,
        buffer=g.principal.channel_buffer,
    )
    return order_view(order if created else get_order(order.id)), 201 if created else 200


@bp.get("/orders/<int:order_id>")
@require("channel")
def read_order(order_id: int):
    return order_view(get_order(order_id, channel_id=g.principal.channel_id))


@bp.post("/orders/<int:order_id>/cancel")
@require("channel")
def post_cancel(order_id: int):
    parse_no_body()
    order = cancel_order(order_id, channel_id=g.principal.channel_id, actor=g.principal.channel_code)
    return order_view(order)
