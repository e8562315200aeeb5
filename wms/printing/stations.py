"""Stations: the scans their agents upload, their liveness, and what the staff pages show of them.

Units of work: :func:`record_scans` (one transaction per upload, idempotent per ``client_id``) and
:func:`touch_station`. Reads: :func:`scans_after` (the live feed of the station page), :func:`station_list`,
:func:`station_page`. Scans are resolved with :func:`wms.scanning.service.resolve_scan` at the station's location
when they arrive (the system's own labels, plain bin codes, order ids, pickup codes, tracking numbers); a code that
does not parse or names nothing is stored too, as kind ``error`` with the message a picker understands.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from wms.auth.models import User
from wms.auth.service import can_see_location, visible_locations
from wms.catalog.models import Barcode, Product
from wms.channels.service import create_token
from wms.errors import Forbidden, NotFound, ValidationError
from wms.extensions import db
from wms.printing import service
from wms.printing.models import Printer, PrintJob, Station, StationScan
from wms.scanning.errors import UnknownCode
from wms.scanning.service import resolve_scan
from wms.timeutil import isoformat, utcnow
from wms.uow import is_postgres, unit_of_work

#: a station is shown online when its agent called within this many seconds
ONLINE_SECONDS = 60
#: last_seen_at is written at most this often per station (every call would make every long poll a write)
TOUCH_EVERY = timedelta(seconds=5)
#: scans and jobs shown on the station page when it opens
RECENT = 20


def get_station(code: str) -> Station:
    """The station with this code; raises NotFound."""
    station = db.session.execute(select(Station).where(Station.code == code)).scalar_one_or_none()
    if station is None:
        raise NotFound(f"no station {code}", {"station": code})
    return station


def create_station_token(station_code: str, name: str | None = None, expires_in_days: int | None = None) -> str:
    """A bearer token for the agent of station ``station_code``; returns it (only its hash is stored). Reads the
    station and writes the token in one unit of work. Raises ValidationError for an unknown station or
    ``expires_in_days`` outside 1-3650."""
    with unit_of_work() as session:
        station = session.execute(select(Station).where(Station.code == station_code)).scalar_one_or_none()
        if station is None:
            raise ValidationError.one("station", f"unknown station {station_code!r}")
        name = name or f"{station.code} station token"
        return create_token("station", name, station_id=station.id, expires_in_days=expires_in_days)


def touch_station(station_id: int, now: datetime | None = None) -> None:
    """Record that the station's agent called now. Writes only when the stored time is older than
    :data:`TOUCH_EVERY`; its own short transaction (no locks held beyond the station's row)."""
    now = now or utcnow()
    stale = or_(Station.last_seen_at.is_(None), Station.last_seen_at < now - TOUCH_EVERY)
    # Most calls find the station seen lately: one read on an autocommit connection answers them, where a write
    # transaction would take SQLite's write lock (BEGIN IMMEDIATE) on every poll of every agent.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.execute(select(Station.id).where(Station.id == station_id, stale)).first() is None:
            return
    with unit_of_work() as session:
        session.execute(update(Station).where(Station.id == station_id, stale).values(last_seen_at=now))


# --- jobs of a station's agent -------------------------------------------------------------------------------

#: longest long poll of ``GET /stations/<code>/jobs``
MAX_WAIT = 25
#: seconds between two looks for due jobs while a long poll waits
POLL_EVERY = 0.5
#: jobs handed out per answer (each is rendered on the way: PDFs take a moment)
JOBS_PER_ANSWER = 10


def wait_for_jobs(
    station_id: int, wait: float = 0, *, limit: int = JOBS_PER_ANSWER, poll: float = POLL_EVERY
) -> list[dict[str, Any]]:
    """Claim the station's due jobs (:func:`wms.printing.service.claim_jobs`: leased, committed before anything
    is printed), waiting up to ``wait`` seconds (at most :data:`MAX_WAIT`) for one to become due. Marks the
    station seen. Returns the jobs as the station API sends them, content rendered and base64-encoded. A job whose
    label cannot be made from its data is recorded ``failed`` with the reason and not handed out.

    Waiting holds the caller's thread; the station API waits only while it holds a long-poll slot
    (:mod:`wms.longpoll`) and asks with ``wait=0`` otherwise."""
    touch_station(station_id)
    deadline = time.monotonic() + max(0.0, min(float(wait), MAX_WAIT))
    while True:
        if service.has_due_jobs(station_id):
            claims = service.claim_jobs(station_id=station_id, limit=limit)
            jobs = [job for job in map(_job_for_agent, claims) if job is not None]
            if jobs:
                return jobs
        left = deadline - time.monotonic()
        if left <= 0:
            return []
        time.sleep(min(poll, left))


def _job_for_agent(claim: Any) -> dict[str, Any] | None:
    try:
        content = service.render_job(claim.kind, claim.data, claim.fmt, claim.printer_name)
    except (ValueError, KeyError, TypeError) as exc:
        service.record_outcome(claim.id, "failed", f"the label cannot be made: {exc}", attempt=claim.attempt)
        return None
    return {
        "id": claim.id,
        "attempt": claim.attempt,
        # The name only: the agent prints on the printer its own PC configures under that name, never at an address
        # the server hands it.
        "printer": {"name": claim.printer_name},
        "kind": claim.kind,
        "reference": claim.reference,
        "copies": claim.copies,
        "content_type": service.content_type(claim.fmt),
        "content_base64": base64.b64encode(content).decode("ascii"),
        "leased_until": isoformat(claim.leased_until),
    }


def report_job(
    station_id: int, job_id: int, outcome: str, reason: str | None = None, attempt: int | None = None
) -> PrintJob:
    """Record a station agent's outcome of one of its jobs (:func:`wms.printing.service.record_outcome`; for
    ``not_ready`` the reason becomes the printer's ``last_state``) and mark the station seen.

    Raises NotFound for an unknown job, Forbidden for a job of a printer that is not this station's, and what
    record_outcome raises (InvalidState: the job is not being sent by this claim any more)."""
    if not 0 < job_id < 2**63:
        raise NotFound(f"no print job {job_id}", {"job": job_id})
    owner = db.session.execute(
        select(Printer.station_id).join(PrintJob, PrintJob.printer_id == Printer.id).where(PrintJob.id == job_id)
    ).first()
    db.session.rollback()  # end the read: the unit of work below starts its own write transaction
    if owner is None:
        raise NotFound(f"no print job {job_id}", {"job": job_id})
    if owner[0] != station_id:
        raise Forbidden(f"print job {job_id} is not for a printer of this station", {"job": job_id})
    touch_station(station_id)
    return service.record_outcome(job_id, outcome, reason, attempt=attempt)


def resolve_code(code: str, location_id: int, session: Any = None) -> tuple[str, dict[str, Any]]:
    """(kind, parsed) of a scanned code as stored: what it names at the station's location (the resolved kind,
    the scan's fields and what was found: sku and name, bin, order id...), or ``error`` with the picker-readable
    ``message``, the error's ``code`` (a parse error's code, or ``unknown_code``), ``detail`` and ``raw``."""
    try:
        resolved = resolve_scan(code, location_id, session=session)
    except UnknownCode as exc:
        reason = exc.details["reason"]
        error = exc.code if reason in ("not_found", "other_location") else reason  # else a parse error's code
        return "error", {"code": error, "message": exc.message, "detail": exc.details["detail"], "raw": code}
    return resolved.kind, resolved.to_dict()


def record_scans(station_code: str, scans: Iterable[dict[str, Any]], now: datetime | None = None) -> dict[str, int]:
    """Store a batch of scans of one station (each ``{"client_id", "code", "scanned_at"?}``) in one transaction,
    and mark the station seen. A ``client_id`` the station already has is not stored again (nor twice within the
    batch: the first wins), so an upload retried after a lost answer changes nothing.

    Returns ``{"accepted": <scans in the batch>, "stored": <new rows>}``. Raises NotFound for an unknown station.
    Concurrent uploads of the same scans are safe: the insert is ``ON CONFLICT DO NOTHING`` on
    (station_id, client_id).
    """
    now = now or utcnow()
    batch: dict[str, dict[str, Any]] = {}
    for scan in scans:
        batch.setdefault(scan["client_id"], scan)
    with unit_of_work() as session:
        station = session.execute(
            select(Station.id, Station.location_id).where(Station.code == station_code)
        ).one_or_none()
        if station is None:
            raise NotFound(f"no station {station_code}", {"station": station_code})
        station_id = station.id
        rows = []
        # A counter scans the same codes again and again (ten of one product): each code is looked up once a batch.
        meanings: dict[str, tuple[str, dict[str, Any]]] = {}
        for client_id, scan in batch.items():
            if scan["code"] not in meanings:
                meanings[scan["code"]] = resolve_code(scan["code"], station.location_id, session)
            kind, parsed = meanings[scan["code"]]
            rows.append(
                {
                    "station_id": station_id,
                    "client_id": client_id,
                    "raw": scan["code"],
                    "kind": kind,
                    "parsed": parsed,
                    "scanned_at": _utc(scan.get("scanned_at")) or now,
                    "received_at": now,
                    "created_at": now,
                }
            )
        stored = 0
        if rows:
            insert = postgresql.insert if is_postgres() else sqlite.insert
            result = session.execute(
                insert(StationScan)
                .on_conflict_do_nothing(index_elements=["station_id", "client_id"])
                .returning(StationScan.id),
                rows,
            )
            stored = len(result.all())
        session.execute(update(Station).where(Station.id == station_id).values(last_seen_at=now))
    return {"accepted": len(batch), "stored": stored}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def scans_after(station_code: str, after_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The station's scans with an id above ``after_id``, oldest first, at most ``limit``, as :func:`scan_view`
    dicts. Raises NotFound. Ends its read transaction before it returns, so that a caller polling in a loop sees
    new rows (SQLite keeps a read transaction's snapshot) and holds no connection between polls."""
    try:
        station = get_station(station_code)
        scans = list(
            db.session.execute(
                select(StationScan)
                .where(StationScan.station_id == station.id, StationScan.id > after_id)
                .order_by(StationScan.id)
                .limit(limit)
            ).scalars()
        )
        return scan_views(scans)
    finally:
        db.session.rollback()


def last_scan_id(station_id: int) -> int:
    """The id of the station's newest scan (0 when it has none)."""
    return db.session.execute(
        select(func.coalesce(func.max(StationScan.id), 0)).where(StationScan.station_id == station_id)
    ).scalar_one()


def scan_views(scans: list[StationScan]) -> list[dict[str, Any]]:
    """JSON-ready scans with their meaning for people (``meaning``); products are named from the catalogue."""
    gtins = {s.parsed.get("gtin14") for s in scans if s.kind in ("product", "sscc") and s.parsed}
    gtins.discard(None)
    names: dict[str, tuple[str, str]] = {}
    if gtins:
        names = {
            gtin: (sku, name)
            for gtin, sku, name in db.session.execute(
                select(Barcode.gtin, Product.sku, Product.name)
                .join(Product, Product.id == Barcode.product_id)
                .where(Barcode.gtin.in_(gtins))
            )
        }
    return [scan_view(scan, names) for scan in scans]


def scan_view(scan: StationScan, products: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    parsed = scan.parsed or {}
    return {
        "id": scan.id,
        "client_id": scan.client_id,
        "raw": scan.raw,
        "kind": scan.kind,
        "parsed": parsed,
        "meaning": describe(scan.kind, parsed, products or {}),
        "scanned_at": isoformat(scan.scanned_at),
        "received_at": isoformat(scan.received_at),
    }


def describe(kind: str, parsed: dict[str, Any], products: dict[str, tuple[str, str]]) -> str:
    """One line saying what a scan is, for people. Pure."""
    if kind == "error":
        return parsed.get("message") or "Barcode not readable."
    details = []
    if parsed.get("lot"):
        details.append(f"lot {parsed['lot']}")
    if parsed.get("expiry"):
        details.append(f"expiry {parsed['expiry']}")
    if parsed.get("best_before"):
        details.append(f"best before {parsed['best_before']}")
    if parsed.get("serial"):
        details.append(f"serial {parsed['serial']}")
    if parsed.get("quantity"):
        details.append(f"quantity {parsed['quantity']}")
    tail = f" · {', '.join(details)}" if details else ""
    if kind == "product":
        gtin = parsed.get("gtin") or parsed.get("value", "")
        known = products.get(parsed.get("gtin14") or "")
        if not known and parsed.get("sku"):
            known = (parsed["sku"], parsed.get("name", ""))
        what = f"{known[0]} {known[1]}" if known else "not in the catalogue"
        return f"Product GTIN {gtin}: {what}{tail}"
    if kind == "sscc":
        contents = ""
        if parsed.get("gtin"):
            known = products.get(parsed.get("gtin14") or "")
            contents = f", contains {known[0] if known else 'GTIN ' + parsed['gtin']}"
        parcel = f" · parcel of {_order_words(parsed)}" if parsed.get("order_id") else ""
        return f"Parcel / pallet SSCC {parsed.get('sscc') or parsed.get('value')}{contents}{parcel}{tail}"
    if kind == "bin":
        bin_kind = f" ({parsed['bin_kind']})" if parsed.get("bin_kind") else ""
        return f"Bin {parsed.get('bin')} at {parsed.get('location')}{bin_kind}"
    if kind == "location":
        return f"Location {parsed.get('location')}"
    if kind == "order":
        tracking = f" · parcel {parsed['tracking']}" if parsed.get("tracking") else ""
        words = _order_words(parsed)
        return words[:1].upper() + words[1:] + tracking
    if kind == "pickup":
        order = f": {_order_words(parsed)}" if parsed.get("order_id") else ""
        return f"Pickup code {parsed.get('pickup_code') or parsed.get('value')}{order}"
    if kind == "tote":
        return f"Tote {parsed.get('value')}"
    if kind == "return":
        return f"Return {parsed.get('value')}"
    if kind == "wave":
        return f"Pick list (wave) {parsed.get('value')}"
    if kind == "plain":
        return f"Code {parsed.get('value')}"
    return f"GS1 data {parsed.get('value', '')}{tail}"


def _order_words(parsed: dict[str, Any]) -> str:
    """The order in words: ``order 12 (WEB-100231, reserved)``, or as much of it as is known."""
    number = parsed.get("order_id") or parsed.get("value")
    facts = [str(parsed[key]) for key in ("order_reference", "order_status") if parsed.get(key)]
    return f"order {number}" + (f" ({', '.join(facts)})" if facts else "")


# --- staff pages ----------------------------------------------------------------------------------------------


def is_online(last_seen_at: datetime | None, now: datetime | None = None) -> bool:
    if last_seen_at is None:
        return False
    now = now or utcnow()
    return now - _utc(last_seen_at) < timedelta(seconds=ONLINE_SECONDS)


def station_list(user: User) -> list[dict[str, Any]]:
    """The stations at the locations ``user`` may see (managers and admins: all), by location then code."""
    locations = visible_locations(user)
    if not locations:
        return []
    order = {loc.id: i for i, loc in enumerate(locations)}
    stations = list(
        db.session.execute(
            select(Station).options(joinedload(Station.location)).where(Station.location_id.in_(order))
        ).scalars()
    )
    stations.sort(key=lambda s: (order[s.location_id], s.code))
    counts = (
        dict(
            db.session.execute(
                select(Printer.station_id, func.count())
                .where(Printer.station_id.in_([s.id for s in stations]))
                .group_by(Printer.station_id)
            ).all()
        )
        if stations
        else {}
    )
    now = utcnow()
    return [
        {
            "code": s.code,
            "name": s.name,
            "location": s.location.code,
            "location_name": s.location.name,
            "last_seen_at": isoformat(s.last_seen_at),
            "online": is_online(s.last_seen_at, now),
            "printers": counts.get(s.id, 0),
        }
        for s in stations
    ]


def visible_station(code: str, user: User) -> Station:
    """The station, if ``user`` may see it: NotFound for an unknown code, Forbidden for a station at a location
    the user may not see (clerks and pickers see their own location's)."""
    station = get_station(code)
    if not can_see_location(user, station.location_id):
        raise Forbidden("this station is at a location you cannot see", {"station": code})
    return station


def station_page(code: str, user: User) -> dict[str, Any]:
    """What the station page shows: the station, its printers, recent jobs and recent scans (newest last) and
    the id the live feed continues after. Raises NotFound / Forbidden as :func:`visible_station`."""
    station = visible_station(code, user)
    printers = list(
        db.session.execute(select(Printer).where(Printer.station_id == station.id).order_by(Printer.name)).scalars()
    )
    jobs = []
    if printers:
        jobs = list(
            db.session.execute(
                select(PrintJob)
                .options(joinedload(PrintJob.printer))
                .where(PrintJob.printer_id.in_([p.id for p in printers]))
                .order_by(PrintJob.id.desc())
                .limit(RECENT)
            ).scalars()
        )
    recent = list(
        db.session.execute(
            select(StationScan)
            .where(StationScan.station_id == station.id)
            .order_by(StationScan.id.desc())
            .limit(RECENT)
        ).scalars()
    )
    recent.reverse()
    return {
        "station": {
            "code": station.code,
            "name": station.name,
            "location": station.location.code,
            "location_name": station.location.name,
            "last_seen_at": isoformat(station.last_seen_at),
            "online": is_online(station.last_seen_at),
        },
        "printers": [
            {
                "name": p.name,
                "url": p.url,
                "fmt": p.fmt,
                "active": p.active,
                "last_state": p.last_state,
                "last_state_at": isoformat(p.last_state_at),
            }
            for p in printers
        ],
        "jobs": [
            {
                "id": j.id,
                "printer": j.printer.name,
                "kind": j.kind,
                "reference": j.reference,
                "copies": j.copies,
                "status": j.status,
                "last_error": j.last_error,
                "created_at": isoformat(j.created_at),
                "printed_at": isoformat(j.printed_at),
            }
            for j in jobs
        ],
        "scans": scan_views(recent),
        "last_scan_id": recent[-1].id if recent else 0,
    }
