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

from typing import Any

from sqlalchemy import func, select

from wms.channels.outbox import emit
from wms.errors import InvalidState
from wms.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from wms.stock.models import Reservation
from wms.tasks import pack_rules, rules
from wms.tasks.kinds.base import KindRules, Work, register
from wms.tasks.models import Task, TaskKind, TaskStatus

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
    of it is open and none of its units is still to be picked. Locks the order row (after the task row, as every
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
    to_pick = session.execute(
        select(func.coalesce(func.sum(Reservation.open_qty), 0))
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .where(OrderLine.order_id == order_id)
    ).scalar_one()
    if others or to_pick:
        return  # another part of the order is still on its way: packed with the last part
    order.status = OrderStatus.PACKED
    session.add(OrderEvent(order_id=order.id, status=OrderStatus.PACKED, actor=work.actor, device=work.device))
    emit(session, "order.updated", order.id, order.channel_id)
