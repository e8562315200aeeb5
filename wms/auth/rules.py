"""Pure rules for staff accounts: usernames, passwords, home locations, safe redirects. No database."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from wms.auth.models import ROLES

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
#: roles that work at one place and so need a home location; a clerk's must be a store
ROLES_WITH_HOME = {"picker": ("warehouse", "store"), "clerk": ("store",)}


def normalise_username(username: str) -> str:
    """Usernames are compared without case or surrounding blanks: handheld keyboards capitalise the first letter."""
    return (username or "").strip().lower()


def new_user_problems(
    username: str, role: str, password: str, location_code: str | None, location_kind: str | None
) -> list[dict[str, str]]:
    """Every reason the new account is invalid, as ``{"field", "message"}``; empty when it is fine.

    ``location_kind`` is the kind of the location named by ``location_code`` (None when it does not exist).
    """
    errors: list[dict[str, str]] = []
    if not USERNAME_PATTERN.match(username):
        errors.append(
            {
                "field": "username",
                "message": "use 1-64 letters, digits, dots, dashes, underscores or @, starting with a letter or digit",
            }
        )
    if role not in ROLES:
        errors.append({"field": "role", "message": f"must be one of {', '.join(ROLES)}"})
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append({"field": "password", "message": f"must have at least {MIN_PASSWORD_LENGTH} characters"})
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.append({"field": "password", "message": f"must have at most {MAX_PASSWORD_LENGTH} characters"})
    if location_code and location_kind is None:
        errors.append({"field": "location", "message": f"unknown location {location_code!r}"})
    elif role in ROLES_WITH_HOME:
        kinds = ROLES_WITH_HOME[role]
        if not location_code:
            errors.append({"field": "location", "message": f"a {role} needs a home location"})
        elif location_kind not in kinds:
            errors.append(
                {"field": "location", "message": f"a {role}'s home location must be a {' or a '.join(kinds)}"}
            )
    return errors


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None: a login link must not send anyone elsewhere.

    Browsers treat ``//host``, ``/\\host`` and ``\\\\host`` as other sites, and ignore tabs and newlines inside
    URLs, so all of those are refused along with anything that has a scheme or a host.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
