"""Channel availability endpoints (channel token): by sku, the change feed, the full feed."""

from __future__ import annotations

from flask import Response, current_app, g, request, stream_with_context

from wms.api import bp, parse_body, require
from wms.api.schemas import AvailabilityQueryIn
from wms.channels.availability import availability, changes, feed
from wms.errors import ValidationError
from wms.params import query_int


@bp.get("/availability")
@require("channel")
def get_availability():
    """``?sku=A&sku=B`` (1 to 100 skus): ``{"items": [...]}`` in request order, each sku once."""
    skus = request.args.getlist("sku")
    most = current_app.config["AVAILABILITY_MAX_GET_SKUS"]
    if not 1 <= len(skus) <= most:
        raise ValidationError.one("sku", f"give 1 to {most} skus (?sku=A&sku=B), or POST /availability/query")
    if any(not sku or len(sku) > 64 for sku in skus):
        raise ValidationError.one("sku", "a sku is 1 to 64 characters")
    principal = g.principal
    return {"items": availability(principal.channel_id, principal.channel_buffer, skus)}


@bp.post("/availability/query")
@require("channel")
def query_availability():
    """``{"skus": [...]}`` (1 to 1,000 skus): the same answer as ``GET /availability``."""
    body = parse_body(AvailabilityQueryIn)
    principal = g.principal
    return {"items": availability(principal.channel_id, principal.channel_buffer, body.skus)}


@bp.get("/availability/changes")
@require("channel")
def get_changes():
    """``?after=<cursor>&limit=<1..1000, default 100>``: ``{"changes": [...], "next": "<cursor>"}``."""
    limit = query_int("limit", minimum=1, maximum=1000, default=100)
    principal = g.principal
    return changes(principal.channel_id, principal.channel_buffer, request.args.get("after"), limit)


@bp.get("/availability/feed")
@require("channel")
def get_feed():
    """Every product's availability for this channel, streamed.

    Default (``?format=ndjson``): ``application/x-ndjson``, one item per line, the same item as
    ``GET /availability``. ``?format=csv``: ``text/csv`` with the header ``sku,available,locations,pickup``;
    ``locations`` lists every location holding a stock level as ``CODE:available`` joined by ``;`` (warehouses
    first), ``pickup`` the same for the locations where customers can collect (e.g. ``WH1:10;ST1:2`` and
    ``ST1:2``). Ordered by product creation. A text cell that would start a spreadsheet formula (``=``, ``+``,
    ``-``, ``@``, tab, CR) gets a leading ``'`` (``wms.csvcells``).
    """
    fmt = request.args.get("format", "ndjson")
    principal = g.principal
    chunks = feed(principal.channel_id, principal.channel_buffer, fmt)
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(stream_with_context(chunks), mimetype=mimetype)
