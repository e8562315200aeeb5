"""The data of ``return.updated`` deliveries: the return as ``GET /api/v1/returns/{id}`` shows it at dispatch."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from wms.channels.subjects import subject_view
from wms.returns.service import get_return, return_view


@subject_view("return.updated")
def return_event_data(session: Session, return_id: int) -> dict[str, Any]:
    return return_view(get_return(return_id), session)
