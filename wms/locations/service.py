"""Locations: upserts from the integration API, and location and bin lookups for other services. Bins are made and
changed in :mod:`wms.stock.bins` (a bin's kind decides whether its stock is sellable)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.errors import NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.timeutil import time_zone
from wms.uow import unit_of_work


def get_location(code: str, session: Session | None = None) -> Location:
    """The location with ``code``; raises NotFound."""
    session = session or db.session
    location = session.execute(select(Location).where(Location.code == code)).scalar_one_or_none()
    if location is None:
        raise NotFound(f"no location {code!r}", {"location": code})
    return location


def find_location(code: str, session: Session) -> Location | None:
    return session.execute(select(Location).where(Location.code == code)).scalar_one_or_none()


def find_bin(session: Session, location_id: int, code: str, share_lock: bool = False) -> Bin | None:
    """The bin ``code`` at a location. ``share_lock``: hold a shared lock on it until the transaction ends, so
    that its kind (sellable or not) cannot change while stock is booked into it on what was read."""
    query = select(Bin).where(Bin.location_id == location_id, Bin.code == code)
    if share_lock:
        query = query.with_for_update(read=True)
    return session.execute(query).scalar_one_or_none()


def upsert_location(code: str, data: dict[str, Any], actor: str | None = None) -> tuple[Location, bool]:
    """Create or update the location ``code``. Returns (location, created). Locks the location row.

    Raises ValidationError (no kind for a new location, pickup at a warehouse, a time zone that is not an IANA
    name). ``timezone`` absent or None leaves the zone as it is (a new location follows WMS_TIMEZONE)."""
    try:
        return _upsert_location(code, data, actor)
    except IntegrityError:
        # Another request created this code between the locking read (which found nothing to lock) and the
        # insert: it exists now, so this request updates it.
        return _upsert_location(code, data, actor)


def _upsert_location(code: str, data: dict[str, Any], actor: str | None) -> tuple[Location, bool]:
    with unit_of_work() as session:
        location = session.execute(select(Location).where(Location.code == code).with_for_update()).scalar_one_or_none()
        created = location is None
        if created:
            location = Location(code=code)
            session.add(location)
        for field in ("name", "kind", "ships", "pickup", "pickup_hold_days", "priority", "timezone"):
            if field in data and data[field] is not None:
                setattr(location, field, data[field])
        if location.name is None:
            location.name = code
        location.updated_by = actor
        if location.kind is None:
            raise ValidationError.one("kind", "is required for a new location")
        if location.pickup and location.kind != "store":
            raise ValidationError.one("pickup", "only a store can be a pickup location")
        if location.timezone is not None:
            try:
                time_zone(location.timezone)
            except ValueError as exc:
                raise ValidationError.one("timezone", str(exc)) from None
    return location, created
