"""Releasing pick work: due order lines at a location, placed on the bins that hold them, grouped into pick tasks
(``wms.picking.rules.build_waves``) under one wave; an order marked urgent; a wave's pick list.

Due units of an order line at a location: its reservations there that need no transfer, still open
(``open_qty``), of an order that is ``reserved`` or ``picking``, less what open pick tasks already hold for the line
(``qty - done - short`` of their lines). Free units of a bin: its sellable quant less what open pick tasks take from
it. A wave never takes what an earlier one took: the second release of the same orders finds nothing due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

import labels
from wms.auth.models import User
from wms.catalog.models import Product
from wms.channels.outbox import emit_many
from wms.errors import InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from wms.picking.models import Wave
from wms.picking.rules import DueLine, WaveOptions, build_waves
from wms.printing.models import PrintJob
from wms.printing.service import queue_label
from wms.stock.models import Reservation
from wms.tasks.kinds.pick import FreeQuant, free_stock
from wms.tasks.models import Task, TaskKind, TaskLine, TaskStatus
from wms.timeutil import utcnow
from wms.transfers.service import open_pickup_transfers
from wms.uow import unit_of_work

__all__ = [
    "DUE_STATUSES",
    "MAX_WAVE_ORDERS",
    "due_by_line",
    "picklist_data",
    "picklist_pdf",
    "print_picklist",
    "release_wave",
    "set_urgent",
]

#: orders whose reserved lines may be picked (``picking``: a wave took some lines, more may come due)
DUE_STATUSES = (OrderStatus.RESERVED.value, OrderStatus.PICKING.value)
#: pick tasks whose lines still hold units of their bins and order lines
OPEN_TASK_STATUSES = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)
#: the most orders (totes) one pick task may take
MAX_WAVE_ORDERS = 50
MAX_ORDER_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Due:
    """Units of one order line due for picking at a location."""

    order_id: int
    order_line_id: int
    product_id: int
    qty: int


def _remaining():
    return TaskLine.qty - TaskLine.done - TaskLine.short


def due_by_line(session: Session, location_id: int, order_ids: Iterable[int] | None = None) -> list[Due]:
    """What is due for picking at ``location_id`` (of ``order_ids`` only, when given), per order line, by
    (order id, line id). Reads only."""
    reserved = (
        select(
            OrderLine.order_id,
            Reservation.order_line_id,
            Reservation.product_id,
            func.sum(Reservation.open_qty).label("open_qty"),
        )
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Reservation.location_id == location_id,
            # A pickup order's units for its store (needs_transfer) are picked here too: they travel as a transfer.
            Reservation.open_qty > 0,
            Order.status.in_(DUE_STATUSES),
            # A pickup order at its own store is prepared there by a stage task, never waved.
            or_(Order.pickup_location_id.is_(None), Order.pickup_location_id != location_id),
        )
        .group_by(OrderLine.order_id, Reservation.order_line_id, Reservation.product_id)
    )
    if order_ids is not None:
        reserved = reserved.where(OrderLine.order_id.in_(sorted(set(order_ids))))
    rows = session.execute(reserved).all()
    if not rows:
        return []
    on_tasks_q = (
        select(TaskLine.order_line_id, func.sum(_remaining()))
        .join(Task, Task.id == TaskLine.task_id)
        .where(
            Task.kind == TaskKind.PICK.value,
            Task.status.in_(OPEN_TASK_STATUSES),
            Task.location_id == location_id,
            TaskLine.order_line_id.in_([row.order_line_id for row in rows]),
        )
        .group_by(TaskLine.order_line_id)
    )
    on_tasks = {line_id: int(qty or 0) for line_id, qty in session.execute(on_tasks_q).all()}
    due = []
    for row in rows:
        qty = int(row.open_qty) - max(on_tasks.get(row.order_line_id, 0), 0)
        if qty > 0:
            due.append(Due(row.order_id, row.order_line_id, row.product_id, qty))
    due.sort(key=lambda d: (d.order_id, d.order_line_id))
    return due


@dataclass(frozen=True, slots=True)
class _Piece:
    """Units of one due order line placed on one quant (a DueLine's line id indexes these)."""

    due: Due
    source: FreeQuant
    qty: int


def _allocate(due: list[Due], orders: dict[int, Order], stock: dict[int, list[FreeQuant]]) -> list[_Piece]:
    """Place due lines on free quants, the most pressing orders first (urgent, then oldest), so that scarce units
    in bins go to them; what fits no bin stays due."""

    def pressing(d: Due) -> tuple[bool, datetime, int, int]:
        order = orders[d.order_id]
        return (not order.urgent, order.created_at, order.id, d.order_line_id)

    pieces = []
    for d in sorted(due, key=pressing):
        left = d.qty
        for quant in stock.get(d.product_id, []):
            if left == 0:
                break
            take = min(left, quant.free)
            if take <= 0:
                continue
            quant.free -= take
            left -= take
            pieces.append(_Piece(d, quant, take))
    return pieces


def _check_order_ids(order_ids: Iterable[Any] | None) -> list[int] | None:
    if order_ids is None:
        return None
    ids = list(order_ids)
    if not ids:
        raise ValidationError.one("orders", "name at least one order, or leave orders out to take every due order")
    bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int) or not 0 < i <= MAX_ORDER_ID]
    if bad:
        raise ValidationError.one("orders", f"order ids are whole numbers from 1 to {MAX_ORDER_ID}")
    return sorted(set(ids))


def _options(max_orders: Any) -> WaveOptions:
    if max_orders is None:
        return WaveOptions()
    if isinstance(max_orders, bool) or not isinstance(max_orders, int) or not 1 <= max_orders <= MAX_WAVE_ORDERS:
        raise ValidationError.one("max_orders", f"a whole number from 1 to {MAX_WAVE_ORDERS}")
    return WaveOptions(max_orders=max_orders)


def release_wave(
    location_code: str,
    order_ids: Iterable[int] | None = None,
    max_orders: int | None = None,
    actor: str | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Release the due lines at a location (of ``order_ids`` only, when given) as one wave of pick tasks, at most
    ``max_orders`` orders (totes) per task; returns ``{"id", "location", "orders", "tasks"}``.

    Locks the location row first (FOR NO KEY UPDATE: one release at a time per location, so two waves never take
    the same free units of a bin), then the orders in id order (a cancel racing the release waits, or is seen:
    statuses are read again after the lock). The orders that were ``reserved`` go ``picking`` (history event,
    ``order.updated``).
    Raises ValidationError (422): unknown location (field ``location``), named orders not due there (field
    ``orders``, listing them), bad ``max_orders``, nothing due, or nothing due found in a pick or bulk bin; nothing
    changes then.
    """
    ids = _check_order_ids(order_ids)
    options = _options(max_orders)
    with unit_of_work() as session:
        # FOR NO KEY UPDATE: two releases exclude each other, but writers that only reference the location (a
        # cancel's change-log row, an order's insert: their foreign key takes a KEY SHARE lock) go on; FOR UPDATE
        # would deadlock with a cancel that holds its order and waits for the location.
        location = session.execute(
            select(Location).where(Location.code == location_code).with_for_update(key_share=True)
        ).scalar_one_or_none()
        if location is None:
            raise ValidationError.one("location", f"no location {location_code}")
        candidates = {d.order_id for d in due_by_line(session, location.id, ids)}
        if ids is not None and (missing := [i for i in ids if i not in candidates]):
            raise ValidationError.one("orders", f"not due at {location.code}: {', '.join(str(i) for i in missing)}")
        if not candidates:
            raise ValidationError.one("orders", f"no order is due for picking at {location.code}")
        locked = list(
            session.execute(
                select(Order)
                .where(Order.id.in_(sorted(candidates)))
                .order_by(Order.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).scalars()
        )
        # Read again under the lock: a cancel that committed meanwhile took its order out.
        orders = {o.id: o for o in locked if o.status in DUE_STATUSES}
        due = due_by_line(session, location.id, sorted(orders)) if orders else []
        if ids is not None and (gone := [i for i in ids if i not in {d.order_id for d in due}]):
            raise ValidationError.one("orders", f"not due at {location.code}: {', '.join(str(i) for i in gone)}")
        if not due:
            raise ValidationError.one("orders", f"no order is due for picking at {location.code}")
        # A pickup order picked here for its store travels as a transfer: it has one before its units are picked.
        open_pickup_transfers(session, location.id, sorted(orders))
        stock = free_stock(session, location.id, {d.product_id for d in due})
        pieces = _allocate(due, orders, stock)
        if not pieces:
            raise ValidationError.one(
                "orders", f"the due lines at {location.code} have no free units in a pick or bulk bin"
            )
        due_lines = [
            DueLine(
                order_id=p.due.order_id,
                line_id=i,
                product_id=p.due.product_id,
                qty=p.qty,
                location_id=location.id,
                bin_code=p.source.bin_code,
                walk_seq=p.source.walk_seq,
                order_created_at=orders[p.due.order_id].created_at,
                lot=p.source.lot or None,
                fulfilment=orders[p.due.order_id].fulfilment,
                urgent=orders[p.due.order_id].urgent,
            )
            for i, p in enumerate(pieces)
        ]
        picks = build_waves(due_lines, options)

        wave = Wave(location_id=location.id, actor=actor, device=device)
        session.add(wave)
        session.flush()
        tasks: list[Task] = []
        wave_orders: list[int] = []
        for pick in picks:
            task = Task(
                kind=TaskKind.PICK.value,
                status=TaskStatus.OPEN.value,
                location_id=location.id,
                # ``orders``: the task's orders in tote-slot order (slot 1 first), the order totes are scanned in.
                reference={"wave": wave.id, "zone": pick.zone, "orders": [ref.id for ref in pick.orders]},
            )
            session.add(task)
            tasks.append(task)
            wave_orders.extend(ref.id for ref in pick.orders if ref.id not in wave_orders)
        session.flush()  # the tasks' ids, in one batched INSERT
        # A wave may hold thousands of lines and start hundreds of orders: rows, not ORM objects, in batched
        # INSERTs and one UPDATE (the ORM's unit of work costs more than the database here).
        session.execute(
            insert(TaskLine),
            [
                {
                    "task_id": task.id,
                    "line_no": line_no,
                    "product_id": pieces[line.due.line_id].due.product_id,
                    "qty": pieces[line.due.line_id].qty,
                    "done": 0,
                    "bin_id": pieces[line.due.line_id].source.bin_id,
                    "lot": pieces[line.due.line_id].source.lot,
                    "order_id": pieces[line.due.line_id].due.order_id,
                    "order_line_id": pieces[line.due.line_id].due.order_line_id,
                    "item_scanned": False,
                    "bin_scanned": False,
                    "short": 0,
                }
                for task, pick in zip(tasks, picks, strict=True)
                for line_no, line in enumerate(pick.lines, start=1)
            ],
        )
        started = [
            orders[order_id] for order_id in wave_orders if orders[order_id].status == OrderStatus.RESERVED.value
        ]
        if started:
            session.execute(
                update(Order)
                .where(Order.id.in_([order.id for order in started]))
                .values(status=OrderStatus.PICKING.value, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            now = utcnow()
            session.execute(
                insert(OrderEvent),
                [
                    {
                        "order_id": order.id,
                        "status": OrderStatus.PICKING.value,
                        "actor": actor,
                        "device": device,
                        "at": now,
                    }
                    for order in started
                ],
            )
            emit_many(session, "order.updated", [(order.id, order.channel_id) for order in started])
            for order in started:  # the loaded rows say what the database now says
                set_committed_value(order, "status", OrderStatus.PICKING.value)
        return {"id": wave.id, "location": location.code, "orders": wave_orders, "tasks": [task.id for task in tasks]}


def set_urgent(order_id: int, urgent: bool, actor: str | None = None) -> Order:
    """Mark an order urgent (picked ahead of older orders by the next wave) or not. Locks the order. Raises
    NotFound, InvalidState once the order is past picking (``actor`` is who asked: not stored, the flag is not a
    status)."""
    if not 0 < order_id <= MAX_ORDER_ID:
        raise NotFound(f"no order {order_id}", {"id": order_id})
    with unit_of_work() as session:
        order = session.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one_or_none()
        if order is None:
            raise NotFound(f"no order {order_id}", {"id": order_id})
        if order.status not in DUE_STATUSES:
            raise InvalidState(
                f"order {order.external_id} is {order.status}: only an order waiting to be picked can be urgent",
                {"status": order.status},
            )
        order.urgent = bool(urgent)
    return order


# --- pick lists -------------------------------------------------------------------------------------------------


def _wave(session: Session, wave_id: int) -> tuple[Wave, Location]:
    row = None
    if 0 < wave_id <= MAX_ORDER_ID:
        row = session.execute(
            select(Wave, Location).join(Location, Location.id == Wave.location_id).where(Wave.id == wave_id)
        ).first()
    if row is None:
        raise NotFound(f"no wave {wave_id}", {"id": wave_id})
    return row[0], row[1]


def picklist_data(wave_id: int, session: Session | None = None) -> list[dict[str, Any]]:
    """``labels`` data of a wave's pick lists, one per task (its lines in walk order; a line's ``order`` is its
    tote slot and the order's reference). Raises NotFound."""
    session = session or db.session
    wave, location = _wave(session, wave_id)
    tasks = list(
        session.execute(
            select(Task)
            .where(Task.kind == TaskKind.PICK.value, Task.location_id == wave.location_id)
            .where(Task.reference["wave"].as_integer() == wave.id)
            .order_by(Task.id)
        ).scalars()
    )
    rows = session.execute(
        select(TaskLine, Product.sku, Product.name, Bin.code, Order.external_id)
        .join(Product, Product.id == TaskLine.product_id)
        .outerjoin(Bin, Bin.id == TaskLine.bin_id)
        .outerjoin(Order, Order.id == TaskLine.order_id)
        .where(TaskLine.task_id.in_([t.id for t in tasks]))
        .order_by(TaskLine.task_id, TaskLine.line_no)
    ).all()
    by_task: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_task[row[0].task_id].append(row)
    documents = []
    for task in tasks:
        slots = {order_id: i for i, order_id in enumerate(task.reference.get("orders") or [], start=1)}
        lines = []
        for line, sku, name, bin_code, external_id in by_task[task.id]:
            slot = slots.get(line.order_id)
            order = f"{slot} · {external_id}" if slot else (external_id or "")
            lines.append({"sku": sku, "name": name, "qty": line.qty, "bin": bin_code or "", "order": order or "-"})
        zone = task.reference.get("zone") or ""
        documents.append(
            {
                "wave": str(wave.id),
                "location": f"{location.code} {location.name} · zone {zone} · task {task.id}",
                "lines": lines,
            }
        )
    return documents


def picklist_pdf(wave_id: int) -> bytes:
    """A wave's pick lists as one A4 PDF (a list per task). Raises NotFound; InvalidState for a wave without
    tasks."""
    documents = picklist_data(wave_id)
    if not documents:
        raise InvalidState(f"wave {wave_id} has no pick task", {"id": wave_id})
    return labels.render_many("picklist", documents, "pdf")


def print_picklist(
    wave_id: int, printer_id: int, copies: int = 1, idempotency_key: str | None = None, actor: User | None = None
) -> list[PrintJob]:
    """Queue a wave's pick lists on a printer, a job per task, in one unit of work; returns the jobs. With
    ``idempotency_key`` a repeat gives the same jobs. Raises NotFound, ValidationError (a printer that cannot print
    PDF, a disabled one, bad copies)."""
    with unit_of_work() as session:
        documents = picklist_data(wave_id, session)
        if not documents:
            raise InvalidState(f"wave {wave_id} has no pick task", {"id": wave_id})
        return [
            queue_label(
                session,
                printer_id,
                "picklist",
                data,
                copies=copies,
                idempotency_key=idempotency_key and f"{idempotency_key}:{i}",
                reference=f"picklist:wave {wave_id}",
                requested_by_id=actor.id if actor is not None else None,
            )
            for i, data in enumerate(documents)
        ]
