"""Channel webhook endpoints (channel token): register, list, remove."""

from __future__ import annotations

from flask import current_app, g, request

from wms.api import bp, parse_body, require
from wms.api.schemas import WebhookIn
from wms.channels.webhooks import list_webhooks, register_webhook, remove_webhook, webhook_view
from wms.params import MAX_ID, query_int


@bp.put("/webhooks")
@require("channel")
def put_webhook():
    """Register a URL for events (201), or update the events and secret of a URL registered already (200)."""
    body = parse_body(WebhookIn)
    webhook, created = register_webhook(
        g.principal.channel_id,
        body.url,
        body.events,
        body.secret,
        allow_private=bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"]),
    )
    return webhook_view(webhook), 201 if created else 200


@bp.get("/webhooks")
@require("channel")
def get_webhooks():
    """``{"webhooks": [...]}``: this channel's webhooks, without their secrets."""
    return {"webhooks": [webhook_view(w) for w in list_webhooks(g.principal.channel_id)]}


@bp.delete("/webhooks")
@require("channel")
def delete_webhook():
    """``?url=<registered url>`` or ``?id=<id>``: stop the webhook and drop its pending deliveries (204)."""
    webhook_id = query_int("id", minimum=1, maximum=MAX_ID, blank_is_missing=True)
    remove_webhook(g.principal.channel_id, webhook_id=webhook_id, url=request.args.get("url"))
    return "", 204


@bp.delete("/webhooks/<int:webhook_id>")
@require("channel")
def delete_webhook_by_id(webhook_id: int):
    """Stop the webhook ``webhook_id`` of this channel (204)."""
    remove_webhook(g.principal.channel_id, webhook_id=webhook_id)
    return "", 204
