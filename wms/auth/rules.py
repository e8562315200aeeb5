"""Pure rules for staff accounts: usernames, passwords, home locations, safe redirects, sign-in throttling,
idle sessions. No database."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from wms.auth.models import LANGUAGES, ROLES, Role
from wms.locations.models import LOCATION_KINDS, LocationKind

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
#: roles that work at one place and so need a home location; a clerk's must be a store
ROLES_WITH_HOME = {str(Role.PICKER): LOCATION_KINDS, str(Role.CLERK): (str(LocationKind.STORE),)}


#: failures are counted over this sliding window
THROTTLE_WINDOW = timedelta(minutes=1)
#: "last seen" and "last used" times are written at most this often: a request that finds a fresh time writes nothing
TOUCH_INTERVAL = timedelta(minutes=1)
#: sign-in failures are kept this long (for the managers' page), then deleted as new ones come in
FAILURE_RETENTION = timedelta(days=1)


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
    errors.extend(password_problems(password))
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


def password_problems(password: str) -> list[dict[str, str]]:
    """Every reason ``password`` is not acceptable, as ``{"field", "message"}``; empty when it is fine."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return [{"field": "password", "message": f"must have at least {MIN_PASSWORD_LENGTH} characters"}]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [{"field": "password", "message": f"must have at most {MAX_PASSWORD_LENGTH} characters"}]
    return []


def throttle_wait(limit_th_latest: datetime | None, now: datetime, window: timedelta = THROTTLE_WINDOW) -> int | None:
    """Seconds until one more sign-in may be tried, or None when it may be tried now.

    ``limit_th_latest`` is the time of the failure that, counted from the newest, reaches the limit within the
    window (None when there are fewer failures than the limit). Once it leaves the window the count is below the
    limit again. Always at least 1 second: ``Retry-After: 0`` would invite a busy loop.
    """
    if limit_th_latest is None:
        return None
    left = (limit_th_latest + window - now).total_seconds()
    if left <= 0:
        return None
    return max(1, math.ceil(left))


def needs_touch(last: datetime | None, now: datetime, interval: timedelta = TOUCH_INTERVAL) -> bool:
    """Whether a "last seen/used" time is old enough to be written again."""
    return last is None or now - last >= interval


def session_idle_cutoff(now: datetime, idle_minutes: float) -> datetime:
    """Sessions last seen before this moment have ended by idleness."""
    return now - timedelta(minutes=idle_minutes)


def token_expiry(now: datetime, days: int | None) -> datetime | None:
    """When a token made now for ``days`` days stops working (None: never). Raises ValueError below one day or
    beyond ten years (a typo rather than a plan)."""
    if days is None:
        return None
    if not 1 <= days <= 3650:
        raise ValueError("expires_in: must be 1 to 3650 days")
    return now + timedelta(days=days)


def language_problems(language: str | None) -> list[dict[str, str]]:
    """Why ``language`` cannot be a user's page language (None: no choice of their own, which is fine)."""
    if language is None or language in LANGUAGES:
        return []
    return [{"field": "language", "message": f"must be one of {', '.join(LANGUAGES)}"}]
