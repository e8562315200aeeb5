"""The data of the managers' charts, as ``{"type", "labels", "datasets": [{"label", "data"}], "stacked"?, "unit"?}``
(``static/js/charts.js`` draws them): a product's stock over time from the ledger, orders per hour by channel, pick
lines per hour by location, and click & collect's time from ready to collected per store. Hours and days are those
of the server's zone (``TIMEZONE``). Reads only; each reads only the window it draws."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from wms.catalog.models import Product
from wms.channels.models import Channel
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import Order, OrderEvent
from wms.stock.models import StockMovement
from wms.timeutil import as_utc, time_zone, utcnow
from wms.transfers.service import TRANSFERS_CHANNEL


def _zone():
    return time_zone(current_app.config["TIMEZONE"])


def _hours(now: datetime, hours: int) -> list[datetime]:
    """The last ``hours`` whole hours up to ``now``, oldest first, in the server's zone."""
    top = now.astimezone(_zone()).replace(minute=0, second=0, microsecond=0)
    return [top - timedelta(hours=h) for h in range(hours - 1, -1, -1)]


def _hour_of(value: datetime) -> datetime:
    return as_utc(value).astimezone(_zone()).replace(minute=0, second=0, microsecond=0)


def product_history(sku: str, days: int = 60, now: datetime | None = None) -> dict[str, Any] | None:
    """Units of the product on hand (any status) at the end of each of the last ``days`` days, per location, from
    the ledger; None for an unknown sku."""
    product_id = db.session.execute(select(Product.id).where(Product.sku == sku)).scalar_one_or_none()
    if product_id is None:
        return None
    now = now or utcnow()
    zone = _zone()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    from_bin, to_bin = aliased(Bin), aliased(Bin)
    codes = dict(db.session.execute(select(Location.id, Location.code)).all())

    def flows(before: bool):
        query = (
            select(StockMovement.created_at, StockMovement.qty, from_bin.location_id, to_bin.location_id)
            .outerjoin(from_bin, from_bin.id == StockMovement.from_bin_id)
            .outerjoin(to_bin, to_bin.id == StockMovement.to_bin_id)
            .where(StockMovement.product_id == product_id)
        )
        return (
            query.where(StockMovement.created_at < start) if before else query.where(StockMovement.created_at >= start)
        )

    opening: dict[int, int] = defaultdict(int)
    before = flows(True).subquery()
    for loc, qty in db.session.execute(
        select(before.c[3], func.sum(before.c.qty)).where(before.c[3].is_not(None)).group_by(before.c[3])
    ):
        opening[loc] += int(qty)
    for loc, qty in db.session.execute(
        select(before.c[2], func.sum(before.c.qty)).where(before.c[2].is_not(None)).group_by(before.c[2])
    ):
        opening[loc] -= int(qty)
    change: dict[tuple[int, Any], int] = defaultdict(int)
    for at, qty, source, target in db.session.execute(flows(False)):
        day = as_utc(at).astimezone(zone).date()
        if target is not None:
            change[(target, day)] += qty
        if source is not None:
            change[(source, day)] -= qty
    locations = sorted(
        {loc for loc in opening if opening[loc]} | {loc for loc, _day in change}, key=lambda i: codes.get(i, "")
    )
    labels, series = [], {loc: [] for loc in locations}
    running = {loc: opening.get(loc, 0) for loc in locations}
    for n in range(days):
        day = first + timedelta(days=n)
        labels.append(day.isoformat())
        for loc in locations:
            running[loc] += change.get((loc, day), 0)
            series[loc].append(running[loc])
    return {
        "type": "line",
        "labels": labels,
        "datasets": [{"label": codes.get(loc, str(loc)), "data": series[loc]} for loc in locations],
        "unit": _("units"),
    }


def _per_hour(rows: Any, hours: int, now: datetime, **spec: Any) -> dict[str, Any]:
    """A chart of ``rows`` (``(time, series name)``) counted per hour over the last ``hours`` hours, a dataset per
    series; ``spec`` adds ``type``, ``unit``, ``stacked``."""
    slots = _hours(now, hours)
    counts: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for at, name in rows:
        counts[name][_hour_of(at)] += 1
    return {
        **spec,
        "labels": [slot.strftime("%m-%d %H:00") for slot in slots],
        "datasets": [{"label": name, "data": [counts[name].get(s, 0) for s in slots]} for name in sorted(counts)],
    }


def _since(now: datetime, hours: int) -> datetime:
    return _hours(now, hours)[0].astimezone(UTC)


def orders_per_hour(hours: int = 48, now: datetime | None = None) -> dict[str, Any]:
    """Orders placed in each of the last ``hours`` hours, by channel (stacked bars)."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Order.created_at, Channel.code)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Order.created_at >= _since(now, hours), Channel.code != TRANSFERS_CHANNEL)
    )
    return _per_hour(rows, hours, now, type="bar", stacked=True, unit=_("orders"))


def picks_per_hour(hours: int = 48, now: datetime | None = None) -> dict[str, Any]:
    """Pick lines (ledger rows of reason ``pick``) in each of the last ``hours`` hours, by location."""
    now = now or utcnow()
    rows = db.session.execute(
        select(StockMovement.created_at, Location.code)
        .join(Bin, Bin.id == StockMovement.from_bin_id)
        .join(Location, Location.id == Bin.location_id)
        .where(StockMovement.reason == "pick", StockMovement.created_at >= _since(now, hours))
    )
    return _per_hour(rows, hours, now, type="line", unit=_("lines"))


def pickup_times(days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    """Median hours from ready for pickup to collected, per store, over the orders collected in the last ``days``."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    ready, done = aliased(OrderEvent), aliased(OrderEvent)
    rows = db.session.execute(
        select(Location.code, func.max(ready.at), func.max(done.at))
        .select_from(Order)
        .join(Location, Location.id == Order.pickup_location_id)
        .join(ready, (ready.order_id == Order.id) & (ready.status == "ready_for_pickup"))
        .join(done, (done.order_id == Order.id) & or_(done.status == "collected", done.status == "partially_collected"))
        .where(done.at >= since)
        .group_by(Order.id, Location.code)
    ).all()
    waits: dict[str, list[float]] = defaultdict(list)
    for code, ready_at, done_at in rows:
        waits[code].append((as_utc(done_at) - as_utc(ready_at)).total_seconds() / 3600)
    stores = sorted(waits)
    return {
        "type": "bar",
        "labels": stores,
        "datasets": [{"label": _("median hours"), "data": [round(median(waits[s]), 1) for s in stores]}],
        "unit": _("hours"),
    }
