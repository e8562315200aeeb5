"""Staff API: counts (docs/api.md, "Floor endpoints"): managers and admins open blind counts of bins and approve
the ones whose variance waits for them. The counting itself is a ``count`` task, worked by scans (wms.api.tasks)."""

from __future__ import annotations

from flask import g

from wms.api import bp, parse_body, parse_no_body, require_staff
from wms.api.actors import api_actor
from wms.api.schemas import CountsIn
from wms.auth.models import MANAGER_ROLES
from wms.tasks.counts import approve_count, open_counts


@bp.post("/counts")
@require_staff(*MANAGER_ROLES)
def post_counts():
    body = parse_body(CountsIn)
    return open_counts(body.location, body.bins, actor=api_actor()), 201


@bp.post("/counts/<int:task_id>/approve")
@require_staff(*MANAGER_ROLES)
def post_count_approval(task_id: int):
    parse_no_body()
    return approve_count(task_id, g.user, g.device)
