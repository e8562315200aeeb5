"""Reads of the managers' exceptions page: what waits for a manager, each with the action that resolves it. Orders
flagged by floor work (a short pick with nowhere else to pick from, a count that took reserved units, a transfer
that arrived short), counts over the threshold, print jobs that failed or whose outcome is unknown, webhooks
failing, channels whose change feed lags, transfers received with a variance. Each list is a table of
:mod:`wms.tables`; the home page's glance counts them. Reads only; no locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased

from wms.channels.availability import unread_changes
from wms.channels.models import Channel, ChannelFeedRead, Webhook, WebhookDelivery
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order
from wms.printing.models import Printer, PrintJob
from wms.stock.checks import latest_check
from wms.tables import Column, Spec
from wms.tasks.models import Task, TaskKind, TaskStatus
from wms.timeutil import as_utc, utcnow
from wms.transfers.models import Transfer, TransferStatus

#: order statuses in which a flag still asks for something
_OPEN_ORDER = ("reserved", "in_transit", "picking", "packed", "ready_for_pickup")
#: a channel lags when a change it has not read is older than this (setting ``WMS_FEED_LAG_MINUTES``)
DEFAULT_FEED_LAG_MINUTES = 15
#: unread changes counted per lagging channel (more shows as "over")
UNREAD_CAP = 10_000


def feed_lag() -> timedelta:
    return timedelta(minutes=float(current_app.config.get("FEED_LAG_MINUTES") or DEFAULT_FEED_LAG_MINUTES))


def specs(now: datetime | None = None) -> list[Spec]:
    """The exceptions page's tables, in page order."""
    now = now or utcnow()
    return [
        Spec(
            "orders",
            (
                Column("id", _l("Order"), numeric=True),
                Column("reference", _l("Reference")),
                Column("channel", _l("Channel")),
                Column("status", _l("Status")),
                Column("attention", _l("Why")),
                Column("at", _l("Since")),
            ),
            _flagged_orders(),
            "at",
        ),
        Spec(
            "counts",
            (
                Column("id", _l("Count"), numeric=True),
                Column("location", _l("Location")),
                Column("bin", _l("Bin")),
                Column("at", _l("Since")),
            ),
            _counts,
            "id",
        ),
        Spec(
            "jobs",
            (
                Column("id", _l("Job"), numeric=True),
                Column("kind", _l("Label")),
                Column("printer", _l("Printer")),
                Column("status", _l("Status")),
                Column("error", _l("Why")),
                Column("at", _l("Queued")),
            ),
            _print_jobs(),
            "-id",
        ),
        Spec(
            "hooks",
            (
                Column("channel", _l("Channel")),
                Column("url", _l("Address")),
                Column("waiting", _l("Waiting"), numeric=True),
                Column("attempts", _l("Tries"), numeric=True),
                Column("error", _l("Last error")),
            ),
            _webhooks(),
            "-waiting",
        ),
        Spec(
            "feeds",
            (
                Column("channel", _l("Channel")),
                Column("read_at", _l("Last read")),
                Column("oldest_unread", _l("Oldest unread change")),
                Column("unread", _l("Unread changes"), numeric=True),
            ),
            lambda: lagging_feeds(now),
            "oldest_unread",
        ),
        Spec(
            "transfers",
            (
                Column("id", _l("Transfer"), numeric=True),
                Column("from", _l("From")),
                Column("to", _l("To")),
                Column("variance", _l("Variance")),
                Column("at", _l("Received")),
            ),
            _transfers(),
            "-id",
        ),
    ]


@dataclass(frozen=True)
class Glance:
    """How many of each exception wait (the home page's glance); ``drift``: the last stock check found some."""

    flagged_orders: int
    counts: int
    print_jobs: int
    others: int
    drift: bool

    @property
    def total(self) -> int:
        return self.flagged_orders + self.counts + self.print_jobs + self.others + int(self.drift)


def _count(query: Select) -> int:
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def glance(now: datetime | None = None) -> Glance:
    """How many exceptions of each kind wait now (counted, not listed)."""
    now = now or utcnow()
    check = latest_check()
    others = _count(_webhooks()) + _count(_transfers()) + len(lagging_feeds(now))
    return Glance(_count(_flagged_orders()), len(_counts()), _count(_print_jobs()), others, bool(check and check.drift))


def _flagged_orders() -> Select:
    return (
        select(
            Order.id.label("id"),
            Order.external_id.label("reference"),
            Channel.code.label("channel"),
            Order.status.label("status"),
            Order.attention.label("attention"),
            Order.updated_at.label("at"),
        )
        .join(Channel, Channel.id == Order.channel_id)
        .where(Order.attention.is_not(None), Order.status.in_(_OPEN_ORDER))
    )


def _counts() -> list[dict[str, Any]]:
    # The bin is in the task's JSON reference: read as rows (counts awaiting approval are few).
    rows = db.session.execute(
        select(Task.id, Task.reference, Location.code, Task.updated_at)
        .join(Location, Location.id == Task.location_id)
        .where(Task.kind == TaskKind.COUNT, Task.status == TaskStatus.AWAITING_APPROVAL)
    ).all()
    return [{"id": i, "bin": (ref or {}).get("bin"), "location": loc, "at": at} for i, ref, loc, at in rows]


def _print_jobs() -> Select:
    return (
        select(
            PrintJob.id.label("id"),
            PrintJob.kind.label("kind"),
            Printer.name.label("printer"),
            PrintJob.status.label("status"),
            PrintJob.last_error.label("error"),
            PrintJob.created_at.label("at"),
        )
        .join(Printer, Printer.id == PrintJob.printer_id)
        .where(PrintJob.status.in_(["failed", "unknown"]))
    )


def _webhooks() -> Select:
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
    return (
        select(
            Webhook.id.label("id"),
            Channel.code.label("channel"),
            Webhook.url.label("url"),
            failing.c.waiting.label("waiting"),
            failing.c.attempts.label("attempts"),
            last.last_error.label("error"),
        )
        .join(failing, failing.c.webhook_id == Webhook.id)
        .join(Channel, Channel.id == Webhook.channel_id)
        .join(last, last.id == failing.c.last_id)
        .where(Webhook.active.is_(True))
    )


def lagging_feeds(now: datetime | None = None) -> list[dict[str, Any]]:
    """Channels reading the availability change feed whose oldest unread change is older than :func:`feed_lag`
    (and not muted by a manager): ``{channel, read_at, oldest_unread, unread}``. Channels that never read the
    feed (they take the full feed or webhooks only) do not lag."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Channel.code, ChannelFeedRead.txid, ChannelFeedRead.seq, ChannelFeedRead.read_at)
        .join(Channel, Channel.id == ChannelFeedRead.channel_id)
        .where(or_(ChannelFeedRead.muted_until.is_(None), ChannelFeedRead.muted_until < now))
        .order_by(Channel.code)
    ).all()
    out = []
    for code, txid, seq, read_at in rows:
        unread, oldest = unread_changes((txid, seq), UNREAD_CAP)
        if oldest is not None and as_utc(oldest) < now - feed_lag():
            out.append({"channel": code, "read_at": read_at, "oldest_unread": oldest, "unread": unread})
    return out


def _transfers() -> Select:
    source, target = aliased(Location), aliased(Location)
    return (
        select(
            Transfer.id.label("id"),
            source.code.label("from"),
            target.code.label("to"),
            Transfer.variance.label("variance"),
            Transfer.received_at.label("at"),
        )
        .join(source, source.id == Transfer.from_location_id)
        .join(target, target.id == Transfer.to_location_id)
        .where(Transfer.status == TransferStatus.RECEIVED, Transfer.variance.is_not(None))
    )
