"""Stock: receipts, adjustments, bin-to-bin moves, stock queries and the ledger check.

Every change of a quant writes a ``StockMovement`` in the same transaction; every change of a ``StockLevel``
writes a ``StockChange`` (the availability change log). Levels are changed with conditional UPDATEs, locked in
(product id, location id) order.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Insert,
    Integer,
    bindparam,
    column,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wms.catalog.models import Product
from wms.catalog.service import products_by_sku
from wms.errors import InsufficientStock, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import SELLABLE_BIN_KINDS, Bin, Location
from wms.locations.service import find_bin, find_location
from wms.stock.models import (
    Lot,
    MovementReason,
    Receipt,
    Reservation,
    StockChange,
    StockLevel,
    StockMovement,
    StockQuant,
    StockStatus,
)
from wms.timeutil import utcnow
from wms.uow import unit_of_work


def _dialect_insert(session: Session, table):
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


# --- low-level writers, used inside a unit of work by every service that moves stock -----------------------


# The writers below run in every stock move: their statements are built once (per dialect for the upserts),
# since building a statement costs more than running it on SQLite.
@cache
def _quant_upsert(dialect: str) -> Insert:
    table = StockQuant.__table__
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(
        location_id=bindparam("location_id"),
        bin_id=bindparam("bin_id"),
        product_id=bindparam("product_id"),
        lot=bindparam("lot"),
        status=bindparam("status"),
        qty=bindparam("delta"),
    )
    return stmt.on_conflict_do_update(
        index_elements=["bin_id", "product_id", "lot", "status"], set_={"qty": table.c.qty + bindparam("delta")}
    )


_QUANT_WHERE = (
    StockQuant.bin_id == bindparam("q_bin_id"),
    StockQuant.product_id == bindparam("q_product_id"),
    StockQuant.lot == bindparam("q_lot"),
    StockQuant.status == bindparam("q_status"),
)
_QUANT_TAKE = (
    update(StockQuant)
    .where(*_QUANT_WHERE, StockQuant.qty >= bindparam("take"))
    .values(qty=StockQuant.qty - bindparam("take"))
    .execution_options(synchronize_session=False)
)


@cache
def _level_upsert(dialect: str) -> Insert:
    table = StockLevel.__table__
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(
        product_id=bindparam("product_id"),
        location_id=bindparam("location_id"),
        on_hand_sellable=bindparam("delta"),
        reserved=0,
    )
    return stmt.on_conflict_do_update(
        index_elements=["product_id", "location_id"],
        set_={"on_hand_sellable": table.c.on_hand_sellable + bindparam("delta")},
    )


_LEVEL_TAKE = (
    update(StockLevel)
    .where(
        StockLevel.product_id == bindparam("l_product_id"),
        StockLevel.location_id == bindparam("l_location_id"),
        StockLevel.on_hand_sellable - StockLevel.reserved >= bindparam("take"),
    )
    .values(on_hand_sellable=StockLevel.on_hand_sellable - bindparam("take"))
    .execution_options(synchronize_session=False)
)
_INSERT_MOVEMENTS = insert(StockMovement).returning(StockMovement.id, sort_by_parameter_order=True)


def bump_quant(session: Session, bin_: Bin, product_id: int, lot: str, status: str, delta: int) -> None:
    """Add ``delta`` units to a quant (creating it). A decrement below zero raises InsufficientStock."""
    key = {"q_bin_id": bin_.id, "q_product_id": product_id, "q_lot": lot, "q_status": status}
    if delta >= 0:
        row = {"bin_id": bin_.id, "product_id": product_id, "lot": lot, "status": status}
        conn = session.connection()
        conn.execute(_quant_upsert(conn.dialect.name), {**row, "location_id": bin_.location_id, "delta": delta})
        return
    result = session.connection().execute(_QUANT_TAKE, {**key, "take": -delta})
    if result.rowcount != 1:
        have = session.execute(
            select(func.coalesce(func.sum(StockQuant.qty), 0)).where(*_QUANT_WHERE), key
        ).scalar_one()
        raise InsufficientStock(
            f"bin {bin_.code} holds only {have} {status} unit(s)" + (f" of lot {lot}" if lot else ""),
            [{"bin": bin_.code, "lot": lot, "status": status, "requested": -delta, "available": have}],
        )


def bump_on_hand(session: Session, product_id: int, location_id: int, delta: int, sku: str = "") -> None:
    """Change on-hand sellable at a location. A decrement below what is reserved raises InsufficientStock."""
    if delta == 0:
        return
    if delta > 0:
        row = {"product_id": product_id, "location_id": location_id, "delta": delta}
        conn = session.connection()
        conn.execute(_level_upsert(conn.dialect.name), row)
    else:
        result = session.connection().execute(
            _LEVEL_TAKE, {"l_product_id": product_id, "l_location_id": location_id, "take": -delta}
        )
        if result.rowcount != 1:
            level = session.execute(
                select(StockLevel.on_hand_sellable, StockLevel.reserved).where(
                    StockLevel.product_id == product_id, StockLevel.location_id == location_id
                )
            ).first()
            on_hand, reserved = level if level else (0, 0)
            raise InsufficientStock(
                f"cannot take {-delta} unit(s) of {sku or product_id}: {on_hand} on hand, {reserved} reserved",
                [
                    {
                        "sku": sku,
                        "requested": -delta,
                        "available": max(0, on_hand - reserved),
                        "reserved": reserved,
                    }
                ],
            )
    record_changes(session, [(product_id, location_id)])


@cache
def change_log_insert(dialect: str) -> Insert:
    """The INSERT ... SELECT that appends (product id, location id) pairs to the availability change log, each
    row stamped with the writing transaction's id: what a change-log row is, stated once. Its parameters come
    from :func:`change_log_params`. Executed by :func:`record_changes`; order intake on PostgreSQL runs it as a
    CTE of its single statement. One text for any number of pairs, so that it is compiled (and on PostgreSQL
    prepared) once."""
    if dialect == "postgresql":
        pairs = (
            func.unnest(
                bindparam("changed_products", type_=ARRAY(Integer)),
                bindparam("changed_locations", type_=ARRAY(Integer)),
            )
            .table_valued(column("product_id", Integer), column("location_id", Integer))
            .render_derived(name="changed")
        )
        product_id, location_id, txid = pairs.c.product_id, pairs.c.location_id, func.txid_current()
    else:
        pairs = func.json_each(bindparam("changed_pairs")).table_valued("value").alias("changed")
        product_id = func.json_extract(pairs.c.value, "$[0]")
        location_id = func.json_extract(pairs.c.value, "$[1]")
        txid = literal_column("0", BigInteger)  # writers are serialised: seq order is commit order
    return insert(StockChange.__table__).from_select(
        ["txid", "product_id", "location_id", "created_at"],
        select(txid, product_id, location_id, bindparam("changed_at", type_=DateTime(timezone=True))).select_from(
            pairs
        ),
    )


def change_log_params(dialect: str, pairs: Iterable[tuple[int, int]], now: datetime | None = None) -> dict[str, Any]:
    """The parameters of :func:`change_log_insert` for ``pairs`` (at least one), each pair once, in order."""
    ordered = sorted(set(pairs))
    params: dict[str, Any] = {"changed_at": now or utcnow()}
    if dialect == "postgresql":
        params["changed_products"] = [p for p, _ in ordered]
        params["changed_locations"] = [loc for _, loc in ordered]
    else:
        params["changed_pairs"] = json.dumps(ordered)
    return params


def record_changes(session: Session, pairs: list[tuple[int, int]]) -> None:
    """Append (product id, location id) pairs to the availability change log, in the caller's transaction."""
    if pairs:
        conn = session.connection()
        # Core, not the ORM's bulk insert: this runs in every stock-changing transaction, order intake included.
        conn.execute(change_log_insert(conn.dialect.name), change_log_params(conn.dialect.name, pairs))


@dataclass
class LedgerEntry:
    product_id: int
    qty: int
    reason: str
    lot: str = ""
    from_bin: Bin | None = None
    from_status: str | None = None
    to_bin: Bin | None = None
    to_status: str | None = None
    reference: str | None = None
    note: str | None = None
    actor: str | None = None
    device: str | None = None
    sku: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def post_entries(session: Session, entries: list[LedgerEntry]) -> list[dict[str, Any]]:
    """Apply ledger entries: quants, on-hand sellable levels (in lock order), movement rows, change log.

    Raises InsufficientStock when a source quant or a level would go below zero / below reserved; the caller's
    unit of work then rolls everything back.

    Its statements run on the session's connection, past the ORM (they are built once and touch only tables the
    ORM never writes), after one flush of what the caller changed: the order of writes stays the one autoflush
    would give.
    """
    session.flush()
    level_deltas: dict[tuple[int, int], int] = defaultdict(int)
    skus: dict[int, str] = {}
    for e in entries:
        skus[e.product_id] = e.sku
        if e.from_bin is not None and e.from_bin.kind in SELLABLE_BIN_KINDS and e.from_status == "sellable":
            level_deltas[(e.product_id, e.from_bin.location_id)] -= e.qty
        if e.to_bin is not None and e.to_bin.kind in SELLABLE_BIN_KINDS and e.to_status == "sellable":
            level_deltas[(e.product_id, e.to_bin.location_id)] += e.qty
    # Levels first, in (product, location) order: the only rows other transactions contend on.
    for (product_id, location_id), delta in sorted(level_deltas.items()):
        bump_on_hand(session, product_id, location_id, delta, skus.get(product_id, ""))
    # Then quants, netted and in a fixed order, so that two transactions never wait on each other crosswise.
    quant_deltas: dict[tuple[int, int, str, str], int] = defaultdict(int)
    bins: dict[int, Bin] = {}
    for e in entries:
        if e.from_bin is not None:
            bins[e.from_bin.id] = e.from_bin
            quant_deltas[(e.from_bin.id, e.product_id, e.lot, e.from_status or "sellable")] -= e.qty
        if e.to_bin is not None:
            bins[e.to_bin.id] = e.to_bin
            quant_deltas[(e.to_bin.id, e.product_id, e.lot, e.to_status or "sellable")] += e.qty
    for (bin_id, product_id, lot, status), delta in sorted(quant_deltas.items()):
        if delta:
            bump_quant(session, bins[bin_id], product_id, lot, status, delta)
    rows = [
        {
            "product_id": e.product_id,
            "lot": e.lot,
            "qty": e.qty,
            "from_bin_id": e.from_bin.id if e.from_bin else None,
            "from_status": e.from_status if e.from_bin else None,
            "to_bin_id": e.to_bin.id if e.to_bin else None,
            "to_status": e.to_status if e.to_bin else None,
            "reason": e.reason,
            "reference": e.reference,
            "note": e.note,
            "actor": e.actor,
            "device": e.device,
        }
        for e in entries
    ]
    if rows:
        ids = session.connection().execute(_INSERT_MOVEMENTS, rows)
        for row, (movement_id,) in zip(rows, ids, strict=True):
            row["id"] = movement_id
    return rows


# --- resolving input -------------------------------------------------------------------------------------


def _resolve_location_and_bin(
    session: Session, location_code: str, bin_code: str, field_prefix: str = ""
) -> tuple[Location, Bin]:
    location = find_location(location_code, session)
    if location is None:
        raise ValidationError.one(f"{field_prefix}location", f"unknown location {location_code!r}")
    # Shared lock: upsert_bin must not make the bin sellable or not between this read and the commit.
    bin_ = find_bin(session, location.id, bin_code, share_lock=True)
    if bin_ is None:
        raise ValidationError.one(f"{field_prefix}bin", f"no bin {bin_code!r} at {location_code}")
    return location, bin_


def _ensure_lot(session: Session, product: Product, lot: str, expiry: date | None) -> None:
    if not lot:
        return
    # Insert-or-nothing: two deliveries of one new lot may race, and a read-then-insert would let one fail.
    session.execute(
        _dialect_insert(session, Lot.__table__)
        .values(product_id=product.id, code=lot, expiry=expiry)
        .on_conflict_do_nothing(index_elements=["product_id", "code"])
    )
    if expiry:
        session.execute(
            update(Lot)
            .where(Lot.product_id == product.id, Lot.code == lot, Lot.expiry.is_(None))
            .values(expiry=expiry)
            .execution_options(synchronize_session=False)
        )


# --- services ---------------------------------------------------------------------------------------------


def movement_view(session: Session, rows: list[StockMovement]) -> list[dict[str, Any]]:
    bins = {b.id: b for b in session.execute(select(Bin)).scalars()} if rows else {}
    products = (
        {
            p.id: p.sku
            for p in session.execute(select(Product).where(Product.id.in_({r.product_id for r in rows}))).scalars()
        }
        if rows
        else {}
    )
    return [
        {
            "id": r.id,
            "sku": products.get(r.product_id),
            "lot": r.lot or None,
            "qty": r.qty,
            "from_bin": bins[r.from_bin_id].code if r.from_bin_id else None,
            "to_bin": bins[r.to_bin_id].code if r.to_bin_id else None,
            "status": r.to_status or r.from_status,
            "reason": r.reason,
            "reference": r.reference,
            # Who and on which device (beyond the contract's fields, which extra fields may join).
            "actor": r.actor,
            "device": r.device,
        }
        for r in rows
    ]


def receive(
    location_code: str,
    bin_code: str,
    reference: str,
    lines: list[dict[str, Any]],
    actor: str | None = None,
    device: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Book a delivery into ``bin_code``. Idempotent by (location, reference): a replay returns the first result
    with ``created`` False and moves nothing, also when it races the first delivery.

    Locks the stock levels it raises (in product, location order). Raises ValidationError for an unknown
    location, bin or sku, a missing lot on a lot-tracked product, or a bad expiry.
    """
    with unit_of_work() as session:
        location, bin_ = _resolve_location_and_bin(session, location_code, bin_code)
        existing = session.execute(
            select(Receipt).where(Receipt.location_id == location.id, Receipt.reference == reference)
        ).scalar_one_or_none()
        if existing is not None:
            return receipt_view(session, existing), False
        products = products_by_sku(session, [line["sku"] for line in lines])
        errors = []
        for i, line in enumerate(lines):
            product = products.get(line["sku"])
            if product is None:
                errors.append({"field": f"lines[{i}].sku", "message": f"unknown sku {line['sku']!r}"})
            elif product.track_lots and not line.get("lot"):
                errors.append({"field": f"lines[{i}].lot", "message": f"{product.sku} is tracked by lot: give the lot"})
        if errors:
            raise ValidationError(errors)
        # Insert-or-nothing: when a delivery with this reference commits between the read above and here, the
        # insert waits for it and inserts nothing, and this request answers with that delivery.
        receipt_id = session.execute(
            _dialect_insert(session, Receipt.__table__)
            .values(location_id=location.id, bin_id=bin_.id, reference=reference, actor=actor)
            .on_conflict_do_nothing(index_elements=["location_id", "reference"])
            .returning(Receipt.__table__.c.id)
        ).scalar_one_or_none()
        if receipt_id is None:
            existing = session.execute(
                select(Receipt).where(Receipt.location_id == location.id, Receipt.reference == reference)
            ).scalar_one()
            return receipt_view(session, existing), False
        receipt = session.get(Receipt, receipt_id)
        # New lots in a fixed order: two deliveries of the same new lots then never wait on each other crosswise.
        for line in sorted(lines, key=lambda line: (products[line["sku"]].id, line.get("lot") or "")):
            _ensure_lot(session, products[line["sku"]], line.get("lot") or "", line.get("expiry"))
        entries = []
        for line in lines:
            product = products[line["sku"]]
            lot = line.get("lot") or ""
            entries.append(
                LedgerEntry(
                    product_id=product.id,
                    sku=product.sku,
                    qty=line["qty"],
                    lot=lot,
                    reason="receipt",
                    to_bin=bin_,
                    to_status="sellable",
                    reference=f"receipt:{receipt.id}",
                    note=reference,
                    actor=actor,
                    device=device,
                )
            )
        post_entries(session, entries)
        return receipt_view(session, receipt), True


def receipt_view(session: Session, receipt: Receipt) -> dict[str, Any]:
    movements = list(
        session.execute(
            select(StockMovement).where(StockMovement.reference == f"receipt:{receipt.id}").order_by(StockMovement.id)
        ).scalars()
    )
    location = session.get(Location, receipt.location_id)
    bin_ = session.get(Bin, receipt.bin_id)
    return {
        "id": receipt.id,
        "reference": receipt.reference,
        "location": location.code,
        "bin": bin_.code,
        "movements": movement_view(session, movements),
    }


def adjust(
    location_code: str,
    bin_code: str,
    sku: str,
    delta: int,
    reason: str,
    lot: str = "",
    status: str = "sellable",
    actor: str | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Add or remove units in a bin with a reason (a ledger row with reason ``adjustment``).

    Locks the stock level. Raises ValidationError (unknown location/bin/sku, delta 0), InsufficientStock when
    the bin holds less or when on-hand sellable would fall below what is reserved.
    """
    with unit_of_work() as session:
        _location, bin_ = _resolve_location_and_bin(session, location_code, bin_code)
        product = products_by_sku(session, [sku]).get(sku)
        if product is None:
            raise ValidationError.one("sku", f"unknown sku {sku!r}")
        if delta == 0:
            raise ValidationError.one("delta", "must not be 0")
        if product.track_lots and not lot:
            raise ValidationError.one("lot", f"{sku} is tracked by lot: give the lot")
        _ensure_lot(session, product, lot, None)
        entry = LedgerEntry(
            product_id=product.id,
            sku=sku,
            qty=abs(delta),
            lot=lot,
            reason="adjustment",
            note=reason,
            actor=actor,
            device=device,
        )
        if delta > 0:
            entry.to_bin, entry.to_status = bin_, status
        else:
            entry.from_bin, entry.from_status = bin_, status
        [row] = post_entries(session, [entry])
        movement = session.get(StockMovement, row["id"])
        return {
            "movement": movement_view(session, [movement])[0],
            "sku": sku,
            "delta": delta,
            "reason": reason,
        }


def move(
    location_code: str,
    from_bin_code: str,
    to_bin_code: str,
    sku: str,
    qty: int,
    lot: str = "",
    status: str = "sellable",
    actor: str | None = None,
    device: str | None = None,
    home_location_id: int | None = None,
) -> dict[str, Any]:
    """Move units between two bins of one location. Moving out of a sellable bin into a non-sellable one lowers
    on-hand sellable and fails (InsufficientStock) when that would go below what is reserved, or when the bin
    holds less. Locks the stock level it changes. Raises ValidationError for an unknown location, bin or sku,
    a qty below 1, the same bin twice, or a missing lot on a lot-tracked product; NotFound for a location other
    than ``home_location_id`` when one is given (a picker moves stock only at their home location)."""
    with unit_of_work() as session:
        if home_location_id is not None:
            location = find_location(location_code, session)
            if location is not None and location.id != home_location_id:
                raise NotFound(f"no location {location_code!r} here", {"location": location_code})
        _location, from_bin = _resolve_location_and_bin(session, location_code, from_bin_code)
        _location, to_bin = _resolve_location_and_bin(session, location_code, to_bin_code, "to_")
        product = products_by_sku(session, [sku]).get(sku)
        if product is None:
            raise ValidationError.one("sku", f"unknown sku {sku!r}")
        errors = []
        if qty <= 0:
            errors.append({"field": "qty", "message": "must be at least 1"})
        if from_bin.id == to_bin.id:
            errors.append({"field": "to_bin", "message": "is the same bin"})
        if product.track_lots and not lot:
            errors.append({"field": "lot", "message": f"{sku} is tracked by lot: give the lot"})
        if errors:
            raise ValidationError(errors)
        post_entries(
            session,
            [
                LedgerEntry(
                    product_id=product.id,
                    sku=sku,
                    qty=qty,
                    lot=lot,
                    reason="move",
                    from_bin=from_bin,
                    from_status=status,
                    to_bin=to_bin,
                    to_status=status,
                    actor=actor,
                    device=device,
                )
            ],
        )
        return {"sku": sku, "qty": qty, "from_bin": from_bin.code, "to_bin": to_bin.code}


def post_count(
    session: Session,
    bin_: Bin,
    changes: list[tuple[Product, str, int]],
    reference: str,
    note: str,
    actor: str | None = None,
    device: str | None = None,
) -> list[dict[str, Any]]:
    """Book what a count found: one ledger row with reason ``count`` per (product, lot, change) of ``changes`` (a
    gain comes into ``bin_``, a loss leaves it; sellable units), in the caller's unit of work. The caller has
    released what a loss takes from reservations first. Raises InsufficientStock like :func:`post_entries`."""
    entries = []
    for product, lot, change in changes:
        if change == 0:
            continue
        if change > 0:
            _ensure_lot(session, product, lot, None)
        entry = LedgerEntry(
            product_id=product.id,
            sku=product.sku,
            qty=abs(change),
            lot=lot,
            reason=MovementReason.COUNT,
            reference=reference,
            note=note,
            actor=actor,
            device=device,
        )
        if change > 0:
            entry.to_bin, entry.to_status = bin_, StockStatus.SELLABLE
        else:
            entry.from_bin, entry.from_status = bin_, StockStatus.SELLABLE
        entries.append(entry)
    return post_entries(session, entries)


def stock_items(sku: str | None = None, location_code: str | None = None) -> list[dict[str, Any]]:
    """Quants with units, filtered by sku and/or location. Raises NotFound for an unknown sku or location."""
    session = db.session
    query = (
        select(Product.sku, Location.code, Bin.code, StockQuant.lot, StockQuant.status, StockQuant.qty)
        .join(Product, Product.id == StockQuant.product_id)
        .join(Bin, Bin.id == StockQuant.bin_id)
        .join(Location, Location.id == StockQuant.location_id)
        .where(StockQuant.qty > 0)
        .order_by(Product.sku, Location.code, Bin.sequence, Bin.code, StockQuant.lot)
    )
    if sku:
        if session.execute(select(Product.id).where(Product.sku == sku)).first() is None:
            raise NotFound(f"no product with sku {sku!r}", {"sku": sku})
        query = query.where(Product.sku == sku)
    if location_code:
        if find_location(location_code, session) is None:
            raise NotFound(f"no location {location_code!r}", {"location": location_code})
        query = query.where(Location.code == location_code)
    return [
        {"sku": s, "location": loc, "bin": b, "lot": lot or None, "status": st, "qty": q}
        for s, loc, b, lot, st, q in session.execute(query)
    ]


# --- the ledger check -------------------------------------------------------------------------------------


def check_stock(session: Session | None = None) -> list[str]:
    """Recompute quants, on-hand sellable and reserved from the ledger and reservations; list every drift.

    An empty list means the stored quantities agree with the ledger.
    """
    session = session or db.session
    problems: list[str] = []
    into = select(
        StockMovement.to_bin_id.label("bin_id"),
        StockMovement.product_id,
        StockMovement.lot,
        StockMovement.to_status.label("status"),
        StockMovement.qty.label("qty"),
    ).where(StockMovement.to_bin_id.is_not(None))
    out = select(
        StockMovement.from_bin_id.label("bin_id"),
        StockMovement.product_id,
        StockMovement.lot,
        StockMovement.from_status.label("status"),
        (-StockMovement.qty).label("qty"),
    ).where(StockMovement.from_bin_id.is_not(None))
    flows = into.union_all(out).subquery()
    ledger = {
        (b, p, lot, st): q
        for b, p, lot, st, q in session.execute(
            select(flows.c.bin_id, flows.c.product_id, flows.c.lot, flows.c.status, func.sum(flows.c.qty)).group_by(
                flows.c.bin_id, flows.c.product_id, flows.c.lot, flows.c.status
            )
        )
    }
    quants = {(q.bin_id, q.product_id, q.lot, q.status): q.qty for q in session.execute(select(StockQuant)).scalars()}
    bins = {b.id: b for b in session.execute(select(Bin)).scalars()}
    skus = dict(session.execute(select(Product.id, Product.sku)).all())
    codes = dict(session.execute(select(Location.id, Location.code)).all())

    def where(key):
        b, p, lot, st = key
        return (
            f"{skus.get(p, p)} in {codes.get(bins[b].location_id)}/{bins[b].code}"
            + (f" lot {lot}" if lot else "")
            + f" ({st})"
        )

    for key in sorted(set(ledger) | set(quants), key=str):
        want, have = ledger.get(key, 0), quants.get(key, 0)
        if want != have:
            problems.append(f"quant {where(key)}: ledger says {want}, stored {have}")
        if have < 0:
            problems.append(f"quant {where(key)} is negative ({have})")

    sellable: dict[tuple[int, int], int] = defaultdict(int)
    for (b, p, _lot, st), q in ledger.items():
        if st == "sellable" and bins[b].kind in SELLABLE_BIN_KINDS:
            sellable[(p, bins[b].location_id)] += q
    reserved = {
        (p, loc): q
        for p, loc, q in session.execute(
            select(Reservation.product_id, Reservation.location_id, func.sum(Reservation.open_qty)).group_by(
                Reservation.product_id, Reservation.location_id
            )
        )
    }
    levels = {(lv.product_id, lv.location_id): lv for lv in session.execute(select(StockLevel)).scalars()}
    for key in sorted(set(sellable) | set(reserved) | set(levels)):
        p, loc = key
        name = f"{skus.get(p, p)} at {codes.get(loc, loc)}"
        level = levels.get(key)
        on_hand = level.on_hand_sellable if level else 0
        held = level.reserved if level else 0
        if on_hand != sellable.get(key, 0):
            problems.append(f"level {name}: on hand sellable from ledger {sellable.get(key, 0)}, stored {on_hand}")
        if held != (reserved.get(key) or 0):
            problems.append(f"level {name}: reserved by open reservations {reserved.get(key) or 0}, stored {held}")
        if held > on_hand or held < 0 or on_hand < 0:
            problems.append(f"level {name}: reserved {held} against on hand sellable {on_hand}")
    return problems
