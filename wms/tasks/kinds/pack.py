"""Pack: at the pack station, scan the tote (or the order), then check every unit by scan
(:mod:`wms.tasks.pack_rules`). When the last unit is checked the task is done and, once no other part of the order
is still being picked or packed, the order goes ``packed`` (an ``order.updated`` webhook); shipping
(:mod:`wms.shipping.service`) then takes the units out of stock.

A pack task, as picking opens it: ``kind="pack"``, ``location_id``, ``reference={"order": <order id>}``,
``tote=<the order's tote>`` (or None), one line per (order line, lot) picked, with ``product_id``, ``qty`` (units in
the tote), ``lot``, ``order_id``, ``order_line_id`` and ``bin_id`` (the staging bin the units sit in). Checking
moves no stock: the units stay in the staging bin until they are shipped. The task's ``reference`` gains
``"confirmed": true`` once the tote or order is scanned (and ``"shipment": <id>`` once shipped).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from wms.channels.outbox import emit
from wms.errors import InvalidState
from wms.locations.models import Bin, BinKind, Location
from wms.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from wms.stock.models import Reservation
from wms.tasks import pack_rules, rules
from wms.tasks.kinds.base import KindRules, Work, register
from wms.tasks.models import Task, TaskKind, TaskLine, TaskStatus

#: statuses in which a pack task still has work (another pack task of the order in one of them: not packed yet)
OPEN = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


def bench(task: Task, states: list[rules.LineState]) -> pack_rules.Bench:
    """The pack rules' view of the task: its order, tote (the task's, else its order's) and confirmation."""
    reference = task.reference or {}
    tote = task.tote or next((state.tote for state in states if state.tote), None)
    return pack_rules.Bench(order_id=int(reference["order"]), tote=tote, confirmed=bool(reference.get("confirmed")))


@register
class PackRules(KindRules):
    kind = TaskKind.PACK.value

    def next_step(self, task: Task, states: list[rules.LineState]) -> dict[str, Any]:
        return pack_rules.next_step(bench(task, states), states)

    def scan(self, work: Work, scan: rules.ScanFacts | None, qty: int | None) -> str:
        task = work.task
        facts = bench(task, work.states)
        order = work.session.get(Order, facts.order_id)
        if order is None or order.status != OrderStatus.PICKING:
            status = order.status if order is not None else None
            raise InvalidState(
                f"order {facts.order_id} is {status}: it cannot be packed; take the tote to a manager",
                {"order": facts.order_id, "status": status},
            )
        if scan is None:  # a qty alone: packing never expects one (the service asks for a code first)
            raise InvalidState("scan the tote, the order or an item", {"order": facts.order_id})
        if not facts.confirmed:
            message = pack_rules.confirm(facts, scan)
            # A new dict: SQLAlchemy sees a JSON column change only when the attribute is assigned.
            task.reference = {**(task.reference or {}), "confirmed": True}
            return message
        checked = pack_rules.check(facts, work.states, scan, qty)
        for line_no, units in checked.units:
            work.line(line_no).done += units
        return checked.message

    def after_scan(self, work: Work) -> None:
        super().after_scan(work)
        if work.task.status == TaskStatus.DONE:
            mark_packed(work)

    def complete(self, work: Work) -> None:
        """Close a pack task whose every unit is checked (the last scan closes it already); with units missing,
        InvalidState naming them (details: ``{"missing": [{"line", "sku", "lot", "missing"}]}``)."""
        facts = bench(work.task, work.states)
        gaps = pack_rules.missing(work.states)
        if gaps:
            raise InvalidState(pack_rules.missing_message(facts.order_id, gaps), {"missing": gaps})
        work.task.status = TaskStatus.DONE
        mark_packed(work)


def mark_packed(work: Work) -> None:
    """The pack task is done: the order goes ``packed`` (history event, ``order.updated``) when no other pack task
    of it is open and none of its units is still to be picked (a pickup order's units at its own store do not
    count: the store stages them once the rest has arrived). Locks the order row (after the task row, as every
    task service does). Raises InvalidState when the order left ``picking`` meanwhile (cancelled)."""
    session, task = work.session, work.task
    order_id = int(task.reference["order"])
    order = session.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one()
    if order.status != OrderStatus.PICKING:
        raise InvalidState(
            f"order {order_id} is {order.status}: it cannot be packed", {"order": order_id, "status": order.status}
        )
    others = session.execute(
        select(func.count(Task.id)).where(
            Task.kind == TaskKind.PACK,
            Task.id != task.id,
            Task.status.in_(OPEN),
            Task.reference["order"].as_integer() == order_id,
        )
    ).scalar_one()
    left = (
        select(func.coalesce(func.sum(Reservation.open_qty), 0))
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .where(OrderLine.order_id == order_id)
    )
    if order.pickup_location_id is not None:
        # A pickup order's units at its own store are staged there, after its warehouse part has travelled.
        left = left.where(Reservation.location_id != order.pickup_location_id)
    to_pick = session.execute(left).scalar_one()
    if others or to_pick:
        return  # another part of the order is still on its way: packed with the last part
    order.status = OrderStatus.PACKED
    session.add(OrderEvent(order_id=order.id, status=OrderStatus.PACKED, actor=work.actor, device=work.device))
    emit(session, "order.updated", order.id, order.channel_id)


# --- from picking to packing: where picked units wait, and when an order is ready to pack --------------------

#: task statuses whose lines still hold stock for an order (allocated, not yet picked)
ACTIVE = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


def staging_bin(session: Session, location_id: int) -> Bin:
    """Where picked units wait for packing: the location's first staging bin in walk order."""
    found = session.execute(
        select(Bin)
        .where(Bin.location_id == location_id, Bin.kind == BinKind.STAGING)
        .order_by(Bin.sequence, Bin.code)
        .limit(1)
    ).scalar_one_or_none()
    if found is None:
        code = session.execute(select(Location.code).where(Location.id == location_id)).scalar_one()
        raise InvalidState(f"{code} has no staging bin to pick into: add a bin of kind staging", {"location": code})
    return found


# The statements of an order's last picked unit, built once: building them costs more than running them.
_ORDER = bindparam("order_id")
_LOCATION = bindparam("location_id")
_LEFT_TO_PICK = select(
    or_(
        select(Reservation.id)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .where(
            OrderLine.order_id == _ORDER,
            Reservation.location_id == _LOCATION,
            Reservation.needs_transfer.is_(False),
            Reservation.open_qty > 0,
        )
        .exists(),
        select(TaskLine.id)
        .join(Task, Task.id == TaskLine.task_id)
        .where(
            TaskLine.order_id == _ORDER,
            Task.location_id == _LOCATION,
            Task.kind == TaskKind.PICK,
            Task.status.in_(ACTIVE),
            TaskLine.done + TaskLine.short < TaskLine.qty,
        )
        .exists(),
    )
)
_PICKED = (
    select(TaskLine.order_line_id, TaskLine.product_id, TaskLine.lot, TaskLine.done)
    .join(Task, Task.id == TaskLine.task_id)
    .where(
        TaskLine.order_id == _ORDER,
        Task.location_id == _LOCATION,
        Task.kind == TaskKind.PICK,
        Task.status != TaskStatus.CANCELLED,
        TaskLine.done > 0,
    )
)


@cache
def _picked_and_packing() -> Select:
    """The picked units, each row saying whether the order has a pack task here already: by the pack lines' order
    (an index), not the task's JSON reference (which no index serves). Built on first use: an alias needs every
    mapper configured, which an import cannot wait for."""
    pack, pack_line = aliased(Task), aliased(TaskLine)  # the picked query reads the pick tasks' rows
    return _PICKED.add_columns(
        select(pack.id)
        .join(pack_line, pack_line.task_id == pack.id)
        .where(
            pack_line.order_id == _ORDER,
            pack.kind == TaskKind.PACK,
            pack.location_id == _LOCATION,
            pack.status != TaskStatus.CANCELLED,
        )
        .exists()
    )


_INSERT_TASK = insert(Task).returning(Task.id)
_INSERT_LINES = insert(TaskLine)


def fully_picked(session: Session, order_id: int, location_id: int) -> bool:
    """No open reservation of the order is left here and no active pick line of it has units left (one
    statement: this runs on the scan of an order's last unit)."""
    return not session.execute(_LEFT_TO_PICK, {"order_id": order_id, "location_id": location_id}).scalar_one()


def _units(rows) -> dict[tuple[int | None, int, str], int]:
    units: dict[tuple[int | None, int, str], int] = defaultdict(int)
    for order_line_id, product_id, lot, done, *_ in rows:
        units[(order_line_id, product_id, lot or "")] += done
    return dict(sorted(units.items(), key=lambda item: (item[0][0] or 0, item[0][1], item[0][2])))


def picked_units(session: Session, order_id: int, location_id: int) -> dict[tuple[int | None, int, str], int]:
    """Units picked for an order at a location: (order line id, product id, lot) -> units."""
    return _units(session.execute(_PICKED, {"order_id": order_id, "location_id": location_id}).all())


def open_pack_task(session: Session, order: Order, location_id: int, staging: Bin | None = None) -> int | None:
    """Open a ``pack`` task for the units of ``order`` picked at the location (one line per order line and lot, in
    the staging bin: ``staging``, else :func:`staging_bin`), unless one is open or done already; its id. Runs in
    the caller's unit of work; the order row is locked. Core inserts: this runs on the scan of an order's last
    unit, and the ORM's flush of a new task with its lines costs more than the rest of that scan."""
    rows = session.execute(_picked_and_packing(), {"order_id": order.id, "location_id": location_id}).all()
    if not rows or rows[0][4]:
        return None
    units = _units(rows)
    staging = staging or staging_bin(session, location_id)
    conn = session.connection()  # after the read above, which flushed the session
    task_id = conn.execute(
        _INSERT_TASK,
        {
            "kind": TaskKind.PACK.value,
            "status": TaskStatus.OPEN.value,
            "location_id": location_id,
            "reference": {"order": order.id},
            "tote": order.tote,
        },
    ).scalar_one()
    conn.execute(
        _INSERT_LINES,
        [
            {
                "task_id": task_id,
                "line_no": i,
                "product_id": product_id,
                "qty": qty,
                "done": 0,
                "lot": lot,
                "bin_id": staging.id,
                "order_id": order.id,
                "order_line_id": order_line_id,
            }
            for i, ((order_line_id, product_id, lot), qty) in enumerate(units.items(), start=1)
        ],
    )
    return task_id


def pack_if_picked(session: Session, order: Order, location_id: int) -> int | None:
    """Open the order's pack task at the location when nothing of it is left to pick there (a count that released
    the rest of a short-picked order's reservation ends its picking too). Runs in the caller's unit of work."""
    if order.status != OrderStatus.PICKING or not fully_picked(session, order.id, location_id):
        return None
    return open_pack_task(session, order, location_id)
