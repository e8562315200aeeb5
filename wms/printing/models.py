"""Stations (counter / pack-station PCs), label printers, print jobs and the scans stations upload."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.enums import check_in, values
from wms.extensions import db
from wms.stock.models import BigId
from wms.timeutil import utcnow


class PrinterFormat(StrEnum):
    """What a printer takes: ZPL (label printers) or PDF (office printers, hot folders)."""

    ZPL = "zpl"
    PDF = "pdf"


class JobStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    PRINTED = "printed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class JobOutcome(StrEnum):
    """What a station agent reports of a job it was handed (``POST .../jobs/{id}/outcome``)."""

    SENDING = "sending"
    PRINTED = "printed"
    NOT_READY = "not_ready"
    FAILED = "failed"


PRINTER_FORMATS = values(PrinterFormat)
JOB_OUTCOMES = values(JobOutcome)
#: queued -> sending -> printed; sending -> queued (not ready, lease lost before the bytes); queued -> cancelled;
#: failed (given up, or a permanent error); unknown (the worker died after sending_at: maybe printed, never resent)
JOB_STATUSES = values(JobStatus)
#: statuses a job never leaves by itself
FINAL_STATUSES = values([JobStatus.PRINTED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.UNKNOWN])


class Station(db.Model):
    """A PC at a counter or pack station that runs ``wms station``: it uploads scans and prints on printers
    only it reaches."""

    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    #: the agent's last call to the API
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    location = relationship("Location")

    def __repr__(self) -> str:
        return f"<Station {self.code}>"


class Printer(db.Model):
    """A label or document printer, reached by ``url`` (``devices.printers.open_printer``)."""

    __tablename__ = "printer"
    __table_args__ = (check_in("fmt", PrinterFormat),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    #: what it takes, from the URL scheme: ``zpl`` or ``pdf``
    fmt: Mapped[str] = mapped_column(String(8))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    #: set: only this station's agent reaches the printer and prints its jobs; NULL: ``wms worker`` prints them
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    #: what the printer last said: ``ready``, ``paper out``, ``head open``, ``paused``, ``unreachable: ...``
    last_state: Mapped[str | None] = mapped_column(String(500))
    last_state_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    location = relationship("Location")
    station = relationship("Station")

    def __repr__(self) -> str:
        return f"<Printer {self.name} {self.url}>"


class PrintJob(db.Model):
    """One label (or document) to print, ``copies`` times, on one printer. Rendered when it is sent."""

    __tablename__ = "print_job"
    __table_args__ = (
        check_in("status", JobStatus),
        CheckConstraint("copies >= 1", name="copies_positive"),
        # The claim: due queued jobs, and sending jobs whose lease ran out.
        Index("ix_print_job_due", "status", "next_attempt_at"),
        Index("ix_print_job_printer_status", "printer_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    printer_id: Mapped[int] = mapped_column(ForeignKey("printer.id"))
    #: a ``labels`` kind (``product``, ``bin``, ``shipping``, ...) or ``test``
    kind: Mapped[str] = mapped_column(String(32))
    #: the ``labels.render`` data
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    copies: Mapped[int] = mapped_column(default=1)
    #: a second request with the same key gets this job instead of a second label
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: claims so far; also the fencing token of the current claim (an outcome for an older claim is refused)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: a claimed (``sending``) job belongs to its claimant until then
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: committed just before the bytes are written: a claimant that dies after it leaves the job ``unknown``
    sending_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    #: start of the current run of "unreachable" answers (the give-up clock); NULL once the printer answers
    not_ready_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: what it is for, e.g. ``product:SKU-1``, ``bin:WH1/A-01-01``, ``test``
    reference: Mapped[str | None] = mapped_column(String(200))
    reprint_of_id: Mapped[int | None] = mapped_column(ForeignKey("print_job.id"))
    printed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    printer = relationship("Printer")
    requested_by = relationship("User")

    def __repr__(self) -> str:
        return f"<PrintJob {self.id} {self.kind} {self.status}>"


class StationScan(db.Model):
    """A scan a station's agent uploaded; stored once per (station, client_id)."""

    __tablename__ = "station_scan"
    __table_args__ = (
        UniqueConstraint("station_id", "client_id"),
        # The station page's live feed: the station's scans after an id.
        Index("ix_station_scan_station_id", "station_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    #: the agent's id of the scan: a retried upload is stored once
    client_id: Mapped[str] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(String(2000))
    #: the ``devices.parse_scan`` kind, or ``error``
    kind: Mapped[str] = mapped_column(String(32))
    parsed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
