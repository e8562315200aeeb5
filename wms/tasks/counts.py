"""Counts: open blind counts of bins, approve (or recount) the ones whose variance is over the threshold, and what
the manager's page shows of them. The counting itself is the count task kind (:mod:`wms.tasks.kinds.count`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.auth.models import MANAGER_ROLES, User
from wms.catalog.models import Product
from wms.errors import Forbidden, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.locations.service import find_bin, find_location
from wms.orders.models import Order
from wms.tasks import count_rules
from wms.tasks.kinds.count import counted, open_count_task, plan_count, settle, threshold
from wms.tasks.models import Task, TaskKind, TaskStatus
from wms.tasks.service import task_view
from wms.timeutil import as_utc
from wms.uow import unit_of_work


def open_counts(location_code: str, bin_codes: list[str], actor: str | None = None) -> dict[str, Any]:
    """One ``count`` task per bin of ``bin_codes`` at the location (a bin with a count still open keeps that one):
    ``{"tasks": [id]}``, in the order of ``bin_codes``. Raises ValidationError for an unknown location or every
    unknown bin (``bins[i]``); nothing is opened then."""
    with unit_of_work() as session:
        location = find_location(location_code, session)
        if location is None:
            raise ValidationError.one("location", f"unknown location {location_code!r}")
        bins = {
            b.code: b
            for b in session.execute(
                select(Bin).where(Bin.location_id == location.id, Bin.code.in_(set(bin_codes)))
            ).scalars()
        }
        errors = [
            {"field": f"bins[{i}]", "message": f"no bin {code!r} at {location.code}"}
            for i, code in enumerate(bin_codes)
            if code not in bins
        ]
        if errors:
            raise ValidationError(errors)
        reference = {"opened_by": actor} if actor else {}
        return {"tasks": [open_count_task(session, bins[code], reference).id for code in bin_codes]}


def _waiting_count(session: Session, task_id: int, user: User) -> Task:
    if user.role not in MANAGER_ROLES:
        raise Forbidden("only a manager may approve or recount a count", {"role": user.role})
    task = session.execute(select(Task).where(Task.id == task_id).with_for_update()).scalar_one_or_none()
    if task is None:
        raise NotFound(f"no task {task_id}", {"task": task_id})
    if task.kind != TaskKind.COUNT or task.status != TaskStatus.AWAITING_APPROVAL:
        what = "count" if task.kind == TaskKind.COUNT else f"{task.kind} task"
        raise InvalidState(
            f"task {task_id} is a {what} that is {task.status}, not a count waiting for approval",
            {"status": task.status, "kind": task.kind},
        )
    return task


def approve_count(task_id: int, user: User, device: str | None = None) -> dict[str, Any]:
    """Book a count that waits for approval (ledger reason ``count``, actor ``user``); the task goes ``done``.
    Locks the task row, then what booking a count locks (:func:`wms.tasks.kinds.count.settle`). Raises Forbidden
    (not a manager or admin), NotFound (no such task), InvalidState (not a count waiting for approval)."""
    with unit_of_work() as session:
        task = _waiting_count(session, task_id, user)
        settle(session, task, user.username, device, approved_by=user.username)
        session.flush()
        return task_view(session, task)


def recount(task_id: int, user: User) -> dict[str, Any]:
    """Reject a count that waits for approval: it is cancelled (nothing booked) and a new count of the same bin
    opens (its reference names the one it replaces). Answers the new task. Locks the task row. Raises Forbidden,
    NotFound, InvalidState like :func:`approve_count`."""
    with unit_of_work() as session:
        task = _waiting_count(session, task_id, user)
        task.status = TaskStatus.CANCELLED
        task.reference = {**task.reference, "rejected_by": user.username}
        session.flush()
        bin_ = find_bin(session, task.location_id, task.reference["bin"])
        if bin_ is None:
            raise InvalidState(f"bin {task.reference['bin']} no longer exists", {"bin": task.reference["bin"]})
        new = open_count_task(session, bin_, {"recount_of": task.id, "opened_by": user.username})
        return task_view(session, new)


# --- the manager's page ----------------------------------------------------------------------------------------


@dataclass
class VarianceRow:
    sku: str
    name: str
    lot: str
    counted: int
    expected: int
    units: int
    percent: float | None
    over: bool


@dataclass
class WaitingCount:
    id: int
    location: str
    bin: str
    counted_by: str | None
    counted_at: datetime | None
    rows: list[VarianceRow] = field(default_factory=list)
    #: orders whose reservations approving it would release: (order id, external id)
    hits: list[tuple[int, str]] = field(default_factory=list)


def counts_waiting(user: User) -> list[WaitingCount]:
    """Counts waiting for approval, oldest first, each with its variances (against the books when it was counted)
    and the orders approving it now would hit. Reads only. Raises Forbidden for anyone but a manager or admin."""
    if user.role not in MANAGER_ROLES:
        raise Forbidden("only a manager may see counts waiting for approval", {"role": user.role})
    session = db.session
    tasks = session.execute(
        select(Task)
        .where(Task.kind == TaskKind.COUNT, Task.status == TaskStatus.AWAITING_APPROVAL)
        .order_by(Task.updated_at, Task.id)
    ).scalars()
    limits = threshold()
    waiting = []
    for task in tasks:
        reference = task.reference or {}
        location = session.get(Location, task.location_id)
        bin_ = find_bin(session, task.location_id, reference.get("bin", ""))
        at = reference.get("counted_at")
        item = WaitingCount(
            task.id, location.code, reference.get("bin", ""), reference.get("counted_by"), as_utc(at) if at else None
        )
        if bin_ is not None:
            plan = plan_count(session, location, bin_, counted(task), reference.get("ledger_mark"), lock=False)
            products = {
                p.id: p for p in session.execute(select(Product).where(Product.id.in_(plan.product_ids))).scalars()
            }
            item.rows = [
                VarianceRow(
                    products[v.product_id].sku,
                    products[v.product_id].name,
                    v.lot,
                    v.counted,
                    v.expected,
                    v.units,
                    v.percent,
                    count_rules.over_threshold(v, limits),
                )
                for v in plan.variances
                if v.counted or v.expected
            ]
            if plan.hit_orders:
                item.hits = [
                    (order_id, external_id)
                    for order_id, external_id in session.execute(
                        select(Order.id, Order.external_id).where(Order.id.in_(plan.hit_orders)).order_by(Order.id)
                    )
                ]
        waiting.append(item)
    return waiting
