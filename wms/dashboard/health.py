"""Reads of a location's stock health (no prices): pick faces that cannot serve the pick lines waiting on them,
products below the location's min, slow movers (units on hand, no movement in N days), and what the last stock
check found wrong there. Reads only; no locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from wms.catalog.models import Product
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.stock.checks import latest_check
from wms.stock.models import StockLevel, StockMovement, StockQuant
from wms.tasks.models import Task, TaskKind, TaskLine, TaskStatus
from wms.timeutil import utcnow
from wms.transfers.replenishment import min_max_rows

LIMIT = 100
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Health:
    location: str
    empty_faces: list[dict[str, Any]]
    below_min: list[dict[str, Any]]
    slow: list[dict[str, Any]]
    drift: list[str]
    checked_at: datetime | None
    days: int


def health(location_code: str, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Health | None:
    location = db.session.execute(select(Location).where(Location.code == location_code)).scalar_one_or_none()
    if location is None:
        return None
    now = now or utcnow()
    check = latest_check()
    drift = [p for p in (check.problems if check else []) if f" {location.code}/" in p or f"at {location.code}:" in p]
    return Health(
        location.code,
        _empty_faces(location.id),
        [r for r in min_max_rows(location.code) if r["below"]],
        _slow(location.id, now - timedelta(days=days)),
        drift,
        check.started_at if check else None,
        days,
    )


def _empty_faces(location_id: int) -> list[dict[str, Any]]:
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
    rows = db.session.execute(
        select(Bin.code, Product.sku, TaskLine.lot, remaining, held, Task.id, TaskLine.order_id)
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
        .order_by(Bin.sequence, Bin.code, Product.sku)
        .limit(LIMIT)
    ).all()
    return [
        {"bin": b, "sku": sku, "lot": lot or "", "asked": int(want), "held": int(have), "task": task, "order": order}
        for b, sku, lot, want, have, task, order in rows
    ]


def _slow(location_id: int, since: datetime) -> list[dict[str, Any]]:
    """Products with sellable units here and no ledger row touching this location's bins since ``since``."""
    here = select(Bin.id).where(Bin.location_id == location_id)
    moved = exists().where(
        StockMovement.product_id == StockLevel.product_id,
        StockMovement.created_at >= since,
        or_(StockMovement.from_bin_id.in_(here), StockMovement.to_bin_id.in_(here)),
    )
    last = (
        select(func.max(StockMovement.created_at))
        .where(
            StockMovement.product_id == StockLevel.product_id,
            or_(StockMovement.from_bin_id.in_(here), StockMovement.to_bin_id.in_(here)),
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Product.sku, Product.name, StockLevel.on_hand_sellable, last)
        .join(Product, Product.id == StockLevel.product_id)
        .where(and_(StockLevel.location_id == location_id, StockLevel.on_hand_sellable > 0), ~moved)
        .order_by(StockLevel.on_hand_sellable.desc(), Product.sku)
        .limit(LIMIT)
    ).all()
    return [{"sku": sku, "name": name or "", "on_hand": int(q), "last": at} for sku, name, q, at in rows]
