"""Reads of a location's stock health (no prices): pick faces that cannot serve the pick lines waiting on them,
products below the location's min, slow movers (units on hand, no movement in N days), and what the last stock
check found wrong there. Reads only; no locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from wms.catalog.models import Product
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.stock.checks import latest_check
from wms.stock.models import StockLevel, StockQuant
from wms.summaries.last_movement import with_last_movement
from wms.tables import Column, Spec
from wms.tasks.models import Task, TaskKind, TaskLine, TaskStatus
from wms.timeutil import utcnow
from wms.transfers.replenishment import min_max_rows

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Health:
    location: str
    location_id: int
    #: what the last stock check found wrong at this location
    drift: list[str]
    checked_at: datetime | None
    days: int


def health(location_code: str, days: int = DEFAULT_DAYS) -> Health | None:
    """The location's heading facts (None: no such location); its lists are :func:`specs`."""
    location = db.session.execute(select(Location).where(Location.code == location_code)).scalar_one_or_none()
    if location is None:
        return None
    check = latest_check()
    drift = [p for p in (check.problems if check else []) if f" {location.code}/" in p or f"at {location.code}:" in p]
    return Health(location.code, location.id, drift, check.started_at if check else None, days)


def specs(view: Health, now: datetime | None = None) -> list[Spec]:
    """The health page's tables for the location of ``view``."""
    now = now or utcnow()
    return [
        Spec(
            "faces",
            (
                Column("bin", _l("Bin")),
                Column("sku", _l("Product")),
                Column("lot", _l("Lot")),
                Column("asked", _l("Asked"), numeric=True),
                Column("held", _l("In the bin"), numeric=True),
                Column("task", _l("Pick task"), numeric=True),
                Column("order", _l("Order"), numeric=True),
            ),
            _empty_faces(view.location_id),
            "bin",
        ),
        Spec(
            "below",
            (
                Column("sku", _l("Product")),
                Column("name", _l("Name")),
                Column("projected", _l("Has and coming"), numeric=True),
                Column("min", _l("Min"), numeric=True),
                Column("max", _l("Max"), numeric=True),
            ),
            lambda: [r for r in min_max_rows(view.location) if r["below"]],
            "sku",
        ),
        Spec(
            "slow",
            (
                Column("sku", _l("Product")),
                Column("name", _l("Name")),
                Column("on_hand", _l("On hand"), numeric=True),
                Column("last", _l("Last movement")),
            ),
            _slow(view.location_id, now - timedelta(days=view.days)),
            "-on_hand",
        ),
    ]


def _empty_faces(location_id: int) -> Select:
    """Open pick lines whose bin holds fewer sellable units (of the line's product and lot) than they still ask."""
    remaining = TaskLine.qty - TaskLine.done - TaskLine.short
    held = (
        select(func.coalesce(func.sum(StockQuant.qty), 0))
        .where(
            StockQuant.bin_id == TaskLine.bin_id,
            StockQuant.product_id == TaskLine.product_id,
            StockQuant.lot == TaskLine.lot,
            StockQuant.status == "sellable",
        )
        .scalar_subquery()
    )
    return (
        select(
            Bin.code.label("bin"),
            Product.sku.label("sku"),
            TaskLine.lot.label("lot"),
            remaining.label("asked"),
            held.label("held"),
            Task.id.label("task"),
            TaskLine.order_id.label("order"),
        )
        .join(Task, Task.id == TaskLine.task_id)
        .join(Bin, Bin.id == TaskLine.bin_id)
        .join(Product, Product.id == TaskLine.product_id)
        .where(
            Task.location_id == location_id,
            Task.kind == TaskKind.PICK,
            Task.status.in_([TaskStatus.OPEN, TaskStatus.IN_PROGRESS]),
            remaining > 0,
            held < remaining,
        )
    )


def _slow(location_id: int, since: datetime) -> Select:
    """Products with sellable units here and no ledger row touching this location's bins since ``since`` (one that
    never moved here counts as slow): the stock levels against the summary of each product's last movement here
    (:mod:`wms.summaries.last_movement`), not the ledger probed product by product."""
    query = (
        select(Product.sku.label("sku"), Product.name.label("name"), StockLevel.on_hand_sellable.label("on_hand"))
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.location_id == location_id, StockLevel.on_hand_sellable > 0)
    )
    query, last = with_last_movement(query, StockLevel.product_id, location_id)
    return query.add_columns(last.label("last")).where(or_(last.is_(None), last < since))
