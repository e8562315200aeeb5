"""Staff tokens: a person signs in to the staff API from a handheld or counter PC, and signs out again."""

from __future__ import annotations

from flask import g, request

from wms.api import bp, parse_body, require
from wms.api.schemas import StaffTokenIn
from wms.auth.models import User
from wms.channels.service import issue_staff_token, revoke_token


def staff_user_view(user: User) -> dict:
    return {"name": user.username, "role": user.role, "location": user.location.code if user.location else None}


@bp.post("/staff/tokens")
def create_staff_token():
    body = parse_body(StaffTokenIn)
    user, token = issue_staff_token(body.username, body.password, body.device, request.remote_addr)
    return {"token": token, "user": staff_user_view(user)}, 201


@bp.delete("/staff/tokens/current")
@require("staff")
def revoke_current_staff_token():
    revoke_token(g.principal.token_id, actor=g.principal.username)
    return "", 204
