"""Writing to the transactional outbox. Delivery is done by ``wms worker`` (see ``wms.channels.webhooks``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from wms.channels.models import OutboxEvent
from wms.timeutil import utcnow


def emit(session: Session, event: str, subject_id: int, channel_id: int | None = None, payload: Any = None) -> None:
    """Record that ``event`` happened to ``subject_id``, in the caller's transaction (so never lost, never early)."""
    session.connection().execute(
        insert(OutboxEvent.__table__),
        [
            {
                "event": event,
                "subject_id": subject_id,
                "channel_id": channel_id,
                "payload": payload,
                "created_at": utcnow(),
            }
        ],
    )
