"""Tasks, their lines, and the scans applied to them (each stored with its answer, so a retry is applied once)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.enums import check_in
from wms.extensions import db
from wms.timeutil import utcnow


class TaskKind(StrEnum):
    PUTAWAY = "putaway"
    PICK = "pick"
    PACK = "pack"
    COUNT = "count"
    TRANSFER_RECEIVE = "transfer_receive"
    STAGE = "stage"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"
    AWAITING_APPROVAL = "awaiting_approval"


class Task(db.Model):
    __tablename__ = "task"
    __table_args__ = (
        check_in("kind", TaskKind),
        check_in("status", TaskStatus),
        Index("ix_task_location_id_status", "location_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24), default=TaskStatus.OPEN)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: what the task is for (``{"receipt": 3, "delivery": "PO-1"}``, ``{"wave": 7}``): shown as the API's ``reference``
    reference: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tote: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    lines: Mapped[list[TaskLine]] = relationship(back_populates="task", order_by="TaskLine.line_no")


class TaskLine(db.Model):
    __tablename__ = "task_line"
    __table_args__ = (UniqueConstraint("task_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    qty: Mapped[int] = mapped_column(BigInteger)
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    #: where the units are to go (put-away: the bin confirmed by scan) or come from (pick); None until known
    bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    lot: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), index=True)
    #: pick: the order line whose reservation the units are picked against
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"), index=True)
    #: put-away: the item of this line was scanned and the bin was named; the next scan confirms the bin
    item_scanned: Mapped[bool] = mapped_column(default=False)
    #: pick: the line's bin was confirmed by scan; the next scans are its item
    bin_scanned: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: pick: units the bin did not hold (a short pick); the line is closed with ``done + short == qty``
    short: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    task: Mapped[Task] = relationship(back_populates="lines")


class TaskScan(db.Model):
    __tablename__ = "task_scan"
    __table_args__ = (UniqueConstraint("task_id", "client_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(String(2000), default="")
    #: the first answer (only a scan that was applied is stored: one that was refused changed nothing)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str | None] = mapped_column(String(128))
    device: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
