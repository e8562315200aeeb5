"""The order as webhooks send it: the same view as ``GET /api/v1/orders/{id}``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from wms.channels.subjects import subject_view
from wms.orders.service import get_order, order_view


@subject_view("order.updated")
def order_event_data(session: Session, order_id: int) -> dict[str, Any]:
    return order_view(get_order(order_id))
