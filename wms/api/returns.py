"""Returns (docs/api.md, "Returns" and "Store endpoints"): a channel opens a return for its customer and follows
it; a clerk opens one at the store counter and takes the units in; every change is a ``return.updated``
webhook. A picker or clerk sees the returns expected at their location (at a store: every return handed in at
any store); managers and admins all of them."""

from __future__ import annotations

from flask import Response, g, request

import labels
from wms.api import bp, parse_body, require, require_staff
from wms.api.actors import api_actor, api_device
from wms.api.schemas import ReturnIn, ReturnIntakeIn
from wms.params import query_int
from wms.returns.queries import find_returns
from wms.returns.service import MAX_RETURN_ID, get_return, label_data, receive_return, request_return, return_view

STAFF = ("clerk", "manager", "admin")


def _caller() -> dict:
    """Who asks, as the returns service takes it: a channel's id, or the staff user."""
    user = g.get("user")
    if user is not None:
        return {"user": user}
    return {"channel_id": g.principal.channel_id}


@bp.post("/returns")
@require("channel", staff_roles=STAFF)
def post_return():
    body = parse_body(ReturnIn)
    ret = request_return(
        body.order_id,
        body.method,
        [line.model_dump() for line in body.lines],
        store=body.store,
        actor=api_actor(),
        device=api_device(),
        **_caller(),
    )
    return return_view(ret), 201


@bp.get("/returns")
@require_staff()
def list_returns():
    """``?rma=`` (the scanned label) or ``?order_id=`` (neither: the newest): ``{"items": [...]}``, the returns
    the caller may see."""
    order_id = query_int("order_id", minimum=1, maximum=MAX_RETURN_ID)
    return {"items": [return_view(r) for r in find_returns(g.user, request.args.get("rma") or None, order_id)]}


@bp.get("/returns/<int:return_id>")
@require("channel", staff_roles=("picker", *STAFF))
def read_return(return_id: int):
    return return_view(get_return(return_id, **_caller()))


@bp.get("/returns/<int:return_id>/label.pdf")
@require("channel", staff_roles=("picker", *STAFF))
def return_label(return_id: int):
    """The ``return`` label as a PDF, for the customer to print and stick on the parcel."""
    ret = get_return(return_id, **_caller())
    pdf = labels.render("return", label_data(ret), "pdf")
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{ret.rma}.pdf"'},
    )


@bp.post("/returns/<int:return_id>/receive")
@require_staff("picker", *STAFF)
def post_return_receive(return_id: int):
    body = parse_body(ReturnIntakeIn)
    ret, _applied = receive_return(
        return_id, body.id, body.location, [line.model_dump() for line in body.lines], g.user, g.device
    )
    return return_view(ret)
