"""Read models of the handheld pages: the task lists, the dock bins and printers of a location, the put-away a
receipt opened. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from wms.auth.models import MANAGER_ROLES, User
from wms.auth.service import visible_locations
from wms.extensions import db
from wms.locations.models import Bin, BinKind, Location
from wms.printing.queries import visible_printers
from wms.tasks.models import Task, TaskKind, TaskStatus
from wms.tasks.service import list_tasks

#: the kinds the home screen offers, in its order
FLOOR_KINDS = (
    TaskKind.PUTAWAY,
    TaskKind.PICK,
    TaskKind.PACK,
    TaskKind.COUNT,
    TaskKind.STAGE,
    TaskKind.TRANSFER_RECEIVE,
)
#: statuses a list shows: work still to do
WORKABLE = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


@dataclass(frozen=True)
class TaskRow:
    id: int
    kind: str
    status: str
    location: str
    assignee: str | None
    reference: list[tuple[str, str]]
    lines_done: int
    lines: int


#: the parts of a task's reference a list shows (the receipt id, the dock, flags: not worth the room)
SHOWN_REFERENCE = ("delivery", "wave", "order", "bin", "transfer")


def reference_parts(reference: dict[str, Any] | None) -> list[tuple[str, str]]:
    """What a list shows of a task's reference: ``[("delivery", "PO-1")]``."""
    return [(key, str(value)) for key, value in (reference or {}).items() if key in SHOWN_REFERENCE and value]


def task_rows(user: User, kind: str) -> list[TaskRow]:
    """Open and in-progress tasks of ``kind`` that ``user`` may work on (their location's; a manager's: all),
    oldest first."""
    rows = []
    # Filtered in the query: the done tasks of the location's whole history are not read to be thrown away.
    for task in list_tasks(user, kind, WORKABLE):
        lines = task["lines"]
        rows.append(
            TaskRow(
                id=task["id"],
                kind=task["kind"],
                status=task["status"],
                location=task["location"],
                assignee=task["assignee"],
                reference=reference_parts(task["reference"]),
                lines_done=sum(1 for line in lines if line["done"] + line.get("short", 0) >= line["qty"]),
                lines=len(lines),
            )
        )
    return rows


def open_counts(user: User) -> dict[str, int]:
    """Open and in-progress tasks per floor kind that ``user`` may work on, for the home screen's buttons (one
    query: the home screen must stay quick with hundreds of tasks in flight)."""
    query = (
        select(Task.kind, func.count(Task.id))
        .where(Task.kind.in_(FLOOR_KINDS), Task.status.in_(WORKABLE))
        .group_by(Task.kind)
    )
    if user.role not in MANAGER_ROLES:
        query = query.where(Task.location_id == user.location_id)
    found = dict(db.session.execute(query).all())
    return {kind.value: found.get(kind.value, 0) for kind in FLOOR_KINDS}


def floor_locations(user: User) -> list[dict[str, Any]]:
    """The locations ``user`` works at (a picker or clerk: theirs; a manager: all), each with its dock bins in
    sequence order (the first is where a delivery goes unless another is scanned)."""
    locations = visible_locations(user)
    if not locations:
        return []
    docks: dict[int, list[str]] = {loc.id: [] for loc in locations}
    query = (
        select(Bin.location_id, Bin.code)
        .where(Bin.location_id.in_(docks), Bin.kind == BinKind.DOCK)
        .order_by(Bin.sequence, Bin.code)
    )
    for location_id, code in db.session.execute(query):
        docks[location_id].append(code)
    return [{"id": loc.id, "code": loc.code, "name": loc.name, "docks": docks[loc.id]} for loc in locations]


def printer_names(user: User, location_code: str) -> list[str]:
    """Active printers of ``location_code`` that ``user`` may print on, label printers first."""
    return [p.name for p in visible_printers(user, active_only=True) if p.location.code == location_code]


def putaway_of_receipt(receipt_id: int, location_code: str) -> int | None:
    """The put-away task a receipt opened (None: it went into a bin that is not a dock)."""
    return (
        db.session.execute(
            select(Task.id)
            .join(Location, Location.id == Task.location_id)
            .where(Task.kind == TaskKind.PUTAWAY, Location.code == location_code)
            .where(Task.reference["receipt"].as_integer() == receipt_id)
            .order_by(Task.id)
        )
        .scalars()
        .first()
    )
