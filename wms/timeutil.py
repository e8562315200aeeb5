"""Time helpers: every timestamp is stored in UTC and given out in UTC by the API; pages show it in the time zone
of the location it belongs to (:func:`local_text`)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime
from functools import lru_cache

#: names zoneinfo finds on some systems that are not places: the machine's own zone and tzdata's placeholders
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})
#: longest IANA zone name we store (the longest real one is 32 characters)
ZONE_NAME_MAX = 64


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix; SQLite hands back naive datetimes, which are UTC by convention."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # Read once per process: the system's zone files, or the tzdata wheel where a system has none.
    return frozenset(zoneinfo.available_timezones()) - _NOT_PLACES


@lru_cache(maxsize=64)
def time_zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA time zone ``name`` (``Europe/Warsaw``). Raises ValueError for a name that is not one: only the
    names of the zone database are taken, never a file path or the machine's own ``localtime``."""
    if not isinstance(name, str) or name not in _known_zones():
        raise ValueError(f"{name!r} is not an IANA time zone name such as Europe/Warsaw")
    return zoneinfo.ZoneInfo(name)


def as_utc(value: datetime | str) -> datetime:
    """A stored or API time as an aware UTC datetime: a naive datetime is UTC (SQLite), a string is ISO 8601."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_text(value: datetime | date | str | None, zone: zoneinfo.ZoneInfo, seconds: bool = False) -> str:
    """``value`` as wall-clock time in ``zone`` with the zone's abbreviation: ``2025-05-14 11:31 CEST``; a dash
    for no time."""
    if value is None or value == "":
        return "—"
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()  # a day (an expiry) is the same day everywhere
    local = as_utc(value).astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
