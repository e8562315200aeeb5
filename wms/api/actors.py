"""Who is calling, as the services record it (``actor``) and from which device: one naming for every endpoint, so
that the ledger and an order's history read the same whoever wrote them.

``channel:CODE`` for a channel token, ``integration:<token id>`` (``wms tokens`` names it), ``station:CODE``, and a
staff token's user name. The device is what the caller can tell: a staff token's device name, a station's code,
else the client's User-Agent.
"""

from __future__ import annotations

from flask import g, request

from wms.stock.models import StockMovement

#: longest device name the ledger and the order history store
DEVICE_MAX = StockMovement.__table__.c.device.type.length


def api_actor() -> str:
    """The ``actor`` of the authenticated request (after ``require`` or ``require_staff``)."""
    principal = g.get("principal")
    if principal is None:  # require_staff with a signed-in page's session: no token
        return g.user.username
    if principal.scope == "channel":
        return f"channel:{principal.channel_code}"
    if principal.scope == "integration":
        return f"integration:{principal.token_id}"
    if principal.scope == "station":
        return f"station:{principal.station_code}"
    return principal.username or f"token:{principal.token_id}"


def api_device() -> str | None:
    """The device of the authenticated request, cut to what the columns hold (None when nothing tells it)."""
    principal = g.get("principal")
    if principal is not None and principal.scope == "staff" and principal.device:
        return principal.device[:DEVICE_MAX]
    if principal is not None and principal.scope == "station":
        return principal.station_code
    agent = request.user_agent.string.strip()
    return agent[:DEVICE_MAX] or None
