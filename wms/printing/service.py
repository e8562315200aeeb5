"""The print queue: printers and stations, queueing labels, reprints, cancelling, and the claim / outcome protocol
that ``wms worker`` (server printers) and ``wms station`` agents (station printers) print through.

A job is never lost and never printed twice by itself (``docs/printing.md``): a claim leases jobs and commits before
any I/O; ``sending`` is committed just before the bytes are written; a claimant that dies before it leaves a job
claimed again when the lease runs out, one that dies after it leaves ``unknown`` (reprint by hand).

Locking order everywhere: print_job rows (by id), then the printer row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

import labels
from devices.printers import DEFAULT_TIMEOUT, open_printer
from wms.catalog.service import get_product
from wms.enums import values
from wms.errors import IdempotencyConflict, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.locations.service import find_bin, get_location
from wms.printing import rules
from wms.printing.models import FINAL_STATUSES, JOB_OUTCOMES, JOB_STATUSES, JobStatus, Printer, PrintJob, Station
from wms.timeutil import isoformat, utcnow
from wms.uow import is_postgres, unit_of_work

#: what ``record_outcome`` accepts
OUTCOMES = JOB_OUTCOMES
#: statuses a person may reprint (a new job)
REPRINTABLE = FINAL_STATUSES
#: statuses a person may cancel
CANCELLABLE = values([JobStatus.QUEUED, JobStatus.FAILED, JobStatus.UNKNOWN])
#: jobs claimed per claim by default
CLAIM_BATCH = 32
CONTENT_TYPES = {"zpl": "application/zpl", "pdf": "application/pdf"}

Actor = Any  # a User, a user id, or None / a name for actors that are not users (the CLI, the worker)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes, which are UTC by convention.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _user_id(actor: Actor) -> int | None:
    if actor is None or isinstance(actor, str):
        return None
    if isinstance(actor, int) and not isinstance(actor, bool):
        return actor
    return getattr(actor, "id", None)


def _insert():
    return postgresql.insert if is_postgres() else sqlite.insert


# --- printers and stations --------------------------------------------------------------------------------------


def printer_url_policy() -> rules.PrinterUrlPolicy:
    """Where printer URLs may point, from the settings ``PRINTER_DEVICE_PATHS``, ``PRINTER_DIR_ROOT`` (default: the
    ``printouts`` folder of the instance folder) and ``PRINTER_ALLOW_LINK_LOCAL``."""
    import os

    config = current_app.config
    root = config.get("PRINTER_DIR_ROOT") or os.path.join(current_app.instance_path, "printouts")
    return rules.PrinterUrlPolicy(
        device_paths=rules.device_patterns(config.get("PRINTER_DEVICE_PATHS")),
        dir_root=os.path.abspath(str(root)),
        allow_link_local=bool(config.get("PRINTER_ALLOW_LINK_LOCAL", False)),
    )


def check_printer_url(url: str) -> str:
    """The format (``zpl`` / ``pdf``) of a printer URL that may be stored and printed to under the settings
    (:func:`wms.printing.rules.check_printer_url`); raises ValidationError naming ``url``."""
    return rules.check_printer_url(url, printer_url_policy())


def _printer_place_problems(url: str, station_code: str | None) -> tuple[str | None, str | None, list[dict[str, str]]]:
    """(format of ``url`` or None, the station code cleaned, the problems of both as 422 details)."""
    errors: list[dict[str, str]] = []
    fmt = None
    try:
        fmt = check_printer_url(url)
    except ValidationError as exc:
        errors.extend(exc.details)
    station_code = (station_code or "").strip() or None
    if station_code is not None and len(station_code) > 64:
        errors.append({"field": "station", "message": "must be at most 64 characters"})
    return fmt, station_code, errors


def add_printer(name: str, url: str, location_code: str, station_code: str | None = None) -> Printer:
    """Register a printer ``name`` reached by ``url`` at a location; with ``station_code`` it is a station printer
    (the station is created at that location when it does not exist). Returns the printer.

    Raises ValidationError (every invalid field at once): ``name`` empty, too long or taken; ``url`` not a printer
    URL or pointing where printers may not be (:func:`check_printer_url`); ``location`` unknown; ``station`` at
    another location. Locks nothing but the unique name.
    """
    name = (name or "").strip()
    fmt, station_code, errors = _printer_place_problems(url, station_code)
    if not name or len(name) > 64:
        errors.insert(0, {"field": "name", "message": "must be 1-64 characters"})
    try:
        with unit_of_work() as session:
            location = session.execute(select(Location).where(Location.code == location_code)).scalar_one_or_none()
            if location is None:
                errors.append({"field": "location", "message": f"unknown location {location_code!r}"})
            if name and session.execute(select(Printer.id).where(Printer.name == name)).first() is not None:
                errors.append({"field": "name", "message": f"printer {name} exists already"})
            if errors:
                raise ValidationError(errors)
            station_id = None
            if station_code is not None:
                station = _station_for(session, station_code, location)
                station_id = station.id
            printer = Printer(
                name=name, url=url.strip(), fmt=fmt, location_id=location.id, station_id=station_id, active=True
            )
            session.add(printer)
            session.flush()
    except IntegrityError:
        # Another request took the name (or made the station) between the check and the insert.
        raise ValidationError.one("name", f"printer {name} exists already") from None
    return printer


def update_printer(printer_id: int, url: str, location_code: str, station_code: str | None = None) -> Printer:
    """Change where printer ``printer_id`` is reached (``url``, checked as :func:`add_printer` does), where it
    stands and which station prints its jobs (None: ``wms worker``). The name stays: station agents know the
    printer by it. Jobs already queued print at the new place. Returns the printer.

    Locks the printer row. Raises NotFound; ValidationError (every invalid field at once) as :func:`add_printer`.
    """
    fmt, station_code, errors = _printer_place_problems(url, station_code)
    try:
        with unit_of_work() as session:
            printer = session.execute(
                select(Printer).where(Printer.id == printer_id).with_for_update()
            ).scalar_one_or_none()
            if printer is None:
                raise NotFound(f"no printer {printer_id}", {"printer": printer_id})
            location = session.execute(select(Location).where(Location.code == location_code)).scalar_one_or_none()
            if location is None:
                errors.append({"field": "location", "message": f"unknown location {location_code!r}"})
            if fmt is not None and fmt != printer.fmt and _has_open_jobs(session, printer.id):
                errors.append(
                    {
                        "field": "url",
                        "message": f"jobs for this {printer.fmt.upper()} printer are waiting: "
                        f"a {fmt.upper()} printer could not print them (cancel them first)",
                    }
                )
            if errors:
                raise ValidationError(errors)
            printer.station_id = _station_for(session, station_code, location).id if station_code else None
            printer.url, printer.fmt, printer.location_id = url.strip(), fmt, location.id
    except IntegrityError:
        # Another request made the station between the check and the insert.
        raise ValidationError.one("station", f"station {station_code} was just made: try again") from None
    return printer


def set_printer_enabled(printer_id: int, enabled: bool) -> Printer:
    """Enable or disable printer ``printer_id``. A disabled printer takes no new jobs (``queue_label`` refuses
    them), is offered on no print form and is printed to by nobody; jobs queued before wait until it is enabled
    again (or are cancelled). Locks the printer row. Raises NotFound."""
    with unit_of_work() as session:
        printer = session.execute(
            select(Printer).where(Printer.id == printer_id).with_for_update()
        ).scalar_one_or_none()
        if printer is None:
            raise NotFound(f"no printer {printer_id}", {"printer": printer_id})
        printer.active = bool(enabled)
    return printer


def _has_open_jobs(session: Session, printer_id: int) -> bool:
    return (
        session.execute(
            select(PrintJob.id).where(PrintJob.printer_id == printer_id, PrintJob.status.in_(("queued", "sending")))
        ).first()
        is not None
    )


def _station_for(session: Session, code: str, location) -> Station:
    station = session.execute(select(Station).where(Station.code == code).with_for_update()).scalar_one_or_none()
    if station is None:
        station = Station(code=code, name=code, location_id=location.id)
        session.add(station)
        session.flush()
    elif station.location_id != location.id:
        raise ValidationError.one("station", f"station {code} is at another location")
    return station


def get_printer(name: str, session: Session | None = None) -> Printer:
    """The printer called ``name`` (with its location and station); raises NotFound."""
    session = session or db.session
    printer = session.execute(
        select(Printer).options(joinedload(Printer.location), joinedload(Printer.station)).where(Printer.name == name)
    ).scalar_one_or_none()
    if printer is None:
        raise NotFound(f"no printer {name!r}", {"printer": name})
    return printer


def list_printers(location_ids: Iterable[int] | None = None, station_id: int | None = None) -> list[Printer]:
    """Printers by name (with location and station), optionally only at ``location_ids`` / of one station."""
    query = select(Printer).options(joinedload(Printer.location), joinedload(Printer.station)).order_by(Printer.name)
    if location_ids is not None:
        query = query.where(Printer.location_id.in_(list(location_ids)))
    if station_id is not None:
        query = query.where(Printer.station_id == station_id)
    return list(db.session.execute(query).scalars())


def get_station(code: str, session: Session | None = None) -> Station:
    """The station ``code``; raises NotFound."""
    session = session or db.session
    station = session.execute(select(Station).where(Station.code == code)).scalar_one_or_none()
    if station is None:
        raise NotFound(f"no station {code!r}", {"station": code})
    return station


def _resolve_printer(session: Session, printer: Printer | int | str) -> Printer:
    if isinstance(printer, Printer):
        return printer
    if isinstance(printer, int) and not isinstance(printer, bool):
        found = session.get(Printer, printer)
    else:
        found = session.execute(select(Printer).where(Printer.name == printer)).scalar_one_or_none()
    if found is None:
        raise ValidationError.one("printer", f"unknown printer {printer!r}")
    return found


# --- label data -------------------------------------------------------------------------------------------------


def product_label_data(sku: str) -> dict[str, Any]:
    """``labels`` data of a product label: sku, name and its first barcode as the GTIN. Raises NotFound, and
    ValidationError for a product without a barcode."""
    product = get_product(sku)
    if not product.barcodes:
        raise ValidationError.one("sku", f"product {sku} has no barcode to print")
    return {"sku": product.sku, "name": product.name, "gtin": product.barcodes[0].code}


def bin_label_data(location_code: str, bin_code: str) -> dict[str, Any]:
    """``labels`` data of a bin label: ``{"code", "location"}``. Raises NotFound for an unknown location or bin."""
    location = get_location(location_code)
    found = find_bin(db.session, location.id, bin_code)
    if found is None:
        raise NotFound(f"no bin {bin_code!r} at {location_code}", {"location": location_code, "bin": bin_code})
    return {"code": found.code, "location": location.code}


# --- queueing -----------------------------------------------------------------------------------------------------


def queue_label(
    session: Session,
    printer: Printer | int | str,
    kind: str,
    data: dict[str, Any],
    *,
    copies: int = 1,
    idempotency_key: str | None = None,
    reference: str | None = None,
    requested_by_id: int | None = None,
    reprint_of_id: int | None = None,
) -> PrintJob:
    """Add a print job in the caller's transaction (which commits it with whatever needs the label); returns the
    job. ``printer``: a Printer, its id or its name.

    With ``idempotency_key``, a job that has that key already is returned instead (no second label); the same key
    with another printer, kind, data or copies raises IdempotencyConflict. Raises ValidationError for an unknown
    printer or kind, a kind the printer's format does not have (e.g. a picklist on a ZPL printer), bad copies.
    Inserts only; locks nothing but the key's unique index.
    """
    target = _resolve_printer(session, printer)
    if not target.active:
        raise ValidationError.one("printer", f"printer {target.name} is disabled")
    rules.check_kind(kind, target.fmt, labels.KINDS)
    rules.check_copies(copies)
    if not isinstance(data, dict):
        raise ValidationError.one("data", "must be an object")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= rules.MAX_KEY_LENGTH:
        raise ValidationError.one("idempotency_key", f"must be 1-{rules.MAX_KEY_LENGTH} characters")
    values = {
        "printer_id": target.id,
        "kind": kind,
        "data": data,
        "copies": copies,
        "idempotency_key": idempotency_key,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "reference": (reference or None) and reference[:200],
        "requested_by_id": requested_by_id,
        "reprint_of_id": reprint_of_id,
        "created_at": utcnow(),
    }
    if idempotency_key is None:
        job = PrintJob(**values)
        session.add(job)
        session.flush()
        return job
    # ON CONFLICT DO NOTHING: a concurrent request with the same key waits for the first one's commit and then
    # inserts nothing, so that both answer with the one job.
    new_id = session.execute(
        _insert()(PrintJob)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(PrintJob.id)
    ).scalar_one_or_none()
    if new_id is not None:
        return session.get(PrintJob, new_id)
    job = session.execute(select(PrintJob).where(PrintJob.idempotency_key == idempotency_key)).scalar_one()
    if (job.printer_id, job.kind, job.data, job.copies) != (target.id, kind, data, copies):
        raise IdempotencyConflict(
            f"idempotency key {idempotency_key!r} was used for another print job ({job.id})", {"job": job.id}
        )
    return job


def print_label(
    printer: Printer | int | str,
    kind: str,
    data: dict[str, Any],
    *,
    copies: int = 1,
    idempotency_key: str | None = None,
    reference: str | None = None,
    actor: Actor = None,
) -> PrintJob:
    """Queue one label as a unit of work of its own (see :func:`queue_label`); returns the job, committed.
    ``actor``: the user who asked (a User or id), recorded as ``requested_by``."""
    with unit_of_work() as session:
        job = queue_label(
            session,
            printer,
            kind,
            data,
            copies=copies,
            idempotency_key=idempotency_key,
            reference=reference,
            requested_by_id=_user_id(actor),
        )
    return job


def print_test_label(printer_name: str, actor: Actor = None) -> PrintJob:
    """Queue a test label on ``printer_name`` (reference ``test``); returns the job. Raises NotFound."""
    printer = get_printer(printer_name)
    data = {"printer": printer.name, "requested_at": isoformat(utcnow())}
    return print_label(printer.id, rules.TEST_KIND, data, reference="test", actor=actor)


def get_job(job_id: int, session: Session | None = None) -> PrintJob:
    """The job (with its printer and requester); raises NotFound."""
    session = session or db.session
    job = session.execute(
        select(PrintJob)
        .options(joinedload(PrintJob.printer), joinedload(PrintJob.requested_by))
        .where(PrintJob.id == job_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if job is None:
        raise NotFound(f"no print job {job_id}", {"job": job_id})
    return job


def reprint(job_id: int, actor: Actor = None, *, copies: int | None = None) -> PrintJob:
    """Print a finished job again, as a new job with ``reprint_of_id`` set (same printer, kind, data; ``copies``
    default: the same). Raises NotFound, InvalidState while the job is still queued or sending. Inserts only."""
    with unit_of_work() as session:
        original = session.execute(
            select(PrintJob).where(PrintJob.id == job_id).execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if original is None:
            raise NotFound(f"no print job {job_id}", {"job": job_id})
        if original.status not in REPRINTABLE:
            raise InvalidState(f"print job {job_id} is {original.status}: it is still going to print")
        job = queue_label(
            session,
            original.printer_id,
            original.kind,
            dict(original.data),
            copies=copies if copies is not None else original.copies,
            reference=original.reference,
            requested_by_id=_user_id(actor),
            reprint_of_id=original.id,
        )
    return job


def cancel_job(job_id: int, actor: Actor = None) -> PrintJob:
    """Cancel a queued job (or dismiss a failed / unknown one). Locks the job. Raises NotFound, InvalidState for a
    job being sent (it may be printing), printed or cancelled already."""
    with unit_of_work() as session:
        job = _locked_job(session, job_id)
        if job.status not in CANCELLABLE:
            raise InvalidState(
                f"print job {job_id} is {job.status}; only queued, failed or unknown jobs can be cancelled"
            )
        job.status = "cancelled"
        job.leased_until = None
    return job


def _locked_job(session: Session, job_id: int) -> PrintJob:
    job = session.execute(
        select(PrintJob).where(PrintJob.id == job_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if job is None:
        raise NotFound(f"no print job {job_id}", {"job": job_id})
    return job


# --- claiming and outcomes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobClaim:
    """A job leased to one claimant, with what is needed to print it outside any transaction. ``attempt`` is the
    fencing token to pass back to :func:`record_outcome`."""

    id: int
    attempt: int
    printer_id: int
    printer_name: str
    url: str
    fmt: str
    kind: str
    data: dict[str, Any]
    copies: int
    reference: str | None
    leased_until: datetime


def printer_timeout(url: str) -> float:
    """The status / send timeout of a printer URL (``?timeout=``, default 5 s)."""
    try:
        return open_printer(url).timeout
    except ValueError:
        return DEFAULT_TIMEOUT


def has_due_jobs(station_id: int | None = None, now: datetime | None = None) -> bool:
    """Whether the active printers of ``station_id`` (None: the server's printers) have a job to claim (queued
    and due, or sending with its lease run out). One read on an autocommit connection: the worker's rounds and the
    station long poll ask this often, and only claim (a write transaction, the write lock on SQLite) when there is
    something to claim."""
    now = now or utcnow()
    query = (
        select(PrintJob.id)
        .join(Printer, Printer.id == PrintJob.printer_id)
        .where(
            Printer.station_id.is_(None) if station_id is None else Printer.station_id == station_id,
            Printer.active.is_(True),
            or_(
                and_(PrintJob.status == "queued", PrintJob.next_attempt_at <= now),
                and_(PrintJob.status == "sending", PrintJob.leased_until < now),
            ),
        )
        .limit(1)
    )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return conn.execute(query).first() is not None


def claim_jobs(
    printer_ids: Iterable[int] | None = None,
    limit: int = CLAIM_BATCH,
    lease_seconds: float | None = None,
    *,
    station_id: int | None = None,
    job_ids: Iterable[int] | None = None,
    ignore_schedule: bool = False,
    now: datetime | None = None,
) -> list[JobClaim]:
    """Claim up to ``limit`` due jobs, oldest first, and lease them (status ``sending``, ``attempts`` + 1,
    ``leased_until``), committed before anything is printed. Which printers: ``printer_ids``; else the printers of
    ``station_id``; else every server printer (no station). Only active printers. ``job_ids`` narrows to those
    jobs; ``ignore_schedule`` takes queued jobs whose retry time has not come yet (``wms printer test``).

    Due: queued with ``next_attempt_at`` passed, or ``sending`` whose lease ran out before ``sending_at`` (the
    claimant died before writing: claimed again). A lease that ran out after ``sending_at`` makes the job
    ``unknown`` (maybe printed; never resent by itself). ``lease_seconds`` default: per printer, from its timeout
    and the number of its jobs claimed (PRINT_LEASE_MARGIN added). Rows are claimed with ``FOR UPDATE SKIP LOCKED``
    on PostgreSQL, so claimants side by side never get the same job.
    """
    now = now or utcnow()
    margin = float(current_app.config.get("PRINT_LEASE_MARGIN", 5.0))
    due = PrintJob.status == "queued"
    if not ignore_schedule:
        due = and_(due, PrintJob.next_attempt_at <= now)
    lost = and_(PrintJob.status == "sending", PrintJob.leased_until < now)
    query = (
        select(PrintJob, Printer)
        .join(Printer, Printer.id == PrintJob.printer_id)
        .where(or_(due, lost), Printer.active.is_(True))
        .order_by(PrintJob.id)
        .limit(limit)
    )
    if printer_ids is not None:
        query = query.where(PrintJob.printer_id.in_(list(printer_ids)))
    elif station_id is not None:
        query = query.where(Printer.station_id == station_id)
    else:
        query = query.where(Printer.station_id.is_(None))
    if job_ids is not None:
        query = query.where(PrintJob.id.in_(list(job_ids)))
    if is_postgres():
        query = query.with_for_update(skip_locked=True, of=PrintJob)
    with unit_of_work() as session:
        rows = session.execute(query.execution_options(populate_existing=True)).all()
        taken: list[tuple[PrintJob, Printer]] = []
        for job, printer in rows:
            if job.status == "sending" and job.sending_at is not None:
                job.status = "unknown"
                job.leased_until = None
                job.last_error = (
                    "the print may or may not have gone out: whoever was sending it stopped after it started "
                    f"({isoformat(job.sending_at)}); check the printer and reprint if it is missing"
                )
                continue
            taken.append((job, printer))
        counts: dict[int, int] = {}
        for _, printer in taken:
            counts[printer.id] = counts.get(printer.id, 0) + 1
        leases: dict[int, datetime] = {}
        claims: list[JobClaim] = []
        for job, printer in taken:
            if printer.id not in leases:
                seconds = lease_seconds
                if seconds is None:
                    seconds = rules.lease_seconds(counts[printer.id], printer_timeout(printer.url), margin)
                leases[printer.id] = now + timedelta(seconds=seconds)
            job.status = "sending"
            job.attempts += 1
            job.leased_until = leases[printer.id]
            job.sending_at = None
            claims.append(
                JobClaim(
                    id=job.id,
                    attempt=job.attempts,
                    printer_id=printer.id,
                    printer_name=printer.name,
                    url=printer.url,
                    fmt=printer.fmt,
                    kind=job.kind,
                    data=dict(job.data or {}),
                    copies=job.copies,
                    reference=job.reference,
                    leased_until=leases[printer.id],
                )
            )
    return claims


def record_outcome(
    job_id: int,
    outcome: str,
    reason: str | None = None,
    *,
    attempt: int | None = None,
    now: datetime | None = None,
) -> PrintJob:
    """Record what happened to a claimed job; returns the job. Locks the job, then its printer.

    - ``sending``: the bytes are about to be written (``sending_at``). Refused (InvalidState) unless the job is
      still claimed by this claim: a claimant that gets InvalidState here must not send.
    - ``printed``: done (also from ``unknown``: the claimant was only late). Recording it twice is harmless.
    - ``not_ready``: the printer could not print (``reason``: its state, e.g. ``paper out``, ``unreachable: ...``).
      Back to ``queued``, retried with backoff (PRINT_RETRY_BASE doubling up to PRINT_RETRY_MAX); an unreachable
      printer for more than PRINT_GIVE_UP seconds fails the job; paper out / head open / paused never do.
    - ``failed``: a permanent problem (bad label data, unknown CUPS queue): ``failed`` with the reason.

    ``attempt`` (the claim's fencing token) refuses outcomes of an older claim. Raises NotFound, ValidationError
    for an unknown outcome, InvalidState when the job is not in a state for it.
    """
    if outcome not in OUTCOMES:
        raise ValidationError.one("outcome", f"must be one of {', '.join(OUTCOMES)}")
    now = now or utcnow()
    config = current_app.config
    with unit_of_work() as session:
        job = _locked_job(session, job_id)
        if attempt is not None and job.attempts != attempt:
            raise InvalidState(f"print job {job_id} was claimed again since (attempt {job.attempts}, not {attempt})")
        if outcome == "sending":
            lease_ok = attempt is not None or (job.leased_until is not None and _aware(job.leased_until) >= now)
            if job.status != "sending" or not lease_ok:
                raise InvalidState(f"print job {job_id} is {job.status}, no longer claimed: do not send it")
            job.sending_at = job.sending_at or now
            return job
        if outcome == "printed" and job.status == "printed":
            return job
        if job.status not in ("sending", "unknown"):
            raise InvalidState(f"print job {job_id} is {job.status}, not being sent")
        printer = session.execute(select(Printer).where(Printer.id == job.printer_id).with_for_update()).scalar_one()
        job.leased_until = None
        if outcome == "printed":
            job.status, job.printed_at, job.last_error, job.not_ready_since = "printed", now, None, None
            printer.last_state, printer.last_state_at = rules.READY_STATE, now
        elif outcome == "failed":
            job.status, job.last_error = "failed", (reason or "failed")[:2000]
        else:
            state = (reason or "unreachable: no answer").strip()[:500]
            printer.last_state, printer.last_state_at = state, now
            job.sending_at = None
            job.last_error = state
            job.not_ready_since = rules.unreachable_since(state, _aware(job.not_ready_since), now)
            give_up = float(config.get("PRINT_GIVE_UP", 600))
            if rules.should_give_up(state, job.not_ready_since, now, give_up):
                job.status = "failed"
                job.last_error = f"gave up: the printer has been unreachable for more than {give_up:g} s ({state})"
            else:
                job.status = "queued"
                delay = rules.retry_delay(
                    job.attempts, float(config.get("PRINT_RETRY_MAX", 30)), float(config.get("PRINT_RETRY_BASE", 1))
                )
                job.next_attempt_at = now + timedelta(seconds=delay)
    return job


def render_job(kind: str, data: dict[str, Any], fmt: str, printer_name: str = "") -> bytes:
    """The bytes to send for a job: ``labels.render`` of its kind and data in the printer's format (``test``: the
    test label). Raises ValueError for data the label cannot be made from."""
    if kind == rules.TEST_KIND:
        kind, data = rules.test_label(data.get("printer") or printer_name, str(data.get("requested_at") or ""))
    return labels.render(kind, data, fmt)


def content_type(fmt: str) -> str:
    """The MIME type of a printer format's documents."""
    return CONTENT_TYPES[fmt]


# --- reading --------------------------------------------------------------------------------------------------


def list_jobs(
    *,
    printer_ids: Iterable[int] | None = None,
    location_ids: Iterable[int] | None = None,
    station_id: int | None = None,
    statuses: Iterable[str] | None = None,
    requested_by_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[PrintJob]:
    """Jobs newest first (with printer and requester loaded), filtered by printers, their locations, station,
    statuses, requester; ``before_id`` pages back. No locks."""
    query = (
        select(PrintJob)
        .join(Printer, Printer.id == PrintJob.printer_id)
        .options(joinedload(PrintJob.printer), joinedload(PrintJob.requested_by))
        .order_by(PrintJob.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    if printer_ids is not None:
        query = query.where(PrintJob.printer_id.in_(list(printer_ids)))
    if location_ids is not None:
        query = query.where(Printer.location_id.in_(list(location_ids)))
    if station_id is not None:
        query = query.where(Printer.station_id == station_id)
    if statuses is not None:
        wanted = [s for s in statuses if s in JOB_STATUSES]
        query = query.where(PrintJob.status.in_(wanted))
    if requested_by_id is not None:
        query = query.where(PrintJob.requested_by_id == requested_by_id)
    if before_id is not None:
        query = query.where(PrintJob.id < before_id)
    return list(db.session.execute(query).scalars())


def job_view(job: PrintJob) -> dict[str, Any]:
    """A job as pages and the API show it."""
    printer = job.printer
    requester = job.requested_by
    return {
        "id": job.id,
        "printer": printer.name if printer else None,
        "kind": job.kind,
        "reference": job.reference,
        "copies": job.copies,
        "status": job.status,
        "final": job.status in FINAL_STATUSES,
        "attempts": job.attempts,
        "last_error": job.last_error,
        "printer_state": printer.last_state if printer else None,
        "printer_state_at": isoformat(printer.last_state_at) if printer else None,
        "requested_by": requester.username if requester else None,
        "reprint_of": job.reprint_of_id,
        "next_attempt_at": isoformat(job.next_attempt_at) if job.status == "queued" else None,
        "created_at": isoformat(job.created_at),
        "printed_at": isoformat(job.printed_at),
    }


def printer_view(printer: Printer) -> dict[str, Any]:
    """A printer as pages and the API show it."""
    return {
        "id": printer.id,
        "name": printer.name,
        "url": printer.url,
        "fmt": printer.fmt,
        "location": printer.location.code if printer.location else None,
        "station": printer.station.code if printer.station else None,
        "active": printer.active,
        "state": printer.last_state,
        "state_at": isoformat(printer.last_state_at),
    }


# --- printing from the staff pages (products, bins) ----------------------------------------------------------------
# Added by the staff pages (wms/catalog/views.py, wms/locations/views.py): a product's label, and the labels of many
# bins of a location as one batch of jobs in one transaction.


def print_product_label(
    printer: Printer | int | str,
    sku: str,
    *,
    copies: int = 1,
    idempotency_key: str | None = None,
    actor: Actor = None,
) -> PrintJob:
    """Queue the label of product ``sku`` (reference ``product:<sku>``); returns the job, committed. Raises
    NotFound (sku), ValidationError (no barcode, unknown printer, bad copies), IdempotencyConflict."""
    data = product_label_data(sku)
    return print_label(
        printer,
        "product",
        data,
        copies=copies,
        idempotency_key=idempotency_key,
        reference=f"product:{data['sku']}",
        actor=actor,
    )


def print_bin_labels(
    printer: Printer | int | str,
    location_code: str,
    bin_codes: Iterable[str],
    *,
    copies: int = 1,
    idempotency_key: str | None = None,
    actor: Actor = None,
) -> list[PrintJob]:
    """Queue one label per bin of ``bin_codes`` at a location, all in one transaction (all or none), in the order
    given; reference ``bin:<location>/<bin>``. With ``idempotency_key``, each bin's job has the key
    ``<key>:<bin>``, so that the same request again returns the same jobs. Raises NotFound for an unknown location
    or bin (naming the bin), ValidationError as :func:`queue_label`. Inserts only."""
    codes = list(dict.fromkeys(bin_codes))  # each bin once, in the order given
    if not codes:
        raise ValidationError.one("bins", "choose at least one bin")
    with unit_of_work() as session:
        location = get_location(location_code, session)
        found = {
            b.code: b
            for b in session.execute(select(Bin).where(Bin.location_id == location.id, Bin.code.in_(codes))).scalars()
        }
        missing = [code for code in codes if code not in found]
        if missing:
            raise NotFound(f"no bin {missing[0]!r} at {location.code}", {"location": location.code, "bins": missing})
        target = _resolve_printer(session, printer)
        jobs = [
            queue_label(
                session,
                target,
                "bin",
                {"code": code, "location": location.code},
                copies=copies,
                idempotency_key=rules.idempotency_key(idempotency_key, code) if idempotency_key else None,
                reference=f"bin:{location.code}/{code}",
                requested_by_id=_user_id(actor),
            )
            for code in codes
        ]
    return jobs
