"""Reads of the managers' flow page: where the work stands across the network. Orders by status and location with
the age of the oldest; waves released and their progress; pick productivity per picker and per zone (from the
ledger's pick rows: each names who picked, from which bin, for which order); click & collect per store (to stage,
on the way, ready, overdue, expired this week); returns waiting for intake, in quarantine, and taken in this week
(refunds due); transfers on the way and late. Each is a table of :mod:`wms.tables` (grouped reads
only; no locks)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import aliased

from wms.channels.models import Channel
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import Order, OrderLine
from wms.picking.queries import recent_waves
from wms.picking.rules import parse_cutoff, ship_by, zone_of
from wms.returns.models import Return
from wms.stock.models import Reservation, StockMovement
from wms.tables import Column, Spec
from wms.timeutil import as_utc, time_zone, utcnow
from wms.transfers.models import OPEN_TRANSFER_STATUSES, Transfer
from wms.transfers.service import TRANSFERS_CHANNEL

#: statuses of orders still being worked
WORKING = ("reserved", "in_transit", "picking", "packed", "ready_for_pickup")
#: a transfer on the way longer than this is late
LATE_AFTER = timedelta(days=2)
WEEK = timedelta(days=7)
#: the carrier's daily collection, local time at each location (setting ``SHIP_CUTOFF``)
DEFAULT_CUTOFF = "15:00"
#: the window of pick productivity: a day covers every shift
PRODUCTIVITY_WINDOW = timedelta(hours=24)
#: waves the flow page follows
WAVES = 50


def specs(now: datetime | None = None) -> list[Spec]:
    """The flow page's tables, in page order."""
    now = now or utcnow()
    return [
        Spec(
            "orders",
            (
                Column("location", _l("Location")),
                Column("status", _l("Status")),
                Column("orders", _l("Orders"), numeric=True),
                Column("due_next", _l("Due by the next cut-off"), numeric=True),
                Column("late", _l("Past their cut-off"), numeric=True),
                Column("oldest", _l("Oldest")),
            ),
            lambda: _orders(now),
            "location",
        ),
        Spec(
            "waves",
            (
                Column("wave", _l("Wave"), numeric=True),
                Column("location", _l("Location")),
                Column("released", _l("Released")),
                Column("by", _l("By")),
                Column("orders", _l("Orders"), numeric=True),
                Column("tasks_done", _l("Tasks done"), numeric=True),
                Column("tasks", _l("Tasks"), numeric=True),
                Column("lines_done", _l("Lines picked"), numeric=True),
                Column("lines", _l("Lines"), numeric=True),
                Column("progress", _l("Progress"), numeric=True),
            ),
            _waves,
            "-wave",
        ),
        Spec(
            "pickers",
            (
                Column("picker", _l("Picker")),
                Column("lines", _l("Lines picked"), numeric=True),
                Column("units", _l("Units"), numeric=True),
                Column("hours", _l("Hours picking"), numeric=True),
                Column("per_hour", _l("Lines per hour"), numeric=True),
            ),
            lambda: _productivity(now, by_zone=False),
            "-per_hour",
        ),
        Spec(
            "zones",
            (
                Column("location", _l("Location")),
                Column("zone", _l("Zone")),
                Column("lines", _l("Lines picked"), numeric=True),
                Column("units", _l("Units"), numeric=True),
                Column("hours", _l("Hours picking"), numeric=True),
                Column("per_hour", _l("Lines per hour"), numeric=True),
            ),
            lambda: _productivity(now, by_zone=True),
            "location",
        ),
        Spec(
            "pickups",
            (
                Column("store", _l("Store")),
                Column("to_stage", _l("To stage"), numeric=True),
                Column("on_the_way", _l("On the way"), numeric=True),
                Column("ready", _l("Ready"), numeric=True),
                Column("overdue", _l("Past their hold"), numeric=True),
                Column("expired_week", _l("Expired this week"), numeric=True),
            ),
            _pickups(now),
            "store",
        ),
        Spec(
            "returns",
            (
                Column("location", _l("Expected at")),
                Column("waiting", _l("Waiting for intake"), numeric=True),
                Column("partly_in", _l("Partly in"), numeric=True),
                Column("quarantine", _l("In quarantine"), numeric=True),
                Column("refunds_week", _l("Refunds due this week"), numeric=True),
            ),
            _returns(now),
            "location",
        ),
        Spec(
            "transfers",
            (
                Column("from", _l("From")),
                Column("to", _l("To")),
                Column("to_ship", _l("To ship"), numeric=True),
                Column("in_transit", _l("In transit"), numeric=True),
                Column("late", _l("Late (over 2 days)"), numeric=True),
            ),
            _transfers(now),
            "from",
        ),
    ]


def _cutoff() -> time:
    return parse_cutoff(str(current_app.config.get("SHIP_CUTOFF") or DEFAULT_CUTOFF))


def _orders(now: datetime) -> list[dict[str, Any]]:
    """Customers' orders being worked, per location holding their units (a split order counts at each) and status:
    how many, the oldest, and against the carrier cut-off (``SHIP_CUTOFF``, local time at the location): how many
    have missed it (still here after the cut-off they should have left by) and how many must leave by the next."""
    rows = db.session.execute(
        select(Order.id, Order.status, Order.created_at, Location.code, Location.timezone)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .join(Location, Location.id == Reservation.location_id)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Order.status.in_(WORKING), Channel.code != TRANSFERS_CHANNEL)
        .distinct()
    ).all()
    cutoff = _cutoff()
    fallback = str(current_app.config.get("TIMEZONE") or "UTC")
    zones: dict[str | None, Any] = {}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for _id, status, created_at, code, zone_name in rows:
        if zone_name not in zones:
            zones[zone_name] = time_zone(zone_name or fallback)
        zone = zones[zone_name]
        due = ship_by(created_at, cutoff, zone)
        next_cutoff = ship_by(now, cutoff, zone)
        group = groups.setdefault(
            (code, status),
            {"location": code, "status": status, "orders": 0, "oldest": created_at, "late": 0, "due_next": 0},
        )
        group["orders"] += 1
        group["oldest"] = min(group["oldest"], created_at, key=as_utc)
        group["late"] += due <= now
        group["due_next"] += now < due <= next_cutoff
    return list(groups.values())


def _waves() -> Iterator[dict[str, Any]]:
    """The latest waves everywhere with their pick tasks' progress."""
    for wave in recent_waves(None, WAVES):
        lines = sum(t.lines for t in wave.tasks)
        lines_done = sum(t.lines_done for t in wave.tasks)
        yield {
            "wave": wave.id,
            "location": wave.location,
            "released": wave.created_at,
            "by": wave.actor or "",
            "orders": wave.orders,
            "tasks_done": sum(1 for t in wave.tasks if t.lines and t.lines_done == t.lines),
            "tasks": len(wave.tasks),
            "lines_done": lines_done,
            "lines": lines,
            "progress": round(100 * lines_done / lines) if lines else 0,
        }


def _productivity(now: datetime, by_zone: bool) -> list[dict[str, Any]]:
    """Pick lines per hour over the last day, per picker or per zone (a bin code's first part). A line is one
    order's product picked from one bin (several scans of a multi-unit line count once); the hours are the clock
    hours in which the picker (or the zone) picked anything, so breaks do not count against anybody."""
    rows = db.session.execute(
        select(
            StockMovement.created_at,
            StockMovement.actor,
            StockMovement.reference,
            StockMovement.product_id,
            StockMovement.qty,
            Bin.id,
            Bin.code,
            Location.code,
        )
        .join(Bin, Bin.id == StockMovement.from_bin_id)
        .join(Location, Location.id == Bin.location_id)
        .where(StockMovement.reason == "pick", StockMovement.created_at >= now - PRODUCTIVITY_WINDOW)
    ).all()
    lines: dict[tuple[str, ...], set[tuple[Any, ...]]] = defaultdict(set)
    units: dict[tuple[str, ...], int] = defaultdict(int)
    hours: dict[tuple[str, ...], set[datetime]] = defaultdict(set)
    for at, actor, reference, product_id, qty, bin_id, bin_code, location in rows:
        key = (location, zone_of(bin_code)) if by_zone else (actor or "?",)
        lines[key].add((reference, product_id, bin_id))
        units[key] += int(qty)
        hours[key].add(as_utc(at).replace(minute=0, second=0, microsecond=0))
    out = []
    for key in lines:
        row = {"location": key[0], "zone": key[1]} if by_zone else {"picker": key[0]}
        row.update(
            lines=len(lines[key]),
            units=units[key],
            hours=len(hours[key]),
            per_hour=round(len(lines[key]) / len(hours[key]), 1),
        )
        out.append(row)
    return out


def _pickups(now: datetime) -> Select:
    return (
        select(
            Location.code.label("store"),
            func.sum(case((Order.status.in_(["reserved", "picking"]), 1), else_=0)).label("to_stage"),
            func.sum(case((Order.status == "in_transit", 1), else_=0)).label("on_the_way"),
            func.sum(case((Order.status == "ready_for_pickup", 1), else_=0)).label("ready"),
            func.sum(case(((Order.status == "ready_for_pickup") & (Order.hold_until < now), 1), else_=0)).label(
                "overdue"
            ),
            func.sum(case(((Order.status == "expired") & (Order.updated_at >= now - WEEK), 1), else_=0)).label(
                "expired_week"
            ),
        )
        .join(Location, Location.id == Order.pickup_location_id)
        .where(Order.fulfilment == "pickup")
        .group_by(Location.code)
    )


def _returns(now: datetime) -> Select:
    taken_in = Return.status.in_(["received", "inspected", "closed"]) & (Return.updated_at >= now - WEEK)
    return (
        select(
            Location.code.label("location"),
            func.sum(case((Return.status == "requested", 1), else_=0)).label("waiting"),
            func.sum(case((Return.status == "received", 1), else_=0)).label("partly_in"),
            func.sum(case((Return.status == "inspected", 1), else_=0)).label("quarantine"),
            func.sum(case((taken_in, 1), else_=0)).label("refunds_week"),
        )
        .join(Location, Location.id == Return.location_id)
        .group_by(Location.code)
    )


def _transfers(now: datetime) -> Select:
    source, target = aliased(Location), aliased(Location)
    late = (Transfer.status == "in_transit") & (Transfer.shipped_at < now - LATE_AFTER)
    return (
        select(
            source.code.label("from"),
            target.code.label("to"),
            func.sum(case((Transfer.status != "in_transit", 1), else_=0)).label("to_ship"),
            func.sum(case((Transfer.status == "in_transit", 1), else_=0)).label("in_transit"),
            func.sum(case((late, 1), else_=0)).label("late"),
        )
        .join(source, source.id == Transfer.from_location_id)
        .join(target, target.id == Transfer.to_location_id)
        .where(Transfer.status.in_(OPEN_TRANSFER_STATUSES))
        .group_by(source.code, target.code)
    )
