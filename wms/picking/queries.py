"""Read models of the waves page: the orders due for picking per location, and the recent waves with their tasks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import exists, or_, select

from wms.auth.models import User
from wms.channels.models import Channel
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order, OrderLine
from wms.picking.models import Wave
from wms.picking.service import due_by_line
from wms.stock.models import Reservation
from wms.tasks.models import Task, TaskKind, TaskLine
from wms.timeutil import utcnow

#: waves the page lists
RECENT_WAVES = 20


@dataclass(frozen=True)
class DueOrder:
    id: int
    external_id: str
    channel: str
    fulfilment: str
    status: str
    urgent: bool
    created_at: datetime
    #: minutes since the order came in
    age_minutes: int
    lines: int
    units: int


@dataclass(frozen=True)
class TaskRow:
    id: int
    zone: str
    status: str
    assignee: str | None
    lines_done: int
    lines: int
    units_done: int
    units: int


@dataclass
class WaveRow:
    id: int
    location: str
    actor: str | None
    created_at: datetime
    orders: int = 0
    tasks: list[TaskRow] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return bool(self.tasks) and all(t.lines_done == t.lines for t in self.tasks)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes, which are UTC by convention.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def due_orders(location: Location) -> list[DueOrder]:
    """The orders with lines due for picking at ``location``: urgent first, then oldest first."""
    session = db.session
    due = due_by_line(session, location.id)
    if not due:
        return []
    lines: dict[int, int] = defaultdict(int)
    units: dict[int, int] = defaultdict(int)
    for d in due:
        lines[d.order_id] += 1
        units[d.order_id] += d.qty
    rows = session.execute(
        select(Order, Channel.code).join(Channel, Channel.id == Order.channel_id).where(Order.id.in_(sorted(lines)))
    ).all()
    now = utcnow()
    out = [
        DueOrder(
            id=order.id,
            external_id=order.external_id,
            channel=channel,
            fulfilment=order.fulfilment,
            status=order.status,
            urgent=order.urgent,
            created_at=order.created_at,
            age_minutes=max(0, int((now - _aware(order.created_at)).total_seconds() // 60)),
            lines=lines[order.id],
            units=units[order.id],
        )
        for order, channel in rows
    ]
    out.sort(key=lambda o: (not o.urgent, _aware(o.created_at), o.id))
    return out


@dataclass(frozen=True)
class FlaggedOrder:
    id: int
    external_id: str
    status: str
    attention: str


#: orders still on the floor: a flag on one of them is a manager's to settle here
OPEN_STATUSES = ("reserved", "picking", "packed")


def flagged_orders(location: Location) -> list[FlaggedOrder]:
    """Open orders with work or stock at ``location`` that wait for a manager (``order.attention``: a short pick
    with nothing to pick instead, a count that took reserved units), oldest first."""
    here = or_(
        exists().where(
            Reservation.order_line_id == OrderLine.id,
            OrderLine.order_id == Order.id,
            Reservation.location_id == location.id,
        ),
        exists().where(TaskLine.order_id == Order.id, TaskLine.task_id == Task.id, Task.location_id == location.id),
    )
    rows = db.session.execute(
        select(Order.id, Order.external_id, Order.status, Order.attention)
        .where(Order.attention.is_not(None), Order.status.in_(OPEN_STATUSES), here)
        .order_by(Order.id)
    ).all()
    return [FlaggedOrder(*row) for row in rows]


def recent_waves(location: Location | None = None, limit: int = RECENT_WAVES) -> list[WaveRow]:
    """The latest waves (of ``location``, or everywhere), newest first, with their pick tasks' progress."""
    session = db.session
    query = select(Wave, Location.code).join(Location, Location.id == Wave.location_id)
    if location is not None:
        query = query.where(Wave.location_id == location.id)
    rows = session.execute(query.order_by(Wave.id.desc()).limit(limit)).all()
    waves = {w.id: WaveRow(w.id, code, w.actor, w.created_at) for w, code in rows}
    if not waves:
        return []
    location_ids = sorted({w.location_id for w, _ in rows})
    # Pick tasks of these locations created since the oldest wave listed: their reference names the wave.
    oldest = min(w.created_at for w, _ in rows)
    tasks = session.execute(
        select(Task, User.username)
        .outerjoin(User, User.id == Task.assignee_id)
        .where(Task.kind == TaskKind.PICK.value, Task.location_id.in_(location_ids), Task.created_at >= oldest)
        .order_by(Task.id)
    ).all()
    mine = [(t, name) for t, name in tasks if isinstance(t.reference, dict) and t.reference.get("wave") in waves]
    progress: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    task_orders: dict[int, set[int]] = defaultdict(set)
    if mine:
        for task_id, qty, done, short, order_id in session.execute(
            select(TaskLine.task_id, TaskLine.qty, TaskLine.done, TaskLine.short, TaskLine.order_id).where(
                TaskLine.task_id.in_([t.id for t, _ in mine])
            )
        ).all():
            progress[task_id].append((qty, done, short))
            if order_id is not None:
                task_orders[task_id].add(order_id)
    orders: dict[int, set[int]] = defaultdict(set)
    for task, assignee in mine:
        wave_id = task.reference["wave"]
        lines = progress[task.id]
        waves[wave_id].tasks.append(
            TaskRow(
                id=task.id,
                zone=str(task.reference.get("zone") or ""),
                status=task.status,
                assignee=assignee,
                lines_done=sum(1 for qty, done, short in lines if done + short >= qty),
                lines=len(lines),
                units_done=sum(done for _, done, _ in lines),
                units=sum(qty for qty, _, _ in lines),
            )
        )
        orders[wave_id].update(task_orders[task.id])
    for wave_id, ids in orders.items():
        waves[wave_id].orders = len(ids)
    return list(waves.values())
