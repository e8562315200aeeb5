"""Reads of the managers' exceptions page: what waits for a manager, each with the action that resolves it. Orders
flagged by floor work (a short pick with nowhere else to pick from, a count that took reserved units, a transfer
that arrived short), counts over the threshold, print jobs that failed or whose outcome is unknown, webhooks
failing, transfers received with a variance. Reads only; no locks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from wms.channels.models import Channel, Webhook, WebhookDelivery
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order
from wms.printing.models import Printer, PrintJob
from wms.stock.checks import latest_check
from wms.stock.models import StockCheck
from wms.tasks.models import Task, TaskKind, TaskStatus
from wms.transfers.models import Transfer, TransferStatus

#: rows per list: the page is for acting on, not for history
LIMIT = 50
#: order statuses in which a flag still asks for something
_OPEN_ORDER = ("reserved", "in_transit", "picking", "packed", "ready_for_pickup")


@dataclass(frozen=True)
class Exceptions:
    flagged_orders: list[dict[str, Any]]
    counts: list[dict[str, Any]]
    print_jobs: list[dict[str, Any]]
    webhooks: list[dict[str, Any]]
    transfers: list[dict[str, Any]]
    #: the last scheduled stock check (None: none ran yet)
    check: StockCheck | None = None

    @property
    def total(self) -> int:
        drift = 1 if self.check is not None and self.check.drift else 0
        lists = (self.flagged_orders, self.counts, self.print_jobs, self.webhooks, self.transfers)
        return sum(len(x) for x in lists) + drift


def exceptions() -> Exceptions:
    return Exceptions(_flagged_orders(), _counts(), _print_jobs(), _webhooks(), _transfers(), latest_check())


def _flagged_orders() -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Order.id, Order.external_id, Order.status, Order.attention, Channel.code, Order.updated_at)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Order.attention.is_not(None), Order.status.in_(_OPEN_ORDER))
        .order_by(Order.updated_at, Order.id)
        .limit(LIMIT)
    ).all()
    return [
        {"id": i, "reference": ref, "status": st, "attention": att, "channel": ch, "at": at}
        for i, ref, st, att, ch, at in rows
    ]


def _counts() -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Task.id, Task.reference, Location.code, Task.updated_at)
        .join(Location, Location.id == Task.location_id)
        .where(Task.kind == TaskKind.COUNT, Task.status == TaskStatus.AWAITING_APPROVAL)
        .order_by(Task.id)
        .limit(LIMIT)
    ).all()
    return [{"id": i, "bin": (ref or {}).get("bin"), "location": loc, "at": at} for i, ref, loc, at in rows]


def _print_jobs() -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(PrintJob.id, PrintJob.kind, PrintJob.status, PrintJob.last_error, Printer.name, PrintJob.created_at)
        .join(Printer, Printer.id == PrintJob.printer_id)
        .where(PrintJob.status.in_(["failed", "unknown"]))
        .order_by(PrintJob.id.desc())
        .limit(LIMIT)
    ).all()
    return [
        {"id": i, "kind": kind, "status": st, "error": err, "printer": printer, "at": at}
        for i, kind, st, err, printer, at in rows
    ]


def _webhooks() -> list[dict[str, Any]]:
    """Active webhooks with deliveries not delivered after at least one failed attempt: how many, the last error."""
    failing = (
        select(
            WebhookDelivery.webhook_id,
            func.count(WebhookDelivery.id).label("waiting"),
            func.max(WebhookDelivery.attempts).label("attempts"),
            func.max(WebhookDelivery.id).label("last_id"),
        )
        .where(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.attempts > 0)
        .group_by(WebhookDelivery.webhook_id)
        .subquery()
    )
    last = aliased(WebhookDelivery)
    rows = db.session.execute(
        select(Webhook.id, Webhook.url, Channel.code, failing.c.waiting, failing.c.attempts, last.last_error)
        .join(failing, failing.c.webhook_id == Webhook.id)
        .join(Channel, Channel.id == Webhook.channel_id)
        .join(last, last.id == failing.c.last_id)
        .where(Webhook.active.is_(True))
        .order_by(failing.c.waiting.desc())
        .limit(LIMIT)
    ).all()
    return [
        {"id": i, "url": url, "channel": ch, "waiting": int(w), "attempts": int(a), "error": err}
        for i, url, ch, w, a, err in rows
    ]


def _transfers() -> list[dict[str, Any]]:
    source, target = aliased(Location), aliased(Location)
    rows = db.session.execute(
        select(Transfer.id, source.code, target.code, Transfer.variance, Transfer.received_at)
        .join(source, source.id == Transfer.from_location_id)
        .join(target, target.id == Transfer.to_location_id)
        .where(Transfer.status == TransferStatus.RECEIVED, Transfer.variance.is_not(None))
        .order_by(Transfer.id.desc())
        .limit(LIMIT)
    ).all()
    return [{"id": i, "from": s, "to": t, "variance": v, "at": at} for i, s, t, v, at in rows]
