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

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from wms.catalog.models import Product
from wms.catalog.service import products_by_sku
from wms.channels.outbox import emit
from wms.channels.service import ship_from_location_ids
from wms.errors import Forbidden, IdempotencyConflict, InsufficientStock, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import CANCELLABLE, Order, OrderEvent, OrderLine
from wms.orders.rules import Allocation, Candidate, NotEnoughStock, route_pickup, route_ship
from wms.stock.models import Reservation, StockLevel
from wms.stock.service import record_changes
from wms.timeutil import isoformat
from wms.uow import unit_of_work

#: how often intake routes again when another order took the stock between the read and the reservation
ROUTING_ATTEMPTS = 20
PICKUP_CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 2/Z, 5/S, 8/B)


class _Lost(Exception):
    """A conditional reservation found less than the routing read: route again."""


def request_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(channel_id: int, payload: dict[str, Any], actor: str | None = None) -> tuple[Order, bool]:
    """Place an order for a channel; returns (order, created).

    ``payload`` is the validated request (``external_id``, ``fulfilment``, ``customer``, ``ship_to``,
    ``pickup_location``, ``lines``). The same external id with the same content returns the first order
    (created False); with other content raises IdempotencyConflict. Raises ValidationError (unknown sku or
    pickup location), InsufficientStock with ``[{"sku", "requested", "available"}]`` for every short line.
    Locks the stock levels it reserves, in (product id, location id) order; nothing is reserved on failure.
    """
    digest = request_hash(payload)
    session = db.session
    existing = _find_existing(session, channel_id, payload["external_id"], digest)
    if existing is not None:
        return existing, False

    lines_in = payload["lines"]
    products = products_by_sku(session, [line["sku"] for line in lines_in])
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
                select(Location.id).where(Location.kind == "warehouse").order_by(Location.priority, Location.code)
            ).scalars()
        )
        candidate_ids = [pickup_store.id, *warehouses]
    else:
        candidate_ids = ship_from_location_ids(session, channel_id)

    for _attempt in range(ROUTING_ATTEMPTS):
        available = _available(session, {p for p, _ in lines}, candidate_ids)
        try:
            if pickup_store is not None:
                allocations = route_pickup(lines, pickup_store.id, candidate_ids[1:], available)
            else:
                allocations = route_ship(lines, [Candidate(i) for i in candidate_ids], available)
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
            return order, True
        except _Lost:
            continue
        except IntegrityError:
            # Another request with the same external id committed first.
            existing = _find_existing(session, channel_id, payload["external_id"], digest)
            if existing is not None:
                return existing, False
            raise
    # Every lost attempt means another order took the stock: report the figures as they are now.
    available = _available(session, {p for p, _ in lines}, candidate_ids)
    raise InsufficientStock(
        "not enough stock: other orders took it while this one was placed",
        [
            {
                "sku": line["sku"],
                "requested": line["qty"],
                "available": sum(max(0, available.get((product_id, loc), 0)) for loc in candidate_ids),
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
    with unit_of_work() as session:
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
        )
        # Build the whole order in memory and flush once: the ORM batches each table's rows, and the response
        # is then serialised from these objects without reading them back.
        order.lines = [
            OrderLine(line_no=i + 1, product=products[i], qty=q, reservations=[]) for i, (_p, q) in enumerate(lines)
        ]
        for a in allocations:
            order.lines[a.line_index].reservations.append(
                Reservation(
                    product_id=lines[a.line_index][0],
                    location_id=a.location_id,
                    qty=a.qty,
                    open_qty=a.qty,
                    needs_transfer=a.needs_transfer,
                    deliver_to_location_id=pickup_store.id if a.needs_transfer and pickup_store else None,
                )
            )
        order.events = [OrderEvent(status="reserved", actor=actor)]
        order.shipments = []
        session.add(order)
        session.flush()
        per_level: dict[tuple[int, int], int] = defaultdict(int)
        for a in allocations:
            per_level[(lines[a.line_index][0], a.location_id)] += a.qty
        record_changes(session, list(per_level))
        emit(session, "order.updated", order.id, channel_id)
        # Last: the conditional updates lock the hot rows only until the commit right after them.
        for (product_id, location_id), qty in sorted(per_level.items()):
            result = session.execute(
                update(StockLevel)
                .where(
                    StockLevel.product_id == product_id,
                    StockLevel.location_id == location_id,
                    StockLevel.on_hand_sellable - StockLevel.reserved >= qty,
                )
                .values(reserved=StockLevel.reserved + qty)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                raise _Lost()
    return order


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
