"""``wms worker``: turns the transactional outbox into webhook deliveries and delivers them (at least once).

Three stages, each a short transaction of its own, so that several workers can run side by side (rows are
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers anyway):

1. :func:`dispatch_events` fans ``OutboxEvent`` rows (``order.updated``, ``return.updated``) out into one
   ``WebhookDelivery`` per subscribed webhook of the event's channel, with the body frozen at that moment.
2. :func:`dispatch_availability` reads the ``stock_change`` log after the worker's own cursor (the change feed's
   horizon rule, see ``wms.channels.availability``) and makes one ``availability.changed`` delivery per changed
   product per subscribed webhook; the cursor moves in the same transaction as the deliveries are inserted.
3. :func:`deliver_due` claims due deliveries, leases them (``next_attempt_at`` pushed past the send timeout and
   committed before sending, so a worker that dies mid-send leaves them to be retried), POSTs them, and records
   delivered / failed-with-backoff.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wms.channels.availability import items_for_products, log_end, read_log
from wms.channels.models import Channel, OutboxEvent, Webhook, WebhookDelivery, WorkerCursor
from wms.channels.subjects import view_for
from wms.channels.webhooks import SendResult, backoff_delay, post, sign
from wms.errors import NotFound
from wms.stages import Stage
from wms.timeutil import isoformat, utcnow
from wms.uow import is_postgres, unit_of_work

log = logging.getLogger(__name__)

AVAILABILITY_EVENT = "availability.changed"
#: name of the availability stage's row in ``worker_cursor``
AVAILABILITY_CURSOR = "webhooks.availability"
#: outbox events per dispatch transaction
DISPATCH_BATCH = 200
#: distinct changed products per availability transaction
AVAILABILITY_BATCH = 500
#: deliveries claimed per delivery round
DELIVERY_BATCH = 32
#: concurrent POSTs of one delivery round (one slow receiver must not hold up the others)
SEND_THREADS = 8
#: extra seconds of lease beyond the send timeouts
LEASE_MARGIN = 5.0
#: first retry waits about this many seconds; each further one doubles it (capped at WEBHOOK_MAX_BACKOFF)
BACKOFF_BASE = 2.0


# --- 1. outbox events -> deliveries ---------------------------------------------------------------------------


def delivery_body(event_uid: str, event: str, at: datetime, data: Any) -> str:
    """The exact body of a delivery: ``{"id", "event", "at", "data"}``; stored, so every retry sends these bytes."""
    return json.dumps(
        {"id": event_uid, "event": event, "at": isoformat(at), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def _delivery_row(webhook_id: int, event: str, at: datetime, data: Any) -> dict[str, Any]:
    uid = str(uuid.uuid4())
    return {
        "webhook_id": webhook_id,
        "event_uid": uid,
        "event": event,
        "body": delivery_body(uid, event, at, data),
        "next_attempt_at": utcnow(),
    }


def _skip_locked(query):
    # Several workers: each claims rows no other worker holds. SQLite has no row locks (BEGIN IMMEDIATE
    # serialises the writers instead).
    return query.with_for_update(skip_locked=True) if is_postgres() else query


def dispatch_events(limit: int = DISPATCH_BATCH) -> int:
    """Turn up to ``limit`` undispatched outbox events into deliveries; returns how many were dispatched.

    Claims the events (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), freezes each body with the subject as it is
    now, inserts the deliveries and marks the events dispatched, in one transaction. Events of a batch about
    the same subject for the same webhook become one delivery (their data would be identical).
    """
    with unit_of_work() as session:
        events = list(
            session.execute(
                _skip_locked(
                    select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)).order_by(OutboxEvent.id).limit(limit)
                )
            ).scalars()
        )
        if not events:
            return 0
        hooks = _subscribers(session, {e.event for e in events}, {e.channel_id for e in events})
        rows: list[dict[str, Any]] = []
        seen: set[tuple[int, str, int]] = set()
        data_cache: dict[tuple[str, int], Any] = {}
        now = utcnow()
        dispatched = 0
        for event in events:
            targets = [
                h
                for h in hooks
                if event.event in h.events and (event.channel_id is None or h.channel_id == event.channel_id)
            ]
            key = (event.event, event.subject_id)
            if targets and key not in data_cache:
                try:
                    data_cache[key] = _subject_data(session, event)
                except _NotYet:
                    continue
            event.dispatched_at = now
            dispatched += 1
            for hook in targets:
                if data_cache[key] is None or (hook.id, *key) in seen:
                    continue
                seen.add((hook.id, *key))
                rows.append(_delivery_row(hook.id, event.event, event.created_at or now, data_cache[key]))
        if rows:
            session.execute(insert(WebhookDelivery), rows)
        return dispatched


class _NotYet(Exception):
    """The event's data could not be made now: leave the event for a later round."""


def _subject_data(session: Session, event: OutboxEvent) -> Any:
    view = view_for(event.event)
    if view is None:
        return event.payload if event.payload is not None else {"id": event.subject_id}
    try:
        return view(session, event.subject_id)
    except NotFound:
        log.warning("outbox event %s: %s %s no longer exists", event.id, event.event, event.subject_id)
        return None
    except Exception as exc:
        # One event whose view fails must not hold up the others behind it; it is tried again next round.
        log.exception("outbox event %s: cannot make the data of %s %s", event.id, event.event, event.subject_id)
        raise _NotYet() from exc


def _subscribers(session: Session, events: set[str], channel_ids: set[int | None]) -> list[Webhook]:
    query = select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)
    if None not in channel_ids:
        query = query.where(Webhook.channel_id.in_(channel_ids))
    return [h for h in session.execute(query).scalars() if events & set(h.events)]


# --- 2. stock change log -> availability.changed deliveries -----------------------------------------------------


def claim_cursor(session: Session, name: str, wait: bool = False) -> WorkerCursor | None:
    """Lock a stage's cursor row ``name`` (creating it at the start of its log); None when another worker holds it
    (``SKIP LOCKED`` on PostgreSQL; ``wait=True`` waits for it instead; SQLite serialises writers anyway)."""
    query = select(WorkerCursor).where(WorkerCursor.name == name)
    locked = query.with_for_update(skip_locked=not wait) if is_postgres() else query
    cursor = session.execute(locked).scalar_one_or_none()
    if cursor is not None:
        return cursor
    if session.execute(select(WorkerCursor.name).where(WorkerCursor.name == name)).first() is not None:
        return None  # it exists: another worker holds it
    dialect_insert = postgresql.insert if is_postgres() else sqlite.insert
    session.execute(
        dialect_insert(WorkerCursor)
        .values(name=name, txid=0, seq=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return session.execute(locked).scalar_one_or_none()


def dispatch_availability(max_products: int = AVAILABILITY_BATCH) -> int:
    """Make ``availability.changed`` deliveries for products changed since the worker's cursor; returns how many
    products were handled (0 when nothing new is final, or another worker holds the cursor).

    Per webhook subscribed to the event, one delivery per changed product (changes of a product within the
    batch are coalesced), ``data`` being that channel's availability item now. The cursor row is locked
    (``SKIP LOCKED``) and moved in the same transaction as the deliveries are inserted.
    """
    with unit_of_work() as session:
        cursor = claim_cursor(session, AVAILABILITY_CURSOR)
        if cursor is None:
            return 0
        conn = session.connection()
        hooks = _subscribers(session, {AVAILABILITY_EVENT}, {None})
        if not hooks:
            # Nobody listens: skip to the end of the log, so that a webhook registered later hears of changes
            # from then on instead of the whole history.
            end = log_end(conn)
            if end > (cursor.txid, cursor.seq):
                cursor.txid, cursor.seq = end
            return 0
        product_ids, position = read_log(conn, (cursor.txid, cursor.seq), max_products)
        if not product_ids:
            return 0
        buffers = dict(
            session.execute(
                select(Channel.id, Channel.buffer).where(Channel.id.in_({h.channel_id for h in hooks}))
            ).all()
        )
        now = utcnow()
        rows: list[dict[str, Any]] = []
        items_by_channel: dict[int, list[dict[str, Any]]] = {}
        for hook in hooks:
            if hook.channel_id not in items_by_channel:
                items_by_channel[hook.channel_id] = items_for_products(
                    conn, hook.channel_id, buffers.get(hook.channel_id, 0), product_ids
                )
            rows.extend(
                _delivery_row(hook.id, AVAILABILITY_EVENT, now, item) for item in items_by_channel[hook.channel_id]
            )
        if rows:
            session.execute(insert(WebhookDelivery), rows)
        cursor.txid, cursor.seq = position
        return len(product_ids)


# --- 3. delivering ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A delivery leased by this worker, with what is needed to send it outside any transaction."""

    id: int
    event_uid: str
    event: str
    body: str
    attempts: int
    url: str
    secret: str


def lease_seconds(count: int, timeout: float, threads: int = SEND_THREADS) -> float:
    """How long ``count`` claimed deliveries are held: every send of the round may take the full timeout."""
    return math.ceil(max(count, 1) / threads) * timeout + LEASE_MARGIN


def claim_due(limit: int = DELIVERY_BATCH, now: datetime | None = None) -> list[Claim]:
    """Claim up to ``limit`` due deliveries and lease them: their ``next_attempt_at`` is pushed past the time the
    sends may take and committed before anything is sent. Claims with ``SKIP LOCKED`` on PostgreSQL."""
    now = now or utcnow()
    timeout = float(current_app.config["WEBHOOK_TIMEOUT"])
    with unit_of_work() as session:
        query = (
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.failed_at.is_(None),
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
        if is_postgres():
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        rows = session.execute(query).all()
        if not rows:
            return []
        lease_until = now + timedelta(seconds=lease_seconds(len(rows), timeout))
        claims = []
        for delivery, hook in rows:
            if not hook.active:
                delivery.failed_at, delivery.last_error = now, "webhook removed"
                continue
            delivery.next_attempt_at = lease_until
            claims.append(
                Claim(
                    delivery.id,
                    delivery.event_uid,
                    delivery.event,
                    delivery.body,
                    delivery.attempts,
                    hook.url,
                    hook.secret,
                )
            )
    return claims


def send(claim: Claim, timeout: float, allow_private: bool) -> SendResult:
    """POST one claimed delivery, signed with its webhook's secret. Never raises."""
    body = claim.body.encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-WMS-Signature": sign(claim.secret, body),
        "X-WMS-Event": claim.event,
        "X-WMS-Delivery": claim.event_uid,
    }
    return post(claim.url, body, headers, timeout, allow_private)


def record_result(claim: Claim, result: SendResult, now: datetime | None = None) -> None:
    """Store the outcome of one send: delivered on a 2xx; else one more attempt, the error, and the next attempt
    after an exponential backoff with jitter (or ``failed_at`` once WEBHOOK_MAX_ATTEMPTS is reached, 0 = never)."""
    now = now or utcnow()
    config = current_app.config
    attempts = claim.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    if result.ok:
        values.update(delivered_at=now, last_error=None)
    else:
        values["last_error"] = (result.error or f"HTTP {result.status}")[:2000]
        delay = backoff_delay(attempts, config["WEBHOOK_MAX_BACKOFF"], config.get("WEBHOOK_BACKOFF_BASE", BACKOFF_BASE))
        values["next_attempt_at"] = now + timedelta(seconds=delay)
        max_attempts = int(config["WEBHOOK_MAX_ATTEMPTS"])
        if max_attempts and attempts >= max_attempts:
            values["failed_at"] = now
    with unit_of_work() as session:
        # Another worker may have sent it after our lease ran out: a delivery once delivered stays delivered.
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == claim.id, WebhookDelivery.delivered_at.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def deliver_due(limit: int = DELIVERY_BATCH, now: datetime | None = None) -> int:
    """Claim, lease, send and record up to ``limit`` due deliveries; returns how many were sent.

    The sends run concurrently (at most SEND_THREADS) outside any transaction; each outcome is recorded in a
    transaction of its own as soon as it is known.
    """
    claims = claim_due(limit, now)
    if not claims:
        return 0
    config = current_app.config
    timeout = float(config["WEBHOOK_TIMEOUT"])
    allow_private = bool(config["WEBHOOK_ALLOW_PRIVATE"])
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(claims)), thread_name_prefix="webhook") as pool:
        futures = {pool.submit(send, claim, timeout, allow_private): claim for claim in claims}
        for future in as_completed(futures):
            claim = futures[future]
            result = future.result()
            if not result.ok:
                log.info("webhook delivery %s to %s failed: %s", claim.id, claim.url, result.error)
            record_result(claim, result)
    return len(claims)


# --- the loop ---------------------------------------------------------------------------------------------------

#: this domain's stages of ``wms worker`` (see ``wms.worker``)
STAGES = [
    Stage("webhooks.events", dispatch_events, order=10),
    Stage("webhooks.availability", dispatch_availability, order=20),
    Stage("webhooks.deliver", deliver_due, order=30),
]
