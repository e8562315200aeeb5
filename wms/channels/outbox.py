"""Writing to the transactional outbox. Delivery is done by ``wms worker`` (see ``wms.channels.webhooks``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Insert, insert, literal, select
from sqlalchemy.orm import Session

from wms.channels.models import OutboxEvent
from wms.timeutil import utcnow


def outbox_insert(
    event: str,
    subject_id: int | ColumnElement[int],
    channel_id: int | ColumnElement[int] | None = None,
    payload: Any = None,
    now: datetime | ColumnElement[datetime] | None = None,
) -> Insert:
    """The INSERT ... SELECT of one outbox row: what an event row is, stated once. Executed by :func:`emit`;
    order intake on PostgreSQL runs it as a CTE of its single statement, ``subject_id`` then being the new
    order's id from the CTE that inserted it (any value may be a column or a bind parameter)."""
    table = OutboxEvent.__table__
    c = table.c

    def value(given: Any, column: Any) -> ColumnElement[Any]:
        return given if isinstance(given, ColumnElement) else literal(given, column.type)

    return insert(table).from_select(
        ["event", "subject_id", "channel_id", "payload", "created_at"],
        select(
            value(event, c.event),
            value(subject_id, c.subject_id),
            value(channel_id, c.channel_id),
            value(payload, c.payload),
            value(utcnow() if now is None else now, c.created_at),
        ),
    )


def emit(session: Session, event: str, subject_id: int, channel_id: int | None = None, payload: Any = None) -> None:
    """Record that ``event`` happened to ``subject_id``, in the caller's transaction (so never lost, never early)."""
    session.connection().execute(outbox_insert(event, subject_id, channel_id, payload))


def emit_many(session: Session, event: str, subjects: list[tuple[int, int | None]], payload: Any = None) -> None:
    """:func:`emit` for many subjects at once (``[(subject id, channel id)]``), as one batched INSERT: a wave
    starts hundreds of orders. The rows are the ones :func:`outbox_insert` writes."""
    if not subjects:
        return
    now = utcnow()
    rows = [
        {"event": event, "subject_id": subject_id, "channel_id": channel_id, "payload": payload, "created_at": now}
        for subject_id, channel_id in subjects
    ]
    session.connection().execute(insert(OutboxEvent.__table__), rows)
