"""Staff API: releasing a wave of pick tasks (docs/api.md, "Floor endpoints"). Managers and admins only."""

from __future__ import annotations

from wms.api import bp, parse_body, require_staff
from wms.api.actors import api_actor, api_device
from wms.api.schemas import WaveIn
from wms.picking.service import release_wave


@bp.post("/waves")
@require_staff("manager", "admin")
def post_wave():
    body = parse_body(WaveIn)
    wave = release_wave(body.location, body.orders, body.max_orders, actor=api_actor(), device=api_device())
    return wave, 201
