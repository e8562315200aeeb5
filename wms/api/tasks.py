"""Staff API: tasks and scans (docs/api.md, "Tasks and scans"). A picker or clerk sees only the tasks of their
home location (another location's task answers 404); managers and admins see all."""

from __future__ import annotations

from flask import g, request

from wms.api import bp, parse_body, parse_no_body, require_staff
from wms.api.schemas import TaskCompleteIn, TaskScanIn, TaskShortIn
from wms.enums import values
from wms.errors import ValidationError
from wms.tasks.models import TaskKind, TaskStatus
from wms.tasks.service import apply_scan, claim_task, complete_task, get_task, list_tasks, short_pick


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise ValidationError.one(name, f"one of {', '.join(allowed)}")
    return value


@bp.get("/tasks")
@require_staff()
def get_tasks():
    kind = _choice("kind", values(TaskKind))
    status = _choice("status", values(TaskStatus))
    return {"tasks": list_tasks(g.user, kind, status, request.args.get("location") or None)}


@bp.get("/tasks/<int:task_id>")
@require_staff()
def get_one_task(task_id: int):
    return get_task(task_id, g.user)


@bp.post("/tasks/<int:task_id>/claim")
@require_staff()
def post_claim(task_id: int):
    parse_no_body()
    return claim_task(task_id, g.user)


@bp.post("/tasks/<int:task_id>/scans")
@require_staff()
def post_scan(task_id: int):
    body = parse_body(TaskScanIn)
    return apply_scan(task_id, body.id, body.code, body.qty, g.user, g.device, body.condition)


@bp.post("/tasks/<int:task_id>/short")
@require_staff()
def post_short(task_id: int):
    body = parse_body(TaskShortIn)
    return short_pick(task_id, body.id, body.qty_found, g.user, g.device)


@bp.post("/tasks/<int:task_id>/complete")
@require_staff()
def post_complete(task_id: int):
    parse_body(TaskCompleteIn)
    return complete_task(task_id, g.user)
