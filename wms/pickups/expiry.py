"""Pickup orders nobody collects: a day before the hold ends the channel is reminded (``order.updated`` with
``pickup.reminded_at`` set), and once it has ended the order ``expired``: the channel is told, and a ``putaway``
task tells the store's clerk to take the units off the pickup shelf back to the selling shelves (scanning each
unit and the bin it goes to), where they are sellable again.

Each order is its own unit of work, locked (a handover racing expiry: whichever locks first wins, the other finds
the order no longer ready). Both run in ``wms worker`` (:mod:`wms.pickups.worker`), reading first and writing only
what is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from wms.channels.outbox import emit
from wms.extensions import db
from wms.locations.models import Bin
from wms.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from wms.tasks.models import Task, TaskKind, TaskLine, TaskStatus
from wms.timeutil import utcnow
from wms.uow import unit_of_work

#: how long before the hold ends the channel is reminded
REMIND_BEFORE = timedelta(days=1)


def remind_due(now: datetime | None = None) -> int:
    """Remind the channels of pickup orders whose hold ends within a day; how many."""
    now = now or utcnow()
    due = list(
        db.session.execute(
            select(Order.id).where(
                Order.status == OrderStatus.READY_FOR_PICKUP,
                Order.reminded_at.is_(None),
                Order.hold_until <= now + REMIND_BEFORE,
                Order.hold_until > now,
            )
        ).scalars()
    )
    db.session.rollback()
    reminded = 0
    for order_id in due:
        with unit_of_work() as session:
            order = session.execute(
                select(Order)
                .where(Order.id == order_id, Order.status == OrderStatus.READY_FOR_PICKUP, Order.reminded_at.is_(None))
                .with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one_or_none()
            if order is None:
                continue
            order.reminded_at = now
            emit(session, "order.updated", order.id, order.channel_id)
            reminded += 1
    return reminded


def expire_due(now: datetime | None = None) -> int:
    """Expire the pickup orders whose hold has ended; how many."""
    now = now or utcnow()
    due = list(
        db.session.execute(
            select(Order.id).where(Order.status == OrderStatus.READY_FOR_PICKUP, Order.hold_until <= now)
        ).scalars()
    )
    db.session.rollback()
    return sum(1 for order_id in due if expire_order(order_id, now))


def expire_order(order_id: int, now: datetime | None = None, actor: str = "worker") -> bool:
    """Expire one ready pickup order whose hold has ended: ``expired`` (history, ``order.updated``), and a
    ``putaway`` task from its shelf back to the selling shelves. False when it is not due (collected meanwhile)."""
    now = now or utcnow()
    with unit_of_work() as session:
        # Due by the database's comparison (SQLite hands times back without their zone).
        order = session.execute(
            select(Order)
            .where(Order.id == order_id, Order.status == OrderStatus.READY_FOR_PICKUP, Order.hold_until <= now)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if order is None:
            return False
        shelf = session.get(Bin, order.shelf_bin_id)
        on_shelf = session.execute(
            select(OrderLine.product_id, OrderLine.picked - OrderLine.collected - OrderLine.declined)
            .where(OrderLine.order_id == order.id)
            .order_by(OrderLine.line_no)
        ).all()
        lines = [(product_id, int(units)) for product_id, units in on_shelf if units and units > 0]
        if lines:
            task = Task(
                kind=TaskKind.PUTAWAY,
                status=TaskStatus.OPEN,
                location_id=order.pickup_location_id,
                reference={"dock": shelf.code, "order": order.id, "reason": "pickup expired"},
            )
            task.lines = [
                TaskLine(line_no=i, product_id=product_id, qty=units, done=0, lot="")
                for i, (product_id, units) in enumerate(lines, start=1)
            ]
            session.add(task)
        order.status = OrderStatus.EXPIRED
        session.add(OrderEvent(order_id=order.id, status=OrderStatus.EXPIRED, actor=actor))
        emit(session, "order.updated", order.id, order.channel_id)
        return True
