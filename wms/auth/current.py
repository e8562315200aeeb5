"""The signed-in staff member of the current page request, as the ``User`` row services take as ``actor``."""

from __future__ import annotations

from flask_login import current_user

from wms.auth.models import User


def current_staff() -> User:
    """The signed-in user (pages behind ``roles_required``/``login_required`` only: anyone else is anonymous).

    Services get the real ``User`` object, never Flask-Login's proxy: it is stored on rows and compared by
    identity, and a proxy would resolve to another request's user once passed on."""
    return current_user._get_current_object()
