"""How the ``data`` of an outbox event is made: each domain registers the view of its own subjects.

The webhook stage (``wms.channels.worker``) sends the subject as the API shows it at dispatch time. Channels sit
below orders and returns in the layers, so those domains register their views here rather than being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

SubjectView = Callable[[Session, int], dict[str, Any]]

_VIEWS: dict[str, SubjectView] = {}


def subject_view(event: str) -> Callable[[SubjectView], SubjectView]:
    """Decorator: ``fn(session, subject_id)`` makes the data of ``event`` deliveries (raise NotFound when gone)."""

    def register(fn: SubjectView) -> SubjectView:
        if _VIEWS.get(event, fn) is not fn:
            raise RuntimeError(f"two views registered for {event}")
        _VIEWS[event] = fn
        return fn

    return register


def view_for(event: str) -> SubjectView | None:
    """The registered view of ``event``; None: the event's own payload (or its subject id) is sent."""
    return _VIEWS.get(event)
