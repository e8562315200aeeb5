"""Each location's stock totals and the network's distinct products in stock, for the home page.

Summing a chain's stock levels (100,000 products x 20 locations) takes the better part of a second, so the
``summaries.stock_totals`` stage does it every ``STOCK_SUMMARY_MINUTES`` (default 1) and the home page shows the
figures with the time they are true for. A total kept up to date with each level instead would be one row every
order of a location updates: a lock order intake would queue on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from wms.extensions import db
from wms.locations.models import Location
from wms.stock.models import StockLevel
from wms.summaries.models import LocationStockSummary, NetworkStockSummary
from wms.timeutil import utcnow
from wms.uow import is_postgres, unit_of_work

DEFAULT_MINUTES = 1.0
#: the one row of ``network_stock_summary``
NETWORK = 1
_FIGURES = ("skus_in_stock", "on_hand", "reserved")


@dataclass(frozen=True)
class Totals:
    #: products with sellable units on hand
    skus_in_stock: int
    on_hand: int
    reserved: int
    #: when the figures were read from the levels
    as_of: datetime


def live_totals(location_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Location id -> (products in stock, on hand, reserved), summed from the levels now (one grouped read; a
    location without levels is left out)."""
    if not location_ids:
        return {}
    rows = db.session.execute(
        select(
            StockLevel.location_id,
            func.sum(case((StockLevel.on_hand_sellable > 0, 1), else_=0)),
            func.coalesce(func.sum(StockLevel.on_hand_sellable), 0),
            func.coalesce(func.sum(StockLevel.reserved), 0),
        )
        .where(StockLevel.location_id.in_(location_ids))
        .group_by(StockLevel.location_id)
    )
    return {loc: (int(skus), int(on_hand), int(reserved)) for loc, skus, on_hand, reserved in rows}


def live_skus_in_stock(location_ids: list[int]) -> int:
    """Distinct products with sellable units on hand at any of the locations, counted from the levels now."""
    return db.session.execute(
        select(func.count(func.distinct(StockLevel.product_id))).where(
            StockLevel.location_id.in_(location_ids), StockLevel.on_hand_sellable > 0
        )
    ).scalar_one()


def refresh(now: datetime | None = None) -> int:
    """Recompute every location's totals and the network's distinct products in stock from the levels, and store
    them as of ``now``; how many locations. Reads the levels without locks, then writes only the summary rows in a
    unit of work of its own (on SQLite the write lock is not held while the levels are summed)."""
    now = now or utcnow()
    location_ids = list(db.session.execute(select(Location.id)).scalars())
    figures = live_totals(location_ids)
    skus = live_skus_in_stock(location_ids) if location_ids else 0
    db.session.rollback()
    rows = [
        dict(zip(_FIGURES, figures.get(loc, (0, 0, 0)), strict=True), location_id=loc, refreshed_at=now)
        for loc in location_ids
    ]
    insert = postgresql.insert if is_postgres() else sqlite.insert
    with unit_of_work() as session:
        if rows:
            stmt = insert(LocationStockSummary)
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["location_id"],
                    set_={c: stmt.excluded[c] for c in (*_FIGURES, "refreshed_at")},
                ),
                rows,
            )
        stmt = insert(NetworkStockSummary).values(id=NETWORK, skus_in_stock=skus, refreshed_at=now)
        session.execute(
            stmt.on_conflict_do_update(index_elements=["id"], set_={"skus_in_stock": skus, "refreshed_at": now})
        )
    return len(location_ids)


def refresh_due(now: datetime | None = None) -> int:
    """Worker stage: refresh the totals when the last refresh is older than ``STOCK_SUMMARY_MINUTES``; 1 when it
    ran."""
    now = now or utcnow()
    minutes = float(current_app.config.get("STOCK_SUMMARY_MINUTES") or DEFAULT_MINUTES)
    last = db.session.execute(
        select(NetworkStockSummary.refreshed_at).where(NetworkStockSummary.id == NETWORK)
    ).scalar()
    db.session.rollback()
    if last is not None and now - _aware(last, now) < timedelta(minutes=minutes):
        return 0
    refresh(now)
    return 1


def kept_totals() -> tuple[dict[int, Totals], Totals | None]:
    """What the last refresh stored: location id -> its totals, and the network's (``skus_in_stock`` distinct
    over every location, on hand and reserved summed), None before the first refresh. No locks."""
    now = utcnow()
    locations = {
        row.location_id: Totals(row.skus_in_stock, row.on_hand, row.reserved, _aware(row.refreshed_at, now))
        for row in db.session.execute(select(LocationStockSummary)).scalars()
    }
    network = db.session.get(NetworkStockSummary, NETWORK)
    if network is None:
        return locations, None
    return locations, Totals(
        network.skus_in_stock,
        sum(t.on_hand for t in locations.values()),
        sum(t.reserved for t in locations.values()),
        _aware(network.refreshed_at, now),
    )


def _aware(value: datetime, now: datetime) -> datetime:
    # SQLite hands times back without their zone (they are stored in UTC)
    return value.replace(tzinfo=now.tzinfo) if value.tzinfo is None else value
