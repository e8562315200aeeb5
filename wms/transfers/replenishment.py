"""Replenishment: how much of a product each location keeps (min/max), what to send where to keep it there, and the
chosen suggestions turned into transfers (:mod:`wms.transfers.rules` decides what to suggest)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import case, func, select

from wms.catalog.models import Product
from wms.errors import InsufficientStock, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Location, LocationKind
from wms.stock.models import StockLevel
from wms.transfers import rules
from wms.transfers.models import OPEN_TRANSFER_STATUSES, MinMax, Transfer, TransferLine, TransferStatus
from wms.transfers.service import create_transfer
from wms.uow import unit_of_work

MAX_LEVEL = 1_000_000


def _checked_levels(min_qty: Any, max_qty: Any) -> tuple[int, int]:
    errors = []
    for name, value in (("min", min_qty), ("max", max_qty)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LEVEL:
            errors.append({"field": name, "message": f"a whole number from 0 to {MAX_LEVEL}"})
    if not errors and max_qty < 1:
        errors.append({"field": "max", "message": "at least 1"})
    if not errors and max_qty < min_qty:
        errors.append({"field": "max", "message": f"at least the min ({min_qty})"})
    if errors:
        raise ValidationError(errors)
    return min_qty, max_qty


def set_min_max(location_code: str, sku: str, min_qty: Any, max_qty: Any, actor: str | None = None) -> MinMax:
    """Keep ``sku`` at ``location_code`` between ``min_qty`` and ``max_qty``: the location's rule, made or changed.
    Locks the rule's row. Raises NotFound (no such location or sku), ValidationError (levels)."""
    min_qty, max_qty = _checked_levels(min_qty, max_qty)
    with unit_of_work() as session:
        location_id = session.execute(select(Location.id).where(Location.code == location_code)).scalar_one_or_none()
        if location_id is None:
            raise NotFound(f"no location {location_code}", {"location": location_code})
        product_id = session.execute(select(Product.id).where(Product.sku == sku)).scalar_one_or_none()
        if product_id is None:
            raise NotFound(f"no product {sku}", {"sku": sku})
        rule = session.execute(
            select(MinMax).where(MinMax.location_id == location_id, MinMax.product_id == product_id).with_for_update()
        ).scalar_one_or_none()
        if rule is None:
            rule = MinMax(location_id=location_id, product_id=product_id)
            session.add(rule)
        rule.min_qty, rule.max_qty, rule.updated_by = min_qty, max_qty, actor
    return rule


def remove_min_max(location_code: str, sku: str) -> bool:
    """Stop keeping ``sku`` at the location; False when it had no rule."""
    with unit_of_work() as session:
        rule = session.execute(
            select(MinMax)
            .join(Location, Location.id == MinMax.location_id)
            .join(Product, Product.id == MinMax.product_id)
            .where(Location.code == location_code, Product.sku == sku)
            .with_for_update()
        ).scalar_one_or_none()
        if rule is None:
            return False
        session.delete(rule)
    return True


def _incoming(location_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """Units on replenishment transfers to the locations not received yet: (location id, product id) -> units."""
    left = case(
        (
            Transfer.status == TransferStatus.IN_TRANSIT,
            TransferLine.shipped - TransferLine.received - TransferLine.damaged,
        ),
        else_=TransferLine.qty,
    )
    rows = db.session.execute(
        select(Transfer.to_location_id, TransferLine.product_id, func.sum(left))
        .join(TransferLine, TransferLine.transfer_id == Transfer.id)
        .where(
            Transfer.to_location_id.in_(list(location_ids)),
            Transfer.for_order_id.is_(None),
            Transfer.status.in_(OPEN_TRANSFER_STATUSES),
        )
        .group_by(Transfer.to_location_id, TransferLine.product_id)
    ).all()
    return {(loc, product): max(int(units or 0), 0) for loc, product, units in rows}


def min_max_rows(location_code: str | None = None) -> list[dict[str, Any]]:
    """The rules (of one location, when given) with where each product stands: ``{location, sku, name, min, max,
    available, incoming, projected, below}``, by location and sku. Reads; no locks."""
    # Plain columns, not MinMax objects: a chain keeps thousands of rules, and the page reads them all. The product's
    # sku and name by key, one rule at a time: joined, PostgreSQL would rather read the whole catalogue to match
    # them than look a thousand up.
    sku = select(Product.sku).where(Product.id == MinMax.product_id).scalar_subquery()
    name = select(Product.name).where(Product.id == MinMax.product_id).scalar_subquery()
    query = (
        select(
            MinMax.location_id,
            MinMax.product_id,
            MinMax.min_qty,
            MinMax.max_qty,
            Location.code,
            sku,
            name,
            StockLevel.on_hand_sellable,
            StockLevel.reserved,
        )
        .join(Location, Location.id == MinMax.location_id)
        .outerjoin(
            StockLevel,
            (StockLevel.location_id == MinMax.location_id) & (StockLevel.product_id == MinMax.product_id),
        )
        .order_by(Location.code, sku)
    )
    if location_code:
        query = query.where(Location.code == location_code)
    rows = db.session.execute(query).all()
    incoming = _incoming({row[0] for row in rows})
    out = []
    for location_id, product_id, min_qty, max_qty, code, sku_, name_, on_hand, reserved in rows:
        available = int(on_hand or 0) - int(reserved or 0)
        coming = incoming.get((location_id, product_id), 0)
        out.append(
            {
                "location": code,
                "sku": sku_,
                "name": name_ or "",
                "min": min_qty,
                "max": max_qty,
                "available": available,
                "incoming": coming,
                "projected": available + coming,
                "below": available + coming < min_qty,
            }
        )
    return out


def suggestions(location_code: str | None = None, rows: list[dict[str, Any]] | None = None) -> list[rules.Suggestion]:
    """What to send where to bring every location below its min up to its max, from warehouses first (by priority),
    then other stores; the most short first. ``rows``: :func:`min_max_rows` when the caller read them already."""
    rows = [r for r in (rows if rows is not None else min_max_rows(location_code)) if r["below"]]
    if not rows:
        return []
    rows.sort(key=lambda r: (r["projected"] - r["min"], r["location"], r["sku"]))
    skus = sorted({r["sku"] for r in rows})
    sources: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for sku, code, free in db.session.execute(
        select(Product.sku, Location.code, StockLevel.on_hand_sellable - StockLevel.reserved)
        .join(Product, Product.id == StockLevel.product_id)
        .join(Location, Location.id == StockLevel.location_id)
        .where(Product.sku.in_(skus), StockLevel.on_hand_sellable > StockLevel.reserved)
        .order_by(Product.sku, (Location.kind != LocationKind.WAREHOUSE), Location.priority, Location.code)
    ):
        sources[sku].append((code, int(free)))
    needs = [rules.Need(r["location"], r["sku"], r["min"], r["max"], r["available"], r["incoming"]) for r in rows]
    return rules.suggest(needs, sources)


def transfers_from(chosen: Iterable[Mapping[str, Any]], actor: str | None = None) -> tuple[list[int], list[str]]:
    """Turn chosen suggestions (``[{"sku", "to", "from", "qty"}]``) into transfers, one per (from, to): the ids
    made, and what could not be made (each group all or nothing, said in words)."""
    groups: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pick in chosen:
        if pick.get("from") and pick.get("to") and pick.get("sku") and int(pick.get("qty") or 0) > 0:
            groups[(pick["from"], pick["to"])][pick["sku"]] += int(pick["qty"])
    made, problems = [], []
    for (source, target), lines in sorted(groups.items()):
        try:
            transfer = create_transfer(
                source, target, [{"sku": sku, "qty": qty} for sku, qty in sorted(lines.items())], actor, "web"
            )
            made.append(transfer.id)
        except InsufficientStock as exc:
            short = ", ".join(f"{d['sku']} ({d['available']} available)" for d in exc.details)
            problems.append(f"{source} → {target}: not enough stock of {short}")
        except ValidationError as exc:
            problems.append(f"{source} → {target}: " + "; ".join(d["message"] for d in exc.details))
    return made, problems
