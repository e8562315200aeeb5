"""Order intake, reads and cancellation.

Intake is idempotent by (channel, external id) and all or nothing: every line is reserved by one conditional
UPDATE of its stock level, taken in (product id, location id) order after every insert of the order, so that the
hot rows are locked only for the last statements of the transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import defaultdict
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    DateTime,
    Integer,
    Select,
    Table,
    bindparam,
    column,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload

from wms.catalog.models import Product
from wms.channels.models import Channel
from wms.channels.outbox import emit, outbox_insert
from wms.channels.rules import sellable
from wms.channels.service import ship_from_locations
from wms.errors import Forbidden, IdempotencyConflict, InsufficientStock, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import CANCELLABLE, Order, OrderEvent, OrderLine, OrderStatus
from wms.orders.rules import Allocation, Candidate, NotEnoughStock, route_pickup, route_ship
from wms.stock.models import Reservation, StockLevel
from wms.stock.service import change_log_insert, change_log_params, record_changes
from wms.timeutil import isoformat, utcnow
from wms.uow import unit_of_work

#: how often intake routes again when another order took the stock between the read and the reservation
ROUTING_ATTEMPTS = 20
PICKUP_CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 2/Z, 5/S, 8/B)


class _Lost(Exception):
    """A conditional reservation found less than the routing read: route again."""


def request_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(
    channel_id: int,
    payload: dict[str, Any],
    actor: str | None = None,
    buffer: int | None = None,
    device: str | None = None,
) -> tuple[Order, bool]:
    """Place an order for a channel; returns (order, created).

    ``payload`` is the validated request (``external_id``, ``fulfilment``, ``customer``, ``ship_to``,
    ``pickup_location``, ``lines``). The same external id with the same content returns the first order
    (created False); with other content raises IdempotencyConflict. Raises ValidationError (unknown sku or
    pickup location), InsufficientStock with ``[{"sku", "requested", "available"}]`` for every short line.
    Locks the stock levels it reserves, in (product id, location id) order; nothing is reserved on failure.
    A delivery order may take no more than the channel's availability, its safety ``buffer`` held back (read from
    the channel when not given); a pickup order may take all of the store's stock. ``actor`` and ``device`` are
    recorded on the order's first history event.
    """
    digest = request_hash(payload)
    try:
        return _place_new_order(channel_id, payload, digest, actor, buffer, device), True
    except (ValidationError, InsufficientStock, IntegrityError):
        # Only now look for an order with this external id: a replay fails on the unique (channel, external id)
        # at its first INSERT, before any stock is touched, so new orders (the common case) skip the query.
        db.session.rollback()
        existing = _find_existing(db.session, channel_id, payload["external_id"], digest)
        if existing is not None:
            return existing, False
        raise


def _place_new_order(
    channel_id: int, payload: dict[str, Any], digest: str, actor: str | None, buffer: int | None, device: str | None
) -> Order:
    session = db.session
    lines_in = payload["lines"]
    products, first_read = _products_and_levels(session, [line["sku"] for line in lines_in])
    errors = [
        {"field": f"lines[{i}].sku", "message": f"unknown sku {line['sku']!r}"}
        for i, line in enumerate(lines_in)
        if line["sku"] not in products
    ]
    pickup_store = None
    if payload["fulfilment"] == "pickup":
        code = payload.get("pickup_location")
        pickup_store = session.execute(select(Location).where(Location.code == code)).scalar_one_or_none()
        if pickup_store is None:
            errors.append({"field": "pickup_location", "message": f"unknown location {code!r}"})
        elif not pickup_store.pickup:
            errors.append({"field": "pickup_location", "message": f"{code} does not offer pickup"})
    if errors:
        raise ValidationError(errors)
    line_products = [products[line["sku"]] for line in lines_in]
    lines = [(product.id, line["qty"]) for product, line in zip(line_products, lines_in, strict=True)]

    if pickup_store is not None:
        warehouses = list(
            session.execute(
                select(Location).where(Location.kind == "warehouse").order_by(Location.priority, Location.code)
            ).scalars()
        )
        candidates = [pickup_store, *warehouses]
    else:
        candidates = ship_from_locations(session, channel_id)
    candidate_ids = [loc.id for loc in candidates]
    codes = {loc.id: loc.code for loc in candidates}

    for attempt in range(ROUTING_ATTEMPTS):
        available = first_read if attempt == 0 else _available(session, {p for p, _ in lines}, candidate_ids)
        try:
            if pickup_store is not None:
                allocations = route_pickup(lines, pickup_store.id, candidate_ids[1:], available)
            else:
                if buffer is None:
                    buffer = session.execute(select(Channel.buffer).where(Channel.id == channel_id)).scalar_one()
                allocations = route_ship(lines, [Candidate(i) for i in candidate_ids], available, buffer)
        except NotEnoughStock as short:
            session.rollback()
            raise InsufficientStock(
                "not enough stock for " + ", ".join(lines_in[s.line_index]["sku"] for s in short.shortages),
                [
                    {"sku": lines_in[s.line_index]["sku"], "requested": s.requested, "available": s.available}
                    for s in short.shortages
                ],
            ) from None
        try:
            order = _reserve(
                channel_id, payload, digest, lines, line_products, allocations, pickup_store, actor, device
            )
            order.known_location_codes = codes
            return order
        except _Lost:
            continue
    # Every lost attempt means another order took the stock: report the figures as they are now.
    available = _available(session, {p for p, _ in lines}, candidate_ids)
    kept_back = (buffer or 0) if pickup_store is None else 0
    raise InsufficientStock(
        "not enough stock: other orders took it while this one was placed",
        [
            {
                "sku": line["sku"],
                "requested": line["qty"],
                "available": sellable((available.get((product_id, loc), 0) for loc in candidate_ids), kept_back),
            }
            for line, (product_id, _qty) in zip(lines_in, lines, strict=True)
        ],
    )


def _find_existing(session: Session, channel_id: int, external_id: str, digest: str) -> Order | None:
    order = session.execute(
        select(Order).where(Order.channel_id == channel_id, Order.external_id == external_id)
    ).scalar_one_or_none()
    if order is not None and order.request_hash != digest:
        session.rollback()
        raise IdempotencyConflict(
            f"order {external_id} exists with different content",
            {"external_id": external_id, "id": order.id},
        )
    return order


def _products_and_levels(session: Session, skus: list[str]) -> tuple[dict[str, Product], dict[tuple[int, int], int]]:
    """The products by sku and what each has available per location, in one query."""
    rows = session.execute(
        select(Product, StockLevel.location_id, StockLevel.on_hand_sellable - StockLevel.reserved)
        .outerjoin(StockLevel, StockLevel.product_id == Product.id)
        .where(Product.sku.in_(set(skus)))
    )
    products: dict[str, Product] = {}
    available: dict[tuple[int, int], int] = {}
    for product, location_id, avail in rows:
        products[product.sku] = product
        if location_id is not None:
            available[(product.id, location_id)] = avail
    return products, available


def _available(session: Session, product_ids: set[int], location_ids: list[int]) -> dict[tuple[int, int], int]:
    rows = session.execute(
        select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand_sellable - StockLevel.reserved).where(
            StockLevel.product_id.in_(product_ids), StockLevel.location_id.in_(location_ids)
        )
    )
    return {(p, loc): avail for p, loc, avail in rows}


def _reserve(
    channel_id: int,
    payload: dict[str, Any],
    digest: str,
    lines: list[tuple[int, int]],
    products: list[Product],
    allocations: list[Allocation],
    pickup_store: Location | None,
    actor: str | None,
    device: str | None,
) -> Order:
    now = utcnow()
    order = Order(
        channel_id=channel_id,
        external_id=payload["external_id"],
        fulfilment=payload["fulfilment"],
        status="reserved",
        customer=payload.get("customer") or {},
        ship_to=payload.get("ship_to"),
        pickup_location_id=pickup_store.id if pickup_store else None,
        pickup_code=_pickup_code() if pickup_store else None,
        request_hash=digest,
        created_at=now,
        updated_at=now,
    )
    order.lines = [
        OrderLine(line_no=i + 1, product_id=p, product=products[i], qty=q, picked=0, shipped=0, collected=0, declined=0)
        for i, (p, q) in enumerate(lines)
    ]
    for line in order.lines:
        line.reservations = []
    for a in allocations:
        order.lines[a.line_index].reservations.append(
            Reservation(
                product_id=lines[a.line_index][0],
                location_id=a.location_id,
                qty=a.qty,
                open_qty=a.qty,
                needs_transfer=a.needs_transfer,
                deliver_to_location_id=pickup_store.id if a.needs_transfer and pickup_store else None,
                created_at=now,
            )
        )
    order.events = [OrderEvent(status="reserved", actor=actor, device=device, at=now)]
    order.shipments = []
    with unit_of_work() as session:
        # Core inserts instead of an ORM flush: intake is the hottest write path and the unit-of-work machinery
        # cost more CPU than everything else of an order. The objects built above become persistent below
        # without being read back, and the response is serialised from them.
        per_level: dict[tuple[int, int], int] = defaultdict(int)
        for a in allocations:
            per_level[(lines[a.line_index][0], a.location_id)] += a.qty
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            _insert_order_in_one_statement(conn, order, sorted(per_level))
        else:
            _insert_order(session, order)
            record_changes(session, list(per_level))
            emit(session, "order.updated", order.id, channel_id)
        # Last: the conditional updates lock the hot rows only until the commit right after them.
        levels = StockLevel.__table__.c
        for (product_id, location_id), qty in sorted(per_level.items()):
            result = conn.execute(
                update(StockLevel.__table__)
                .where(
                    levels.product_id == product_id,
                    levels.location_id == location_id,
                    levels.on_hand_sellable - levels.reserved >= qty,
                )
                .values(reserved=levels.reserved + qty)
            )
            if result.rowcount != 1:
                raise _Lost()
    return order


def _insert_order_in_one_statement(conn: Connection, order: Order, levels: list[tuple[int, int]]) -> None:
    """PostgreSQL: what :func:`_insert_order`, ``record_changes`` and ``emit`` write, in one statement (data-
    modifying CTEs), so that an order costs one round trip for all its rows; sets the ids on the objects."""
    reservations = [r for line in order.lines for r in line.reservations]
    event = order.events[0]
    order_row = _columns(order, Order)
    line_rows = [_columns(line, OrderLine) for line in order.lines]
    reservation_rows = [
        _columns(r, Reservation) | {"line_no": line.line_no} for line in order.lines for r in line.reservations
    ]
    event_row = _columns(event, OrderEvent)
    statement = _order_statement(tuple(order_row), tuple(line_rows[0]), tuple(reservation_rows[0]), tuple(event_row))
    params = {f"order_{k}": v for k, v in order_row.items()} | {f"event_{k}": v for k, v in event_row.items()}
    params |= {f"line_{k}": [row[k] for row in line_rows] for k in line_rows[0]}
    params |= {f"reservation_{k}": [row[k] for row in reservation_rows] for k in reservation_rows[0]}
    params |= change_log_params("postgresql", levels, order.created_at)
    params |= {"outbox_channel_id": order.channel_id, "outbox_at": order.created_at}
    order_id, line_ids, reservation_ids, event_id = conn.execute(statement, params).one()
    order.id = order_id
    by_line_no = dict(line_ids)
    for line in order.lines:
        line.order_id, line.id = order_id, by_line_no[line.line_no]
    by_line_location = {(line_id, location_id): r_id for line_id, location_id, r_id in reservation_ids}
    for line in order.lines:
        for r in line.reservations:
            r.order_line_id = line.id
            r.id = by_line_location[(line.id, r.location_id)]
    event.order_id, event.id = order_id, event_id
    for obj in (order, *order.lines, *reservations, event):
        make_transient_to_detached(obj)


@cache
def _order_statement(
    order_keys: tuple[str, ...],
    line_keys: tuple[str, ...],
    reservation_keys: tuple[str, ...],
    event_keys: tuple[str, ...],
) -> Select[Any]:
    """The one statement of :func:`_insert_order_in_one_statement`, built once per shape (the columns given): the
    order's rows as :func:`_insert_order` writes them (:func:`_columns`), the change-log and outbox rows as the
    INSERTs ``record_changes`` and ``emit`` execute (``change_log_insert``, ``outbox_insert``). Lines and
    reservations come as one array per column, so the text is the same for any number of them (compiled once,
    prepared by PostgreSQL)."""
    order_t, line_t, reservation_t, event_t = (
        Order.__table__,
        OrderLine.__table__,
        Reservation.__table__,
        OrderEvent.__table__,
    )
    o = (
        insert(order_t)
        .values({k: bindparam(f"order_{k}", type_=order_t.c[k].type) for k in order_keys})
        .returning(order_t.c.id)
        .cte("o")
    )
    line_rows = _arrays("line", line_t, line_keys)
    lines = (
        insert(line_t)
        .from_select(["order_id", *line_keys], select(o.c.id, *line_rows.c).join_from(o, line_rows, true()))
        .returning(line_t.c.id, line_t.c.line_no)
        .cte("l")
    )
    # A reservation names its line by number until the line's id is known.
    reservation_rows = _arrays("reservation", reservation_t, reservation_keys, {"line_no": line_t.c.line_no.type})
    stored = [k for k in reservation_keys if k != "line_no"]
    reserved = (
        insert(reservation_t)
        .from_select(
            ["order_line_id", *stored],
            select(lines.c.id, *(reservation_rows.c[k] for k in stored)).join_from(
                lines, reservation_rows, reservation_rows.c.line_no == lines.c.line_no
            ),
        )
        .returning(reservation_t.c.id, reservation_t.c.order_line_id, reservation_t.c.location_id)
        .cte("r")
    )
    events = (
        insert(event_t)
        .from_select(
            ["order_id", *event_keys],
            select(o.c.id, *(bindparam(f"event_{k}", type_=event_t.c[k].type) for k in event_keys)),
        )
        .returning(event_t.c.id)
        .cte("e")
    )
    changes = change_log_insert("postgresql").cte("c")
    outbox = outbox_insert(
        "order.updated",
        o.c.id,
        bindparam("outbox_channel_id", type_=Integer),
        now=bindparam("outbox_at", type_=DateTime(timezone=True)),
    ).cte("x")
    return select(
        o.c.id,
        select(func.json_agg(func.json_build_array(lines.c.line_no, lines.c.id))).scalar_subquery(),
        select(
            func.json_agg(func.json_build_array(reserved.c.order_line_id, reserved.c.location_id, reserved.c.id))
        ).scalar_subquery(),
        select(events.c.id).scalar_subquery(),
    ).add_cte(changes, outbox)


def _arrays(prefix: str, table: Table, keys: tuple[str, ...], extra: dict[str, Any] | None = None) -> Any:
    """Rows given as one array parameter per column (``:<prefix>_<key>``), unnested side by side."""
    types = {k: (extra or {}).get(k) or table.c[k].type for k in keys}
    return (
        func.unnest(*(bindparam(f"{prefix}_{k}", type_=ARRAY(types[k])) for k in keys))
        .table_valued(*(column(k, types[k]) for k in keys))
        .render_derived(name=f"{prefix}_rows")
    )


def _insert_order(session: Session, order: Order) -> None:
    """INSERT the order, its lines, reservations and first event (4 statements) and set their ids."""
    conn = session.connection()
    order.id = conn.execute(
        insert(Order.__table__).returning(Order.__table__.c.id), [_columns(order, Order)]
    ).scalar_one()
    for line in order.lines:
        line.order_id = order.id
    line_ids = conn.execute(
        insert(OrderLine.__table__).returning(OrderLine.__table__.c.id, sort_by_parameter_order=True),
        [_columns(line, OrderLine) for line in order.lines],
    ).scalars()
    reservations = []
    for line, line_id in zip(order.lines, line_ids, strict=True):
        line.id = line_id
        for r in line.reservations:
            r.order_line_id = line_id
            reservations.append(r)
    reservation_ids = conn.execute(
        insert(Reservation.__table__).returning(Reservation.__table__.c.id, sort_by_parameter_order=True),
        [_columns(r, Reservation) for r in reservations],
    ).scalars()
    for r, r_id in zip(reservations, reservation_ids, strict=True):
        r.id = r_id
    event = order.events[0]
    event.order_id = order.id
    event.id = conn.execute(
        insert(OrderEvent.__table__).returning(OrderEvent.__table__.c.id), [_columns(event, OrderEvent)]
    ).scalar_one()
    # Detached, not added: if the transaction fails later, no object with a rolled-back id stays in the
    # session's identity map. Every attribute is loaded, so the caller can read the whole order.
    for obj in (order, *order.lines, *reservations, event):
        make_transient_to_detached(obj)


def _columns(obj: Any, model: type) -> dict[str, Any]:
    """The column values set on a new ``obj`` (the id excepted), for a Core INSERT."""
    state = obj.__dict__
    return {
        prop.columns[0].name: state[prop.key]
        for prop in model.__mapper__.column_attrs
        if prop.key in state and prop.key != "id"
    }


def _pickup_code() -> str:
    return "".join(secrets.choice(PICKUP_CODE_ALPHABET) for _ in range(8))


#: order ids are 32-bit integers in the database: a larger number cannot name an order (and would make the
#: driver fail instead of finding nothing)
MAX_ORDER_ID = 2**31 - 1


def order_view_loads() -> tuple:
    """What :func:`order_view` reads of an order, to load with it (a query per relation, not per order). A function:
    building these at import time would configure the mappers before every model is known."""
    return (
        selectinload(Order.lines).selectinload(OrderLine.reservations),
        selectinload(Order.lines).selectinload(OrderLine.product),
        selectinload(Order.events),
        selectinload(Order.shipments),
    )


def get_order(order_id: int, channel_id: int | None = None) -> Order:
    """The order with its lines, reservations, events and shipments. Raises NotFound, or Forbidden when
    ``channel_id`` is given and the order belongs to another channel."""
    if not 0 < order_id <= MAX_ORDER_ID:
        raise NotFound(f"no order {order_id}", {"id": order_id})
    order = db.session.execute(
        select(Order).options(*order_view_loads()).where(Order.id == order_id)
    ).scalar_one_or_none()
    if order is None:
        raise NotFound(f"no order {order_id}", {"id": order_id})
    if channel_id is not None and order.channel_id != channel_id:
        raise Forbidden("this order belongs to another channel", {"id": order_id})
    return order


def cancel_order(
    order_id: int, channel_id: int | None = None, actor: str | None = None, device: str | None = None
) -> Order:
    """Cancel an order and release its open reservations at once; ``actor`` and ``device`` go on its history.

    Locks the order row, then its stock levels in (product, location) order. Raises NotFound, Forbidden
    (another channel's order), InvalidState once the order is packed or ready for pickup. Cancelling a
    cancelled order returns it unchanged.
    """
    if not 0 < order_id <= MAX_ORDER_ID:
        raise NotFound(f"no order {order_id}", {"id": order_id})
    with unit_of_work() as session:
        order = session.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one_or_none()
        if order is None:
            raise NotFound(f"no order {order_id}", {"id": order_id})
        if channel_id is not None and order.channel_id != channel_id:
            raise Forbidden("this order belongs to another channel", {"id": order_id})
        if order.status == "cancelled":
            return get_order(order_id)
        if order.status not in CANCELLABLE:
            raise InvalidState(
                f"order {order.external_id} is {order.status} and can no longer be cancelled",
                {"status": order.status},
            )
        reservations = list(
            session.execute(
                select(Reservation)
                .join(OrderLine, OrderLine.id == Reservation.order_line_id)
                .where(OrderLine.order_id == order.id, Reservation.open_qty > 0)
            ).scalars()
        )
        release: dict[tuple[int, int], int] = defaultdict(int)
        for r in reservations:
            release[(r.product_id, r.location_id)] += r.open_qty
            r.open_qty = 0
        for (product_id, location_id), qty in sorted(release.items()):
            session.execute(
                update(StockLevel)
                .where(StockLevel.product_id == product_id, StockLevel.location_id == location_id)
                .values(reserved=StockLevel.reserved - qty)
                .execution_options(synchronize_session=False)
            )
        record_changes(session, list(release))
        order.status = "cancelled"
        session.add(OrderEvent(order_id=order.id, status="cancelled", actor=actor, device=device))
        emit(session, "order.updated", order.id, order.channel_id)
    return get_order(order_id)


def clear_attention(order_id: int, actor: str | None = None) -> Order:
    """A manager has dealt with what flagged the order (``order.attention``: a short pick with nothing to pick
    instead, a count that took reserved units): the flag goes. Locks the order row. Raises NotFound."""
    if not 0 < order_id <= MAX_ORDER_ID:
        raise NotFound(f"no order {order_id}", {"id": order_id})
    with unit_of_work() as session:
        order = session.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one_or_none()
        if order is None:
            raise NotFound(f"no order {order_id}", {"id": order_id})
        order.attention = None
        return order


def order_view(order: Order) -> dict[str, Any]:
    """The order as the API shows it."""
    wanted = {r.location_id for line in order.lines for r in line.reservations} | {order.pickup_location_id}
    wanted.discard(None)
    codes = order.known_location_codes or {}
    if not wanted <= codes.keys():
        codes = dict(db.session.execute(select(Location.id, Location.code).where(Location.id.in_(wanted))).all())
    code = codes.get

    view: dict[str, Any] = {
        "id": order.id,
        "external_id": order.external_id,
        "status": order.status,
        "fulfilment": order.fulfilment,
        "customer": order.customer,
        "lines": [
            {
                "sku": line.product.sku,
                "qty": line.qty,
                "allocations": [
                    {"location": code(r.location_id), "qty": r.qty}
                    | ({"needs_transfer": True} if r.needs_transfer else {})
                    for r in line.reservations
                ],
                "picked": line.picked,
                "shipped": line.shipped,
                "collected": line.collected,
                "declined": line.declined,
            }
            for line in order.lines
        ],
        "shipments": [
            {"carrier": s.carrier, "tracking": s.tracking, "tracking_url": s.tracking_url, "parcels": s.parcels or []}
            for s in order.shipments
        ],
        "history": [{"status": e.status, "at": isoformat(e.at), "actor": e.actor} for e in order.events],
        "created_at": isoformat(order.created_at),
        "updated_at": isoformat(order.updated_at),
    }
    if order.ship_to is not None:
        view["ship_to"] = order.ship_to
    if order.fulfilment == "pickup":
        view["pickup_location"] = code(order.pickup_location_id)
        view["pickup_code"] = order.pickup_code
        # Only an order that reached its shelf has one (a new order's object holds no shelf column to read).
        if order.status in ON_THE_SHELF and order.shelf_bin_id is not None:
            view["pickup"] = pickup_info(order, code(order.pickup_location_id))
    return view


#: statuses of a pickup order that was put on a pickup shelf
ON_THE_SHELF = (
    OrderStatus.READY_FOR_PICKUP,
    OrderStatus.COLLECTED,
    OrderStatus.PARTIALLY_COLLECTED,
    OrderStatus.EXPIRED,
)


def pickup_info(order: Order, store_code: str | None) -> dict[str, Any]:
    """What a customer (and the clerk) needs of a pickup order on the shelf: ``{code, store, shelf, hold_until,
    qr_url}``; ``qr_url`` is this server's path of a QR code carrying the pickup code, for the channel's message to
    the customer (prefix it with the server's address)."""
    shelf = db.session.execute(select(Bin.code).where(Bin.id == order.shelf_bin_id)).scalar_one_or_none()
    return {
        "code": order.pickup_code,
        "store": store_code,
        "shelf": shelf,
        "hold_until": isoformat(order.hold_until) if order.hold_until else None,
        "qr_url": f"/p/{order.pickup_code}.svg",
        "reminded_at": isoformat(order.reminded_at) if order.reminded_at else None,
    }
