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
from typing import Any

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload

from wms.catalog.models import Product
from wms.channels.models import Channel
from wms.channels.outbox import emit
from wms.channels.service import ship_from_locations
from wms.errors import Forbidden, IdempotencyConflict, InsufficientStock, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import CANCELLABLE, Order, OrderEvent, OrderLine
from wms.orders.rules import Allocation, Candidate, NotEnoughStock, route_pickup, route_ship
from wms.stock.models import Reservation, StockLevel
from wms.stock.service import record_changes
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
    channel_id: int, payload: dict[str, Any], actor: str | None = None, buffer: int | None = None
) -> tuple[Order, bool]:
    """Place an order for a channel; returns (order, created).

    ``payload`` is the validated request (``external_id``, ``fulfilment``, ``customer``, ``ship_to``,
    ``pickup_location``, ``lines``). The same external id with the same content returns the first order
    (created False); with other content raises IdempotencyConflict. Raises ValidationError (unknown sku or
    pickup location), InsufficientStock with ``[{"sku", "requested", "available"}]`` for every short line.
    Locks the stock levels it reserves, in (product id, location id) order; nothing is reserved on failure.
    A delivery order may take no more than the channel's availability, its safety ``buffer`` held back (read from
    the channel when not given); a pickup order may take all of the store's stock.
    """
    digest = request_hash(payload)
    try:
        return _place_new_order(channel_id, payload, digest, actor, buffer), True
    except (ValidationError, InsufficientStock, IntegrityError):
        # Only now look for an order with this external id: a replay fails on the unique (channel, external id)
        # at its first INSERT, before any stock is touched, so new orders (the common case) skip the query.
        db.session.rollback()
        existing = _find_existing(db.session, channel_id, payload["external_id"], digest)
        if existing is not None:
            return existing, False
        raise


def _place_new_order(
    channel_id: int, payload: dict[str, Any], digest: str, actor: str | None, buffer: int | None
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
            order = _reserve(channel_id, payload, digest, lines, line_products, allocations, pickup_store, actor)
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
                "available": max(
                    0, sum(max(0, available.get((product_id, loc), 0)) for loc in candidate_ids) - kept_back
                ),
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
    order.events = [OrderEvent(status="reserved", actor=actor, at=now)]
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
    now = order.created_at
    params: dict[str, Any] = {
        "channel_id": order.channel_id,
        "external_id": order.external_id,
        "fulfilment": order.fulfilment,
        "status": order.status,
        "customer": json.dumps(order.customer, ensure_ascii=False),
        "ship_to": json.dumps(order.ship_to, ensure_ascii=False),
        "pickup_location_id": order.pickup_location_id,
        "pickup_code": order.pickup_code,
        "request_hash": order.request_hash,
        "now": now,
        "event_status": order.events[0].status,
        "actor": order.events[0].actor,
    }
    line_rows, reservation_rows, change_rows = [], [], []
    reservations: list[Reservation] = []
    for i, line in enumerate(order.lines):
        line_rows.append(f"(CAST(:l{i}n AS INTEGER), CAST(:l{i}p AS INTEGER), CAST(:l{i}q AS INTEGER))")
        params.update({f"l{i}n": line.line_no, f"l{i}p": line.product_id, f"l{i}q": line.qty})
        for r in line.reservations:
            j = len(reservations)
            reservations.append(r)
            reservation_rows.append(
                f"(CAST(:r{j}n AS INTEGER), CAST(:r{j}p AS INTEGER), CAST(:r{j}l AS INTEGER), CAST(:r{j}q AS INTEGER),"
                f" CAST(:r{j}t AS BOOLEAN), CAST(:r{j}d AS INTEGER))"
            )
            params.update(
                {
                    f"r{j}n": line.line_no,
                    f"r{j}p": r.product_id,
                    f"r{j}l": r.location_id,
                    f"r{j}q": r.qty,
                    f"r{j}t": r.needs_transfer,
                    f"r{j}d": r.deliver_to_location_id,
                }
            )
    for k, (product_id, location_id) in enumerate(levels):
        change_rows.append(
            f"(txid_current(), CAST(:c{k}p AS INTEGER), CAST(:c{k}l AS INTEGER), CAST(:now AS TIMESTAMPTZ))"
        )
        params.update({f"c{k}p": product_id, f"c{k}l": location_id})
    sql = f"""
WITH o AS (
  INSERT INTO "order" (channel_id, external_id, fulfilment, status, customer, ship_to, pickup_location_id,
                       pickup_code, request_hash, created_at, updated_at)
  VALUES (:channel_id, :external_id, :fulfilment, :status, CAST(:customer AS JSON), CAST(:ship_to AS JSON),
          CAST(:pickup_location_id AS INTEGER), :pickup_code, :request_hash, :now, :now)
  RETURNING id
), l AS (
  INSERT INTO order_line (order_id, line_no, product_id, qty, picked, shipped, collected, declined)
  SELECT o.id, v.line_no, v.product_id, v.qty, 0, 0, 0, 0
  FROM o, (VALUES {", ".join(line_rows)}) AS v (line_no, product_id, qty)
  RETURNING id, line_no
), r AS (
  INSERT INTO reservation (order_line_id, product_id, location_id, qty, open_qty, needs_transfer,
                           deliver_to_location_id, created_at)
  SELECT l.id, v.product_id, v.location_id, v.qty, v.qty, v.needs_transfer, v.deliver_to, :now
  FROM l JOIN (VALUES {", ".join(reservation_rows)}) AS v (line_no, product_id, location_id, qty, needs_transfer,
                                                        deliver_to) ON v.line_no = l.line_no
  RETURNING id, order_line_id, location_id
), e AS (
  INSERT INTO order_event (order_id, status, actor, at) SELECT o.id, :event_status, :actor, :now FROM o RETURNING id
), c AS (
  INSERT INTO stock_change (txid, product_id, location_id, created_at) VALUES {", ".join(change_rows)}
), x AS (
  INSERT INTO outbox_event (event, channel_id, subject_id, created_at)
  SELECT 'order.updated', CAST(:channel_id AS INTEGER), o.id, :now FROM o
)
SELECT o.id,
       (SELECT json_agg(json_build_array(l.line_no, l.id)) FROM l),
       (SELECT json_agg(json_build_array(r.order_line_id, r.location_id, r.id)) FROM r),
       (SELECT e.id FROM e)
FROM o"""
    order_id, line_ids, reservation_ids, event_id = conn.execute(text(sql), params).one()
    order.id = order_id
    by_line_no = dict(line_ids)
    for line in order.lines:
        line.order_id, line.id = order_id, by_line_no[line.line_no]
    by_line_location = {(line_id, location_id): r_id for line_id, location_id, r_id in reservation_ids}
    for line in order.lines:
        for r in line.reservations:
            r.order_line_id = line.id
            r.id = by_line_location[(line.id, r.location_id)]
    event = order.events[0]
    event.order_id, event.id = order_id, event_id
    for obj in (order, *order.lines, *reservations, event):
        make_transient_to_detached(obj)


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


def get_order(order_id: int, channel_id: int | None = None) -> Order:
    """The order with its lines, reservations, events and shipments. Raises NotFound, or Forbidden when
    ``channel_id`` is given and the order belongs to another channel."""
    if not 0 < order_id <= MAX_ORDER_ID:
        raise NotFound(f"no order {order_id}", {"id": order_id})
    order = db.session.execute(
        select(Order)
        .options(
            selectinload(Order.lines).selectinload(OrderLine.reservations),
            selectinload(Order.lines).selectinload(OrderLine.product),
            selectinload(Order.events),
            selectinload(Order.shipments),
        )
        .where(Order.id == order_id)
    ).scalar_one_or_none()
    if order is None:
        raise NotFound(f"no order {order_id}", {"id": order_id})
    if channel_id is not None and order.channel_id != channel_id:
        raise Forbidden("this order belongs to another channel", {"id": order_id})
    return order


def cancel_order(order_id: int, channel_id: int | None = None, actor: str | None = None) -> Order:
    """Cancel an order and release its open reservations at once.

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
        session.add(OrderEvent(order_id=order.id, status="cancelled", actor=actor))
        emit(session, "order.updated", order.id, order.channel_id)
    return get_order(order_id)


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
        "shipments": [{"carrier": s.carrier, "tracking": s.tracking} for s in order.shipments],
        "history": [{"status": e.status, "at": isoformat(e.at)} for e in order.events],
        "created_at": isoformat(order.created_at),
        "updated_at": isoformat(order.updated_at),
    }
    if order.ship_to is not None:
        view["ship_to"] = order.ship_to
    if order.fulfilment == "pickup":
        view["pickup_location"] = code(order.pickup_location_id)
        view["pickup_code"] = order.pickup_code
    return view
