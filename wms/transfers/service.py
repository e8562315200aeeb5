"""Transfers between locations (docs/api.md, "Store endpoints").

A transfer's units are reserved at its source like an order's, under an order (:attr:`Transfer.order_id`), so that
waves, picking and packing take them with no code of their own:

- a manager's or an integration's transfer (:func:`create_transfer`) gets an order of the internal transfers
  channel (:data:`TRANSFERS_CHANNEL`), which no sales channel sees;
- a pickup order whose units wait in a warehouse (reservations with ``needs_transfer``) travels under its own
  order (:func:`open_pickup_transfers`): waves pick it at the warehouse, and the order goes ``in_transit`` when
  the transfer ships.

Shipping (``wms.shipping.service``) puts the units in transit at the destination (:func:`send`); the destination's
``transfer_receive`` task (``wms.tasks.kinds.transfer_receive``) takes them in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.auth.models import MANAGER_ROLES, User
from wms.catalog.models import Product
from wms.channels.models import Channel
from wms.errors import InsufficientStock, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, BinKind, Location
from wms.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from wms.orders.service import request_hash
from wms.stock.bins import first_bin
from wms.stock.models import Reservation, StockLevel
from wms.stock.service import LedgerEntry, post_entries, record_changes
from wms.timeutil import isoformat, utcnow
from wms.transfers import rules
from wms.transfers.models import OPEN_TRANSFER_STATUSES, Transfer, TransferLine, TransferStatus
from wms.uow import unit_of_work

#: the internal channel whose orders carry manual and replenishment transfers through waves and packing
TRANSFERS_CHANNEL = "wms-transfers"
MAX_TRANSFER_ID = 2**31 - 1
MAX_LINES = 500
MAX_QTY = 1_000_000
#: bins that hold a destination's units in transit, first kind found first
IN_TRANSIT_BIN_KINDS = (BinKind.DOCK, BinKind.STAGING, BinKind.RETURNS, BinKind.PICK)


# --- making transfers ---------------------------------------------------------------------------------------------


def create_transfer(
    from_code: Any,
    to_code: Any,
    lines: Sequence[Mapping[str, Any]],
    actor: str | None = None,
    device: str | None = None,
) -> Transfer:
    """A transfer of ``lines`` (``[{"sku", "qty"}]``, a sku at most once) from one location to another, reserved at
    the source like an order: all lines or none. Locks the source's stock levels in (product, location) order.

    Raises ValidationError (unknown or equal locations, unknown sku, a sku twice, bad qty: every field at once),
    InsufficientStock (``[{"sku", "requested", "available"}]`` for every short line); nothing changes then."""
    errors: list[dict[str, str]] = []
    if not isinstance(lines, Sequence) or isinstance(lines, str | bytes) or not lines:
        raise ValidationError.one("lines", "name at least one line")
    if len(lines) > MAX_LINES:
        raise ValidationError.one("lines", f"at most {MAX_LINES} lines")
    with unit_of_work() as session:
        locations = {
            loc.code: loc
            for loc in session.execute(
                select(Location).where(Location.code.in_([c for c in (from_code, to_code) if isinstance(c, str)]))
            ).scalars()
        }
        source, target = locations.get(from_code), locations.get(to_code)
        if source is None:
            errors.append({"field": "from", "message": f"unknown location {from_code!r}"})
        if target is None:
            errors.append({"field": "to", "message": f"unknown location {to_code!r}"})
        if source is not None and source is target:
            errors.append({"field": "to", "message": "a transfer goes to another location than it comes from"})
        skus = [line.get("sku") if isinstance(line, Mapping) else None for line in lines]
        products = {
            p.sku: p
            for p in session.execute(select(Product).where(Product.sku.in_([s for s in skus if isinstance(s, str)])))
            .scalars()
            .all()
        }
        seen: set[str] = set()
        for i, line in enumerate(lines):
            sku = skus[i]
            qty = line.get("qty") if isinstance(line, Mapping) else None
            if sku not in products:
                errors.append({"field": f"lines[{i}].sku", "message": f"unknown sku {sku!r}"})
            elif sku in seen:
                errors.append({"field": f"lines[{i}].sku", "message": f"{sku} is on an earlier line: one line per sku"})
            seen.add(sku)  # type: ignore[arg-type]
            if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QTY:
                errors.append({"field": f"lines[{i}].qty", "message": f"a whole number from 1 to {MAX_QTY}"})
        if errors:
            raise ValidationError(errors)
        assert source is not None and target is not None
        wanted = [(products[line["sku"]], int(line["qty"])) for line in lines]
        _reserve_or_refuse(session, source.id, wanted)
        now = utcnow()
        order = Order(
            channel_id=_transfers_channel(session),
            external_id=f"transfer-{source.code}-{now.timestamp():.6f}",
            fulfilment="ship",
            status=OrderStatus.RESERVED,
            customer={"name": target.name or target.code},
            ship_to=None,
            request_hash=request_hash({"from": source.code, "to": target.code, "lines": list(map(dict, lines))}),
            created_at=now,
            updated_at=now,
        )
        order.lines = [
            OrderLine(line_no=i, product_id=product.id, qty=qty, picked=0, shipped=0, collected=0, declined=0)
            for i, (product, qty) in enumerate(wanted, start=1)
        ]
        for order_line in order.lines:
            order_line.reservations = [
                Reservation(
                    product_id=order_line.product_id,
                    location_id=source.id,
                    qty=order_line.qty,
                    open_qty=order_line.qty,
                    needs_transfer=False,
                    deliver_to_location_id=target.id,
                    created_at=now,
                )
            ]
        order.events = [OrderEvent(status=OrderStatus.RESERVED, actor=actor, device=device, at=now)]
        session.add(order)
        session.flush()
        transfer = Transfer(
            from_location_id=source.id,
            to_location_id=target.id,
            status=TransferStatus.REQUESTED,
            order_id=order.id,
            actor=actor,
            device=device,
        )
        transfer.lines = [
            TransferLine(line_no=ol.line_no, product_id=ol.product_id, order_line_id=ol.id, qty=ol.qty)
            for ol in order.lines
        ]
        session.add(transfer)
        session.flush()
        order.external_id = f"TR-{transfer.id}"
        record_changes(session, [(product.id, source.id) for product, _qty in wanted])
    return transfer


def _reserve_or_refuse(session: Session, location_id: int, wanted: list[tuple[Product, int]]) -> None:
    """Reserve the units at the location, levels in product order (the lock order of every reservation); every
    short line named at once (InsufficientStock) when any is short."""
    levels = StockLevel.__table__.c
    short = []
    for product, qty in sorted(wanted, key=lambda pq: pq[0].id):
        done = session.connection().execute(
            update(StockLevel.__table__)
            .where(
                levels.product_id == product.id,
                levels.location_id == location_id,
                levels.on_hand_sellable - levels.reserved >= qty,
            )
            .values(reserved=levels.reserved + qty)
        )
        if done.rowcount != 1:
            short.append((product, qty))
    if short:
        available = dict(
            session.execute(
                select(StockLevel.product_id, StockLevel.on_hand_sellable - StockLevel.reserved).where(
                    StockLevel.location_id == location_id, StockLevel.product_id.in_([p.id for p, _ in short])
                )
            ).all()
        )
        raise InsufficientStock(
            "not enough stock for " + ", ".join(p.sku for p, _ in short),
            [{"sku": p.sku, "requested": q, "available": max(int(available.get(p.id, 0)), 0)} for p, q in short],
        )


def _transfers_channel(session: Session) -> int:
    """The internal transfers channel's id, made on first use (a concurrent first use makes it once)."""
    found = session.execute(select(Channel.id).where(Channel.code == TRANSFERS_CHANNEL)).scalar_one_or_none()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            channel = Channel(code=TRANSFERS_CHANNEL, name="Transfers (internal)", buffer=0)
            session.add(channel)
        return channel.id
    except IntegrityError:
        return session.execute(select(Channel.id).where(Channel.code == TRANSFERS_CHANNEL)).scalar_one()


def open_pickup_transfers(session: Session, location_id: int | None = None, order_ids: list[int] | None = None) -> int:
    """A transfer for every pickup order's units reserved at a warehouse for its store (``needs_transfer``) that has
    none yet: one per (order, warehouse), its lines the order lines' units there. Only the orders at
    ``location_id`` (a source) or of ``order_ids`` when given. Runs in the caller's unit of work; how many it
    opened. Locks the orders it opens transfers for, in id order (a wave has locked them already)."""
    query = (
        select(Reservation.location_id, Reservation.deliver_to_location_id, OrderLine.order_id, OrderLine.id)
        .add_columns(OrderLine.product_id, func.sum(Reservation.qty))
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Reservation.needs_transfer.is_(True),
            Reservation.deliver_to_location_id.is_not(None),
            Order.status.in_([OrderStatus.RESERVED, OrderStatus.PICKING]),
            ~exists().where(Transfer.order_id == Order.id, Transfer.from_location_id == Reservation.location_id),
        )
        .group_by(
            Reservation.location_id,
            Reservation.deliver_to_location_id,
            OrderLine.order_id,
            OrderLine.id,
            OrderLine.product_id,
        )
        .order_by(OrderLine.order_id, Reservation.location_id, OrderLine.id)
    )
    if location_id is not None:
        query = query.where(Reservation.location_id == location_id)
    if order_ids is not None:
        query = query.where(OrderLine.order_id.in_(order_ids))
    waiting = sorted({row.order_id for row in session.execute(query)})
    if not waiting:
        return 0
    # Lock the orders (in id order, as a wave does) and read again: a wave or another worker round that opened
    # the transfer meanwhile has committed it, and the unique (order, source) never fires.
    session.execute(select(Order.id).where(Order.id.in_(waiting)).order_by(Order.id).with_for_update()).all()
    grouped: dict[tuple[int, int, int], list[tuple[int, int, int]]] = defaultdict(list)
    for source, target, order_id, line_id, product_id, qty in session.execute(
        query.where(OrderLine.order_id.in_(waiting))
    ):
        grouped[(order_id, source, target)].append((line_id, product_id, int(qty)))
    for (order_id, source, target), lines in grouped.items():
        transfer = Transfer(
            from_location_id=source,
            to_location_id=target,
            status=TransferStatus.REQUESTED,
            order_id=order_id,
            for_order_id=order_id,
            actor="worker",
        )
        transfer.lines = [
            TransferLine(line_no=i, product_id=product_id, order_line_id=line_id, qty=qty)
            for i, (line_id, product_id, qty) in enumerate(lines, start=1)
        ]
        session.add(transfer)
    session.flush()
    return len(grouped)


def pickup_transfers_due() -> int:
    """Worker stage: open the transfers of pickup orders waiting for warehouse stock; how many. Reads first and
    writes only when there is something to open (on SQLite a write takes the database's lock every round)."""
    waiting = db.session.execute(
        select(Reservation.id)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Reservation.needs_transfer.is_(True),
            Order.status.in_([OrderStatus.RESERVED, OrderStatus.PICKING]),
            ~exists().where(Transfer.order_id == Order.id, Transfer.from_location_id == Reservation.location_id),
        )
        .limit(1)
    ).first()
    db.session.rollback()
    if waiting is None:
        return 0
    try:
        with unit_of_work() as session:
            return open_pickup_transfers(session)
    except IntegrityError:  # a wave opened one meanwhile: the next round sees it
        return 0


# --- reading -----------------------------------------------------------------------------------------------------


def get_transfer(transfer_id: int, user: User | None = None) -> Transfer:
    """The transfer; a clerk or picker sees only the transfers of their location (either end). Raises NotFound."""
    if isinstance(transfer_id, bool) or not isinstance(transfer_id, int) or not 0 < transfer_id <= MAX_TRANSFER_ID:
        raise NotFound(f"no transfer {transfer_id}", {"transfer_id": transfer_id})
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None or not may_see(transfer, user):
        raise NotFound(f"no transfer {transfer_id}", {"transfer_id": transfer_id})
    return transfer


def may_see(transfer: Transfer, user: User | None) -> bool:
    """A manager, admin or system caller sees every transfer; a clerk or picker those of their location."""
    if user is None or user.role in MANAGER_ROLES:
        return True
    return user.location_id in (transfer.from_location_id, transfer.to_location_id)


def find_transfers(
    user: User | None, order_id: int | None = None, location_code: str | None = None, status: str | None = None
) -> list[Transfer]:
    """Transfers the caller may see, newest first (at most 200): of a pickup order, to or from a location, in a
    status (``open``: not yet received or cancelled)."""
    query = select(Transfer).order_by(Transfer.id.desc()).limit(200)
    if order_id is not None:
        query = query.where((Transfer.order_id == order_id) | (Transfer.for_order_id == order_id))
    if location_code is not None:
        loc = select(Location.id).where(Location.code == location_code).scalar_subquery()
        query = query.where((Transfer.from_location_id == loc) | (Transfer.to_location_id == loc))
    if status == "open":
        query = query.where(Transfer.status.in_(OPEN_TRANSFER_STATUSES))
    elif status is not None:
        query = query.where(Transfer.status == status)
    if user is not None and user.role not in MANAGER_ROLES:
        query = query.where(
            (Transfer.from_location_id == user.location_id) | (Transfer.to_location_id == user.location_id)
        )
    return list(db.session.execute(query).scalars())


def transfer_view(transfer: Transfer) -> dict[str, Any]:
    """The API's transfer: ``{id, status, from, to, order_id, lines: [{sku, qty, shipped, received, damaged}],
    variance, created_at, updated_at, shipped_at, received_at}`` (``order_id``: the pickup order it brings, else
    None)."""
    session = db.session
    codes = dict(
        session.execute(
            select(Location.id, Location.code).where(
                Location.id.in_([transfer.from_location_id, transfer.to_location_id])
            )
        ).all()
    )
    order_status = session.execute(select(Order.status).where(Order.id == transfer.order_id)).scalar_one()
    skus = dict(
        session.execute(
            select(Product.id, Product.sku).where(Product.id.in_([line.product_id for line in transfer.lines]))
        ).all()
    )
    return {
        "id": transfer.id,
        "status": rules.shown_status(transfer.status, order_status),
        "from": codes.get(transfer.from_location_id),
        "to": codes.get(transfer.to_location_id),
        "order_id": transfer.for_order_id,
        "lines": [
            {
                "sku": skus.get(line.product_id),
                "qty": line.qty,
                "shipped": line.shipped,
                "received": line.received,
                "damaged": line.damaged,
            }
            for line in transfer.lines
        ],
        "variance": transfer.variance,
        "created_at": isoformat(transfer.created_at),
        "updated_at": isoformat(transfer.updated_at),
        "shipped_at": isoformat(transfer.shipped_at) if transfer.shipped_at else None,
        "received_at": isoformat(transfer.received_at) if transfer.received_at else None,
    }


# --- shipping and arrival --------------------------------------------------------------------------------------


def locked_transfer(session: Session, transfer_id: int) -> Transfer:
    """The transfer row, locked. Raises NotFound."""
    transfer = session.execute(
        select(Transfer).where(Transfer.id == transfer_id).with_for_update()
    ).scalar_one_or_none()
    if transfer is None:
        raise NotFound(f"no transfer {transfer_id}", {"transfer_id": transfer_id})
    return transfer


def shipping_transfer(session: Session, order_id: int, location_id: int) -> Transfer | None:
    """The transfer whose units the order's packed units at ``location_id`` are (not shipped yet), locked; None
    when the order ships to a customer."""
    return session.execute(
        select(Transfer)
        .where(
            Transfer.order_id == order_id,
            Transfer.from_location_id == location_id,
            Transfer.status == TransferStatus.REQUESTED,
        )
        .with_for_update()
    ).scalar_one_or_none()


def in_transit_bin(session: Session, location_id: int) -> Bin:
    """Where a location keeps the units on their way to it (status ``in_transit``): its dock, else a staging,
    returns or pick bin. Raises InvalidState when it has none."""
    found = first_bin(session, location_id, IN_TRANSIT_BIN_KINDS)
    if found is None:
        code = session.execute(select(Location.code).where(Location.id == location_id)).scalar_one()
        raise InvalidState(f"{code} has no bin to receive a transfer into: add a dock bin", {"location": code})
    return found


def send(
    session: Session,
    transfer: Transfer,
    units: list[tuple[int, str, int, Bin, int | None]],
    reference: str,
    actor: str | None,
    device: str | None,
) -> Bin:
    """The transfer's packed ``units`` (``[(product id, lot, qty, the staging bin they sit in, order line id)]``)
    leave the source for the destination's in-transit bin (ledger reason ``transfer``, status ``in_transit``:
    on hand there, not sellable); the transfer's lines count them shipped and it goes ``in_transit``. A pickup
    order goes ``in_transit`` too, its lines' ``picked`` falling by what left (the store picks them again).
    Runs in the caller's unit of work (shipping's); the transfer and its order are locked by the caller. Returns
    the in-transit bin."""
    target = in_transit_bin(session, transfer.to_location_id)
    skus = dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_({u[0] for u in units}))).all())
    post_entries(
        session,
        [
            LedgerEntry(
                product_id=product_id,
                sku=skus.get(product_id, ""),
                qty=qty,
                lot=lot,
                reason="transfer",
                from_bin=source,
                from_status="sellable",
                to_bin=target,
                to_status="in_transit",
                reference=reference,
                note=f"transfer {transfer.id}",
                actor=actor,
                device=device,
            )
            for product_id, lot, qty, source, _line in units
            if qty > 0
        ],
    )
    by_line: dict[int | None, int] = defaultdict(int)
    for _product_id, _lot, qty, _source, order_line_id in units:
        by_line[order_line_id] += qty
    left = dict(by_line)
    for line in transfer.lines:
        take = left.get(line.order_line_id, 0)
        line.shipped += take
        left[line.order_line_id] = 0
    order = session.get(Order, transfer.order_id)
    lines = {ol.id: ol for ol in session.execute(select(OrderLine).where(OrderLine.order_id == order.id)).scalars()}
    for order_line_id, qty in by_line.items():
        if order_line_id in lines:
            if transfer.for_order_id is not None:
                lines[order_line_id].picked -= qty
            else:
                lines[order_line_id].shipped += qty
    transfer.status = TransferStatus.IN_TRANSIT
    transfer.shipped_at = utcnow()
    return target


def arrival(session: Session, transfer: Transfer) -> list[rules.Arrival]:
    skus = dict(
        session.execute(
            select(Product.id, Product.sku).where(Product.id.in_([line.product_id for line in transfer.lines]))
        ).all()
    )
    return [
        rules.Arrival(skus.get(line.product_id, ""), line.shipped, line.received, line.damaged)
        for line in transfer.lines
    ]
