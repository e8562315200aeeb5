"""Times on pages, in the time zone of the place they belong to: the one template filter ``when``.

The database and the API keep UTC. A page shows a time in the zone of the location of the thing shown (a printer's,
a station's), else the signed-in user's home location, else the ``WMS_TIMEZONE`` setting; a location without a
zone of its own follows the setting too. Templates: ``{{ job.created_at|when(job.printer.location) }}``,
``{{ scan.scanned_at|when(station.location, seconds=True) }}`` (a location, or a location's code), and
``zone_name(...)`` for scripts that format times in the browser.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from wms.extensions import db
from wms.locations.models import Location
from wms.timeutil import local_text, time_zone


def init_app(app: Flask) -> None:
    """Check the ``TIMEZONE`` setting (an unknown name stops the app here, not on the first page) and add the
    filter and the ``zone_name`` global to the templates."""
    try:
        time_zone(app.config["TIMEZONE"])
    except ValueError as exc:
        raise ValueError(f"WMS_TIMEZONE: {exc}") from None
    app.add_template_filter(when, "when")
    app.add_template_global(zone_name, "zone_name")


def when(value: datetime | date | str | None, where: Location | str | None = None, seconds: bool = False) -> str:
    """``value`` (a UTC datetime or ISO 8601 text) as ``2025-05-14 11:31 CEST`` in the zone of ``where``: a
    location or a location's code; None: the signed-in user's home location. A dash for no time."""
    try:
        zone = time_zone(zone_name(where))
    except ValueError:
        # A zone written into the database by hand that this machine does not know: the setting, not a 500.
        zone = time_zone(current_app.config["TIMEZONE"])
    return local_text(value, zone, seconds=seconds)


def zone_name(where: Location | str | None = None) -> str:
    """The IANA name of the zone times of ``where`` are shown in (see :func:`when`)."""
    own: str | None
    if isinstance(where, Location):
        own = where.timezone
    elif isinstance(where, str) and where:
        own = _zones()[0].get(where)
    else:
        own = _home_zone()
    return own or current_app.config["TIMEZONE"]


def _home_zone() -> str | None:
    if not has_request_context() or not current_user.is_authenticated:
        return None
    location_id = getattr(current_user, "location_id", None)
    return _zones()[1].get(location_id) if location_id is not None else None


def _zones() -> tuple[dict[str, str | None], dict[int, str | None]]:
    # Every location's zone by code and by id, read once per request (a page may show hundreds of times).
    cached: Any = g.get("location_zones") if has_request_context() else None
    if cached is None:
        rows = db.session.execute(select(Location.id, Location.code, Location.timezone)).all()
        cached = ({code: zone for _, code, zone in rows}, {id_: zone for id_, _, zone in rows})
        if has_request_context():
            g.location_zones = cached
    return cached
