"""Read models of orders for sales channels: an order by external id, and the paged list of changed orders.

The list is read from the order history (``order_event``): every change of an order's status appends an event
in the transaction that makes it. On PostgreSQL event ids are not handed out in commit order, so "id > cursor"
could skip an event committed late with a lower id. As with the availability change feed
(``wms.channels.availability``), every event records the id of its writing transaction (``txid``, the column's
default), and readers take only events of transactions older than the oldest one still running: the set of
events below that horizon is final and is read in (txid, id) order without gaps. The cursor is the (txid, id)
of the last event consumed. On SQLite writers are serialised, txid is 0 and id order is commit order.

An order changed after a page was read has a new event past every cursor handed out before that change
committed, so it comes again on a later page, with its figures as they are then.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from wms.channels.availability import Position, decode_cursor, encode_cursor
from wms.errors import ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import ORDER_STATUSES, Order
from wms.orders.service import order_view_loads

#: most events one page reads, so that a long history of orders the filters leave out cannot make one request
#: scan all of it (the page is then shorter than ``limit``; ``next`` moves on)
MAX_EVENTS_PER_PAGE = 50_000
MAX_LIMIT = 1000

_EVENT_ROWS = (
    'SELECT e.txid, e.id, e.order_id, o.status, o.updated_at FROM order_event e JOIN "order" o ON o.id = e.order_id '
)
_EVENTS_AFTER = {
    # Only events of transactions older than every running one: those are final (see the module docstring).
    "postgresql": text(
        _EVENT_ROWS + "WHERE (e.txid, e.id) > (:txid, :id) AND e.txid < txid_snapshot_xmin(txid_current_snapshot()) "
        "AND o.channel_id = :channel ORDER BY e.txid, e.id LIMIT :n"
    ),
    # SQLite: txid is always 0 and id order is commit order; by rowid.
    "sqlite": text(_EVENT_ROWS + "WHERE e.id > :id AND o.channel_id = :channel ORDER BY e.id LIMIT :n"),
}


def find_by_external_id(channel_id: int, external_id: str) -> list[Order]:
    """This channel's order with ``external_id``, as a list of at most one. Reads only; raises nothing."""
    order_id = db.session.execute(
        select(Order.id).where(Order.channel_id == channel_id, Order.external_id == external_id)
    ).scalar_one_or_none()
    return load_orders([order_id] if order_id is not None else [])


def changed_orders(
    channel_id: int,
    *,
    status: str | None = None,
    updated_after: datetime | str | None = None,
    limit: int | str = 100,
    after: str | None = None,
) -> tuple[list[Order], str]:
    """One page of this channel's orders, oldest change first, and the cursor of the next page.

    An order is on the page when it changed after the cursor (``after``; none: from the beginning) and, as it is
    now, has ``status`` and was updated after ``updated_after`` (when given). Each order at most once per page;
    the cursor is always given (``after`` itself when nothing new is final yet). ``limit`` and ``updated_after``
    may be given as the query string has them. Raises ValidationError naming every invalid one of ``status``,
    ``updated_after``, ``limit`` and ``after``. Reads only; locks nothing.
    """
    errors = []
    if status is not None and status not in ORDER_STATUSES:
        errors.append({"field": "status", "message": "must be one of " + ", ".join(ORDER_STATUSES)})
    if isinstance(updated_after, str):
        updated_after = _parse_time(updated_after)
        if updated_after is None:
            errors.append({"field": "updated_after", "message": "must be an ISO 8601 time, e.g. 2026-12-01T08:00:00Z"})
    if updated_after is not None and updated_after.tzinfo is None:
        updated_after = updated_after.replace(tzinfo=UTC)  # times without a zone are UTC, as the API gives them
    if isinstance(limit, str):
        limit = int(limit) if _LIMIT.fullmatch(limit) else 0
    if not 1 <= limit <= MAX_LIMIT:
        errors.append({"field": "limit", "message": f"must be a whole number from 1 to {MAX_LIMIT}"})
    position: Position = (0, 0)
    try:
        position = decode_cursor(after)
    except ValidationError as exc:
        errors.extend(exc.details)
    if errors:
        raise ValidationError(errors)
    order_ids, position = _read_events(channel_id, position, limit, status, updated_after)
    return load_orders(order_ids), encode_cursor(position)


_LIMIT = re.compile(r"[0-9]{1,9}")


def _parse_time(value: str) -> datetime | None:
    # ASCII only: fromisoformat would take other digits (Unicode "²" is not a time anyone sent on purpose).
    if not value.isascii() or not 10 <= len(value) <= 40:
        return None
    try:
        return datetime.fromisoformat(value.upper())  # RFC 3339 allows a lower-case "t" and "z"
    except ValueError:
        return None


def _read_events(
    channel_id: int, after: Position, limit: int, status: str | None, updated_after: datetime | None
) -> tuple[list[int], Position]:
    """Ids of orders with events after ``after`` that pass the filters, each once, in event order, at most
    ``limit``; and the position of the last event consumed. Events are consumed up to the first one of an order
    beyond ``limit``, so the next read from the returned position misses nothing."""
    session = db.session
    stmt = _EVENTS_AFTER[session.get_bind().dialect.name]
    batch = min(max(2 * limit, 500), 10_000)
    seen: dict[int, None] = {}
    position = after
    scanned = 0
    while True:
        rows = session.execute(stmt, {"channel": channel_id, "txid": position[0], "id": position[1], "n": batch}).all()
        for txid, event_id, order_id, order_status, updated_at in rows:
            if order_id not in seen and _passes(order_status, updated_at, status, updated_after):
                if len(seen) >= limit:
                    return list(seen), position
                seen[order_id] = None
            position = (txid, event_id)
        scanned += len(rows)
        if len(rows) < batch or scanned >= MAX_EVENTS_PER_PAGE:
            return list(seen), position


def _passes(order_status: str, updated_at: datetime | str, status: str | None, updated_after: datetime | None) -> bool:
    if status is not None and order_status != status:
        return False
    if updated_after is None:
        return True
    if isinstance(updated_at, str):  # SQLite through text(): the stored ISO text
        updated_at = datetime.fromisoformat(updated_at)
    if updated_at.tzinfo is None:  # SQLite keeps UTC without a zone
        updated_at = updated_at.replace(tzinfo=UTC)
    return updated_at > updated_after


def load_orders(order_ids: list[int]) -> list[Order]:
    """The orders with these ids, in this order, each with what ``order_view`` shows loaded: five queries for a
    page, whatever its length. Reads only."""
    if not order_ids:
        return []
    session = db.session
    orders = {
        order.id: order
        for order in session.execute(
            select(Order).options(*order_view_loads()).where(Order.id.in_(order_ids))
        ).scalars()
    }
    wanted = {r.location_id for o in orders.values() for line in o.lines for r in line.reservations}
    wanted |= {o.pickup_location_id for o in orders.values() if o.pickup_location_id is not None}
    codes: dict[Any, str] = {}
    if wanted:
        codes = dict(session.execute(select(Location.id, Location.code).where(Location.id.in_(wanted))).all())
    for order in orders.values():
        order.known_location_codes = codes
    return [orders[i] for i in order_ids if i in orders]
