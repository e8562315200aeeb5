"""Reads for the staff printing pages: printers and print jobs a user may see, and the jobs that did not print
for the person who asked. No locks, no writes (the units of work are in ``wms.printing.service``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from wms.auth.models import User
from wms.auth.service import visible_locations
from wms.errors import NotFound
from wms.extensions import db
from wms.locations.models import Location
from wms.printing.models import JOB_STATUSES, Printer, PrintJob
from wms.printing.rules import READY_STATE
from wms.timeutil import utcnow

#: jobs per page of the print jobs list
JOBS_PER_PAGE = 50
#: how far back the "did not print" banner looks
ATTENTION_WINDOW = timedelta(days=2)
#: statuses the person who asked must hear about
ATTENTION_STATUSES = ("failed", "unknown")


def state_badge(state: str | None, active: bool = True) -> tuple[str, str]:
    """(text, css modifier) of a printer's last state: ``ok`` ready, ``warn`` needs a person at the printer
    (paper out, head open, ribbon out, paused), ``bad`` unreachable, ``idle`` never checked or disabled."""
    if not active:
        return "disabled", "idle"
    if not state:
        return "not checked yet", "idle"
    text = state.strip()
    lowered = text.lower()
    if lowered.startswith("ready"):
        return "ready", "ok"
    if lowered.startswith(("unreachable", "no answer", "error")):
        return text, "bad"
    return text, "warn"


def job_badge(status: str) -> str:
    """The css modifier of a job status."""
    return {
        "printed": "ok",
        "queued": "info",
        "sending": "info",
        "failed": "bad",
        "unknown": "warn",
        "cancelled": "idle",
    }.get(status, "idle")


def _visible_ids(user: User) -> list[int]:
    return [loc.id for loc in visible_locations(user)]


def visible_printers(user: User, *, active_only: bool = False) -> list[Printer]:
    """Printers at the locations ``user`` may see, by location (warehouses first) then name."""
    locations = visible_locations(user)
    if not locations:
        return []
    order = {loc.id: i for i, loc in enumerate(locations)}
    query = (
        select(Printer)
        .options(joinedload(Printer.location), joinedload(Printer.station))
        .where(Printer.location_id.in_(order))
    )
    if active_only:
        query = query.where(Printer.active.is_(True))
    printers = list(db.session.execute(query).scalars())
    # Label printers (ZPL) before document printers: a bin or product label belongs on a label roll.
    printers.sort(key=lambda p: (order[p.location_id], p.fmt != "zpl", p.name.lower()))
    return printers


def printer_choices(user: User, prefer_location: str | None = None) -> dict[str, list[tuple[int, str]]]:
    """Active printers ``user`` may print on, for a select with one group per location: ``{"WH1 · name":
    [(id, "name · ZPL · state")]}``. The ``prefer_location`` group comes first."""
    groups: dict[str, list[tuple[int, str]]] = {}
    printers = visible_printers(user, active_only=True)
    # Printers known to be in trouble last, so that the preselected one is one that can print now.
    printers.sort(key=lambda p: p.last_state not in (None, READY_STATE))
    if prefer_location:
        printers.sort(key=lambda p: p.location.code != prefer_location)  # stable: the rest keeps its order
    for printer in printers:
        group = f"{printer.location.code} · {printer.location.name}"
        state, _css = state_badge(printer.last_state)
        label = f"{printer.name} · {printer.fmt.upper()}"
        if state not in ("ready", "not checked yet"):
            label += f" · {state}"
        groups.setdefault(group, []).append((printer.id, label))
    return groups


@dataclass(frozen=True)
class PrinterGroup:
    location: Location
    printers: list[Printer]
    #: printer id -> jobs waiting (queued or sending)
    waiting: dict[int, int]


def printers_by_location(user: User) -> list[PrinterGroup]:
    """The printers ``user`` may see, grouped by location (every visible location, printers or not), with how
    many jobs wait on each."""
    locations = visible_locations(user)
    printers = visible_printers(user)
    waiting: dict[int, int] = {}
    if printers:
        waiting = dict(
            db.session.execute(
                select(PrintJob.printer_id, func.count())
                .where(PrintJob.printer_id.in_([p.id for p in printers]), PrintJob.status.in_(("queued", "sending")))
                .group_by(PrintJob.printer_id)
            ).all()
        )
    return [PrinterGroup(loc, [p for p in printers if p.location_id == loc.id], waiting) for loc in locations]


def get_printer_for(user: User, printer_id: int) -> Printer:
    """The printer ``printer_id`` if ``user`` may see it; NotFound otherwise (another store's printer is as
    unknown as a printer that does not exist)."""
    printer = db.session.get(Printer, printer_id)
    if printer is None or printer.location_id not in _visible_ids(user):
        raise NotFound(f"no printer {printer_id}", {"printer": printer_id})
    return printer


def _jobs_visible_to(user: User):
    """Condition: the job's printer is at a location ``user`` may see, or ``user`` asked for it."""
    return or_(Printer.location_id.in_(_visible_ids(user)), PrintJob.requested_by_id == user.id)


@dataclass(frozen=True)
class JobFilters:
    status: str | None = None
    printer_id: int | None = None
    location: str | None = None
    #: only the jobs this user asked for
    mine: bool = False


@dataclass(frozen=True)
class JobsPage:
    filters: JobFilters
    items: list[PrintJob]
    page: int
    pages: int
    total: int
    #: printers and locations to filter by
    printers: list[Printer]
    locations: list[Location]
    #: job id -> id of its newest reprint
    reprinted: dict[int, int]


def _filtered_jobs(user: User, filters: JobFilters):
    query = select(PrintJob).join(Printer, Printer.id == PrintJob.printer_id).where(_jobs_visible_to(user))
    if filters.status in JOB_STATUSES:
        query = query.where(PrintJob.status == filters.status)
    if filters.printer_id:
        query = query.where(PrintJob.printer_id == filters.printer_id)
    if filters.location:
        query = query.join(Location, Location.id == Printer.location_id).where(Location.code == filters.location)
    if filters.mine:
        query = query.where(PrintJob.requested_by_id == user.id)
    return query


def jobs_page(user: User, filters: JobFilters, page: int = 1, per_page: int | None = None) -> JobsPage:
    """Print jobs ``user`` may see, newest first, filtered by status, printer, location and "mine"."""
    per_page = per_page or JOBS_PER_PAGE
    query = _filtered_jobs(user, filters)
    session = db.session
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(
        session.execute(
            query.options(
                joinedload(PrintJob.printer).joinedload(Printer.location),
                joinedload(PrintJob.printer).joinedload(Printer.station),
                joinedload(PrintJob.requested_by),
            )
            .order_by(PrintJob.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).scalars()
    )
    return JobsPage(
        filters=filters,
        items=items,
        page=page,
        pages=pages,
        total=total,
        printers=visible_printers(user),
        locations=visible_locations(user),
        reprinted=_reprints([job.id for job in items]),
    )


#: columns of the print-job list's CSV, in order
JOB_EXPORT_COLUMNS = (
    "id",
    "kind",
    "reference",
    "printer",
    "location",
    "status",
    "copies",
    "attempts",
    "requested_by",
    "created_at",
    "printed_at",
    "last_error",
    "reprint_of",
)


def export_jobs(user: User, filters: JobFilters) -> Iterator[dict[str, Any]]:
    """Every print job of the list (:func:`jobs_page`: the same filters, newest first), as rows of
    :data:`JOB_EXPORT_COLUMNS`, read a batch at a time: for its CSV. No locks."""
    # Aliases: the location filter joins Location into the query, which a plain subquery would correlate away.
    where, asked_by = aliased(Location), aliased(User)
    query = (
        _filtered_jobs(user, filters)
        .with_only_columns(
            PrintJob.id,
            PrintJob.kind,
            PrintJob.reference,
            Printer.name.label("printer"),
            select(where.code).where(where.id == Printer.location_id).scalar_subquery().label("location"),
            PrintJob.status,
            PrintJob.copies,
            PrintJob.attempts,
            select(asked_by.username)
            .where(asked_by.id == PrintJob.requested_by_id)
            .scalar_subquery()
            .label("requested_by"),
            PrintJob.created_at,
            PrintJob.printed_at,
            PrintJob.last_error,
            PrintJob.reprint_of_id.label("reprint_of"),
        )
        .order_by(PrintJob.id.desc())
    )
    for row in db.session.execute(query, execution_options={"yield_per": 1000}).mappings():
        yield dict(row)


def _reprints(job_ids: list[int]) -> dict[int, int]:
    if not job_ids:
        return {}
    rows = db.session.execute(
        select(PrintJob.reprint_of_id, func.max(PrintJob.id))
        .where(PrintJob.reprint_of_id.in_(job_ids))
        .group_by(PrintJob.reprint_of_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class JobView:
    job: PrintJob
    #: the job this one reprints, and the reprints of this one (ids)
    reprint_of: PrintJob | None
    reprints: list[int]


def job_for(user: User, job_id: int) -> JobView:
    """The job ``job_id`` if ``user`` may see it (NotFound otherwise), with its reprint links."""
    job = db.session.execute(
        select(PrintJob)
        .join(Printer, Printer.id == PrintJob.printer_id)
        .options(
            joinedload(PrintJob.printer).joinedload(Printer.location),
            joinedload(PrintJob.printer).joinedload(Printer.station),
            joinedload(PrintJob.requested_by),
        )
        .where(PrintJob.id == job_id, _jobs_visible_to(user))
    ).scalar_one_or_none()
    if job is None:
        raise NotFound(f"no print job {job_id}", {"job": job_id})
    original = db.session.get(PrintJob, job.reprint_of_id) if job.reprint_of_id else None
    reprints = list(
        db.session.execute(select(PrintJob.id).where(PrintJob.reprint_of_id == job.id).order_by(PrintJob.id)).scalars()
    )
    return JobView(job, original, reprints)


def jobs_needing_attention(user: User, after_id: int = 0, limit: int = 5) -> tuple[list[PrintJob], int]:
    """The recent jobs ``user`` asked for that did not print (``failed``) or may not have (``unknown``) and were
    not reprinted since, newer than job ``after_id`` (what they dismissed): (up to ``limit`` newest, how many in
    all)."""
    reprint = aliased(PrintJob)
    condition = and_(
        PrintJob.requested_by_id == user.id,
        PrintJob.status.in_(ATTENTION_STATUSES),
        PrintJob.id > after_id,
        PrintJob.created_at >= utcnow() - ATTENTION_WINDOW,
        ~select(reprint.id).where(reprint.reprint_of_id == PrintJob.id).exists(),
    )
    session = db.session
    count = session.execute(select(func.count()).select_from(PrintJob).where(condition)).scalar_one()
    if not count:
        return [], 0
    jobs = list(
        session.execute(
            select(PrintJob)
            .options(joinedload(PrintJob.printer))
            .where(condition)
            .order_by(PrintJob.id.desc())
            .limit(limit)
        ).scalars()
    )
    return jobs, count
