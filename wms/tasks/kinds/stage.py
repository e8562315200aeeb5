"""The stage task kind: a store clerk prepares a pickup order (:mod:`wms.tasks.stage_rules` decides).

A stage task, as :func:`open_stage_tasks` opens it: ``kind="stage"`` at the pickup store, ``reference={"order":
<id>}`` (``"labelled": true`` once its label is scanned), one line per (order line, bin, lot) with units no other
task claims, best bin first (as a wave allocates). Picking a unit moves no stock: the units travel in the
clerk's basket. The shelf scan moves every unit from its bin to the pickup shelf (ledger reason ``pick``, the order
line's reservation and the level's reserved falling by as much, as a pick does), and the order goes
``ready_for_pickup`` with its shelf and the date it is held until (the store's ``pickup_hold_days``).

Locks, in this order: the task row (the service), the order row, its reservations, stock levels and quants.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.auth.models import MANAGER_ROLES, User
from wms.errors import Forbidden, InvalidState, NotFound, WrongBin
from wms.extensions import db
from wms.locations.models import Bin, BinKind, Location, LocationKind
from wms.orders.models import Order, OrderLine, OrderStatus
from wms.printing.models import Printer
from wms.printing.service import queue_label
from wms.stock.models import Reservation
from wms.tasks import rules, stage_rules
from wms.tasks.kinds.base import KindRules, Work, register
from wms.tasks.kinds.pick import free_stock, locked_order, set_order_status, take_reserved_units
from wms.tasks.models import Task, TaskKind, TaskLine, TaskStatus
from wms.timeutil import utcnow
from wms.uow import unit_of_work


def bench(task: Task) -> stage_rules.Bench:
    reference = task.reference or {}
    return stage_rules.Bench(
        order_id=int(reference["order"]),
        pickup_code=reference.get("pickup_code"),
        labelled=bool(reference.get("labelled")),
        shelf=reference.get("shelf"),
    )


@register
class StageRules(KindRules):
    kind = TaskKind.STAGE.value

    def next_step(self, task: Task, states: list[rules.LineState]) -> dict[str, Any]:
        return stage_rules.stage_next(bench(task), states)

    def scan(self, work: Work, scan: rules.ScanFacts | None, qty: int | None) -> str:
        task, session = work.task, work.session
        effect = stage_rules.stage_scan(bench(task), work.states, scan, qty)
        if effect.action == "bin":
            work.line(effect.line_no).bin_scanned = True
            return ""
        if effect.action == "pick":
            line = work.line(effect.line_no)
            order = locked_order(session, line.order_id)
            if order.status == OrderStatus.RESERVED:
                set_order_status(session, order, OrderStatus.PICKING, work)
            line.done += effect.qty
            state = work.state(line.line_no)
            message = f"{effect.qty} x {state.sku} for order {order.id}"
            after = [s if s.line_no != line.line_no else replace(s, done=s.done + effect.qty) for s in work.states]
            if stage_rules.all_picked(after):
                message += ". " + _label(work, order)
            return message
        if effect.action == "label":
            # A new dict: SQLAlchemy sees a JSON column change only when the attribute is assigned.
            task.reference = {**(task.reference or {}), "labelled": True}
            return f"Label of order {bench(task).order_id} checked"
        return _shelve(work, effect.shelf or "")

    def after_scan(self, work: Work) -> None:
        """Picked lines do not end a stage: the shelf scan does (:func:`_shelve`)."""

    def complete(self, work: Work) -> None:
        raise InvalidState(
            f"task {work.task.id}: a stage ends when the order is on a pickup shelf: scan the shelf",
            {"next": self.next_step(work.task, work.states)["expect"]},
        )


def _label(work: Work, order: Order) -> str:
    """The units are picked: suggest a pickup shelf (the one holding fewest ready orders, then walk order), and
    queue the order's pickup label with it on the store's printer (a station's first: the counter PC's). The
    answer's words on it."""
    session, task = work.session, work.task
    waiting = (
        select(func.count(Order.id))
        .where(Order.shelf_bin_id == Bin.id, Order.status == OrderStatus.READY_FOR_PICKUP)
        .scalar_subquery()
    )
    shelf = session.execute(
        select(Bin.code)
        .where(Bin.location_id == task.location_id, Bin.kind == BinKind.PICKUP)
        .order_by(waiting, Bin.sequence, Bin.code)
        .limit(1)
    ).scalar_one_or_none()
    task.reference = {**(task.reference or {}), "shelf": shelf}
    printer = session.execute(
        select(Printer)
        .where(Printer.location_id == task.location_id, Printer.active.is_(True))
        .order_by(Printer.station_id.is_(None), Printer.name)
        .limit(1)
    ).scalar_one_or_none()
    if printer is None:
        return "No printer at this store: print the pickup label from the Labels page."
    store = session.get(Location, task.location_id)
    data = {
        "order": str(order.id),
        "pickup_code": order.pickup_code,
        "customer": (order.customer or {}).get("name") or "-",
        "store": store.name or store.code,
        "shelf": shelf or "-",
    }
    queue_label(
        session,
        printer,
        "pickup",
        data,
        idempotency_key=f"pickup-label-{order.id}-{task.id}",
        reference=f"order:{order.id}",
        requested_by_id=work.user.id,
    )
    return f"Pickup label printing on {printer.name}."


def _shelve(work: Work, shelf_code: str) -> str:
    """Every unit of the task from its bin onto the pickup shelf; the order ``ready_for_pickup``."""
    session, task = work.session, work.task
    shelf = session.execute(
        select(Bin).where(Bin.location_id == task.location_id, Bin.code == shelf_code)
    ).scalar_one_or_none()
    if shelf is None or shelf.kind != BinKind.PICKUP:
        raise WrongBin(
            f"{shelf_code} is not a pickup shelf. Scan a pickup shelf.",
            {"expected": "a pickup shelf", "scanned": shelf_code},
        )
    order = locked_order(session, bench(task).order_id)
    if order.status not in (OrderStatus.RESERVED, OrderStatus.PICKING):
        raise InvalidState(
            f"order {order.id} is {order.status}: take its units back to the shelves", {"status": order.status}
        )
    sources = {
        b.id: b for b in session.execute(select(Bin).where(Bin.id.in_({ln.bin_id for ln in task.lines}))).scalars()
    }
    for line in sorted(task.lines, key=lambda ln: ln.line_no):
        if line.done:
            take_reserved_units(
                work, order, line, line.done, sources[line.bin_id], shelf, f"task {task.id}, shelf {shelf.code}"
            )
    store = session.get(Location, task.location_id)
    order.shelf_bin_id = shelf.id
    order.hold_until = utcnow() + timedelta(days=store.pickup_hold_days)
    set_order_status(session, order, OrderStatus.READY_FOR_PICKUP, work)
    task.status = TaskStatus.DONE
    return f"Order {order.id} is ready for pickup on {shelf.code}"


# --- opening stage tasks ---------------------------------------------------------------------------------------


def stageable_orders(session: Session, store_id: int) -> list[int]:
    """Pickup orders at the store whose every open reservation is on the store's own stock (none waits for a
    transfer), that no active stage task prepares yet: the store's list of pickups to prepare, oldest first."""
    waiting = (
        select(Reservation.id)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .where(
            OrderLine.order_id == Order.id,
            Reservation.open_qty > 0,
            (Reservation.location_id != store_id) | Reservation.needs_transfer.is_(True),
        )
        .exists()
    )
    staged = (
        select(TaskLine.id)
        .join(Task, Task.id == TaskLine.task_id)
        .where(TaskLine.order_id == Order.id, Task.kind == TaskKind.STAGE, Task.status != TaskStatus.CANCELLED)
        .exists()
    )
    any_here = (
        select(Reservation.id)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .where(OrderLine.order_id == Order.id, Reservation.location_id == store_id, Reservation.open_qty > 0)
        .exists()
    )
    return list(
        session.execute(
            select(Order.id)
            .where(
                Order.fulfilment == "pickup",
                Order.pickup_location_id == store_id,
                Order.status == OrderStatus.RESERVED,
                any_here,
                ~waiting,
                ~staged,
            )
            .order_by(Order.created_at, Order.id)
        ).scalars()
    )


def open_stage_tasks(store_code: str, user: User | None = None, order_ids: list[int] | None = None) -> list[int]:
    """Open a stage task for each pickup order of the store ready to prepare (:func:`stageable_orders`; only
    ``order_ids`` when given); their ids. Lines take units no other task claims, best bin first; an order whose
    units are not all in the store's bins by the books is left for a count to settle. Locks each order row.
    Raises NotFound (no such store), Forbidden (a clerk of another store)."""
    with unit_of_work() as session:
        store = session.execute(select(Location).where(Location.code == store_code)).scalar_one_or_none()
        if store is None or store.kind != LocationKind.STORE:
            raise NotFound(f"no store {store_code}", {"location": store_code})
        if user is not None and user.role not in MANAGER_ROLES and user.location_id != store.id:
            raise Forbidden("a clerk prepares the pickups of their own store", {"location": store_code})
        candidates = stageable_orders(session, store.id)
        if order_ids is not None:
            candidates = [oid for oid in candidates if oid in set(order_ids)]
        opened = []
        for order_id in candidates:
            order = locked_order(session, order_id)
            if order.status != OrderStatus.RESERVED:
                continue
            task = _stage_task(session, order, store)
            if task is not None:
                opened.append(task.id)
        return opened


def _stage_task(session: Session, order: Order, store: Location) -> Task | None:
    wanted: dict[int, list[tuple[int, int]]] = defaultdict(list)  # product -> [(order line, units)]
    for line_id, product_id, units in session.execute(
        select(OrderLine.id, OrderLine.product_id, func.sum(Reservation.open_qty))
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .where(OrderLine.order_id == order.id, Reservation.location_id == store.id, Reservation.open_qty > 0)
        .group_by(OrderLine.id, OrderLine.product_id)
        .order_by(OrderLine.id)
    ):
        wanted[product_id].append((line_id, int(units)))
    stock = free_stock(session, store.id, wanted.keys())
    lines: list[TaskLine] = []
    for product_id, order_lines in wanted.items():
        quants = list(stock.get(product_id, []))
        for order_line_id, units in order_lines:
            while units > 0 and quants:
                quant = quants[0]
                take = min(units, quant.free)
                lines.append(
                    TaskLine(
                        line_no=0,
                        product_id=product_id,
                        qty=take,
                        done=0,
                        bin_id=quant.bin_id,
                        lot=quant.lot,
                        order_id=order.id,
                        order_line_id=order_line_id,
                    )
                )
                units -= take
                quant.free -= take
                if quant.free <= 0:
                    quants.pop(0)
            if units > 0:
                order.attention = (
                    f"Pickup order {order.id}: the store's bins hold fewer units than reserved. Count them, "
                    "then decide."
                )
                return None
    walk = {q.bin_id: (q.walk_seq, q.bin_code) for quants in stock.values() for q in quants}
    lines.sort(key=lambda ln: (walk.get(ln.bin_id, (0, "")), ln.order_line_id))
    for i, line in enumerate(lines, start=1):
        line.line_no = i
    task = Task(
        kind=TaskKind.STAGE,
        status=TaskStatus.OPEN,
        location_id=store.id,
        reference={"order": order.id, "pickup_code": order.pickup_code},
    )
    task.lines = lines
    session.add(task)
    session.flush()
    return task


def stage_tasks_due() -> int:
    """Worker stage: open the stage tasks of every store's pickups ready to prepare; how many were opened. Reads
    first, and writes (a unit of work per store) only where there is something to open: on SQLite a write takes
    the database's write lock, and this runs every round."""
    stores = db.session.execute(select(Location.id, Location.code).where(Location.kind == LocationKind.STORE)).all()
    due = [code for store_id, code in stores if stageable_orders(db.session, store_id)]
    db.session.rollback()
    return sum(len(open_stage_tasks(code)) for code in due)
