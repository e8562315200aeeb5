"""The count task kind: a blind count of one bin (its scan rules, variance and approval are being built)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.locations.models import Bin
from wms.tasks.models import Task, TaskKind, TaskStatus

#: statuses of a count that is still to be done (a bin gets no second one meanwhile)
OPEN_COUNT = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.AWAITING_APPROVAL)


def open_count_task(session: Session, bin_: Bin, reference: dict[str, Any] | None = None) -> Task:
    """A ``count`` task for ``bin_`` (reference ``{"bin": code, ...}``), or the one already open for it. Runs in
    the caller's unit of work."""
    existing = session.execute(
        select(Task).where(
            Task.kind == TaskKind.COUNT,
            Task.location_id == bin_.location_id,
            Task.status.in_(OPEN_COUNT),
            Task.reference["bin"].as_string() == bin_.code,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    task = Task(
        kind=TaskKind.COUNT,
        status=TaskStatus.OPEN,
        location_id=bin_.location_id,
        reference={"bin": bin_.code, **(reference or {})},
    )
    session.add(task)
    session.flush()
    return task
