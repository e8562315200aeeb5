"""Reads of the managers' flow page: where the work stands across the network. Orders by status and location with
the age of the oldest; click & collect per store (to stage, on the way, ready, overdue, expired this week);
returns waiting for intake, in quarantine, and taken in this week (refunds due); transfers on the way and late.
Grouped reads only; no locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from wms.channels.models import Channel
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order, OrderLine
from wms.returns.models import Return
from wms.stock.models import Reservation
from wms.timeutil import utcnow
from wms.transfers.models import OPEN_TRANSFER_STATUSES, Transfer
from wms.transfers.service import TRANSFERS_CHANNEL

#: statuses of orders still being worked
WORKING = ("reserved", "in_transit", "picking", "packed", "ready_for_pickup")
#: a transfer on the way longer than this is late
LATE_AFTER = timedelta(days=2)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Flow:
    orders: list[dict[str, Any]]
    pickups: list[dict[str, Any]]
    returns: list[dict[str, Any]]
    transfers: list[dict[str, Any]]
    now: datetime


def flow(now: datetime | None = None) -> Flow:
    now = now or utcnow()
    return Flow(_orders(), _pickups(now), _returns(now), _transfers(now), now)


def _orders() -> list[dict[str, Any]]:
    """Customers' orders being worked, per location holding their units (a split order counts at each) and status,
    with the oldest one's time."""
    per_location = (
        select(Order.id, Order.status, Order.created_at, Reservation.location_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Order.status.in_(WORKING), Channel.code != TRANSFERS_CHANNEL)
        .distinct()
        .subquery()
    )
    rows = db.session.execute(
        select(Location.code, per_location.c.status, func.count(), func.min(per_location.c.created_at))
        .join(Location, Location.id == per_location.c.location_id)
        .group_by(Location.code, per_location.c.status)
        .order_by(Location.code, per_location.c.status)
    ).all()
    return [{"location": loc, "status": st, "orders": int(n), "oldest": oldest} for loc, st, n, oldest in rows]


def _pickups(now: datetime) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(
            Location.code,
            func.sum(case((Order.status.in_(["reserved", "picking"]), 1), else_=0)),
            func.sum(case((Order.status == "in_transit", 1), else_=0)),
            func.sum(case((Order.status == "ready_for_pickup", 1), else_=0)),
            func.sum(case(((Order.status == "ready_for_pickup") & (Order.hold_until < now), 1), else_=0)),
            func.sum(case(((Order.status == "expired") & (Order.updated_at >= now - WEEK), 1), else_=0)),
        )
        .join(Location, Location.id == Order.pickup_location_id)
        .where(Order.fulfilment == "pickup")
        .group_by(Location.code)
        .order_by(Location.code)
    ).all()
    return [
        {
            "store": code,
            "to_stage": int(a or 0),
            "on_the_way": int(b or 0),
            "ready": int(c or 0),
            "overdue": int(d or 0),
            "expired_week": int(e or 0),
        }
        for code, a, b, c, d, e in rows
    ]


def _returns(now: datetime) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(
            Location.code,
            func.sum(case((Return.status == "requested", 1), else_=0)),
            func.sum(case((Return.status == "received", 1), else_=0)),
            func.sum(case((Return.status == "inspected", 1), else_=0)),
            func.sum(
                case(
                    ((Return.status.in_(["received", "inspected", "closed"])) & (Return.updated_at >= now - WEEK), 1),
                    else_=0,
                )
            ),
        )
        .join(Location, Location.id == Return.location_id)
        .group_by(Location.code)
        .order_by(Location.code)
    ).all()
    return [
        {
            "location": code,
            "waiting": int(a or 0),
            "partly_in": int(b or 0),
            "quarantine": int(c or 0),
            "refunds_week": int(d or 0),
        }
        for code, a, b, c, d in rows
    ]


def _transfers(now: datetime) -> list[dict[str, Any]]:
    source, target = aliased(Location), aliased(Location)
    rows = db.session.execute(
        select(
            source.code,
            target.code,
            func.sum(case((Transfer.status != "in_transit", 1), else_=0)),
            func.sum(case((Transfer.status == "in_transit", 1), else_=0)),
            func.sum(case(((Transfer.status == "in_transit") & (Transfer.shipped_at < now - LATE_AFTER), 1), else_=0)),
        )
        .join(source, source.id == Transfer.from_location_id)
        .join(target, target.id == Transfer.to_location_id)
        .where(Transfer.status.in_(OPEN_TRANSFER_STATUSES))
        .group_by(source.code, target.code)
        .order_by(source.code, target.code)
    ).all()
    return [
        {"from": s, "to": t, "to_ship": int(a or 0), "in_transit": int(b or 0), "late": int(c or 0)}
        for s, t, a, b, c in rows
    ]
