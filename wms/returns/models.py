"""Returns: what a customer sends back (or brings to a store), and what became of each unit.

A return names the order it comes from and, per line, the sku and units the customer means to return. Intake
(at a store counter or the warehouse) records what arrived, each group of units with its grade and disposition
(:class:`ReturnItem`), and moves them into stock through the ledger. Quarantined units wait for a manager, who
restocks or scraps them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.enums import check_in, values
from wms.extensions import db
from wms.timeutil import utcnow


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    #: units came in; more are expected
    RECEIVED = "received"
    #: every unit came in; some wait in quarantine for a manager
    INSPECTED = "inspected"
    #: every unit came in and has its final disposition
    CLOSED = "closed"


class ReturnMethod(StrEnum):
    #: the customer sends the parcel (with the return label) to the location the order left from
    SHIP = "ship"
    #: the customer hands it in at a store (any store)
    STORE = "store"


class Grade(StrEnum):
    NEW = "new"
    OPENED = "opened"
    DAMAGED = "damaged"


class Disposition(StrEnum):
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    SCRAP = "scrap"


class Decision(StrEnum):
    """What a manager does with quarantined units."""

    RESTOCK = "restock"
    SCRAP = "scrap"


RETURN_STATUSES = values(ReturnStatus)
RETURN_METHODS = values(ReturnMethod)
GRADES = values(Grade)
DISPOSITIONS = values(Disposition)
DECISIONS = values(Decision)


class Return(db.Model):
    __tablename__ = "return_request"
    __table_args__ = (
        check_in("status", ReturnStatus),
        check_in("method", ReturnMethod),
        Index("ix_return_request_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what the customer writes on the parcel and the clerk scans (``$R:<rma>`` on the label)
    rma: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    #: the order's channel: it is told of every change (``return.updated``)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    method: Mapped[str] = mapped_column(String(16))
    #: where the units are expected: the store named (method ``store``; any store may take them), or the location
    #: the order left from (method ``ship``)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(String(16), default=ReturnStatus.REQUESTED)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    lines: Mapped[list[ReturnLine]] = relationship(order_by="ReturnLine.line_no", cascade="all, delete-orphan")
    events: Mapped[list[ReturnEvent]] = relationship(order_by="ReturnEvent.id", cascade="all, delete-orphan")


class ReturnLine(db.Model):
    __tablename__ = "return_line"
    __table_args__ = (UniqueConstraint("return_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_request.id"))
    line_no: Mapped[int] = mapped_column()
    #: the order line the units were bought on
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    qty: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500), default="")

    items: Mapped[list[ReturnItem]] = relationship(order_by="ReturnItem.id", cascade="all, delete-orphan")


class ReturnIntake(db.Model):
    """One intake request (a clerk's scan session, an API call): its client id makes a retry harmless."""

    __tablename__ = "return_intake"
    __table_args__ = (UniqueConstraint("return_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_request.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    actor: Mapped[str | None] = mapped_column(String(128))
    device: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReturnItem(db.Model):
    """Units of a return line that came in together, with one grade and one disposition, and where they went."""

    __tablename__ = "return_item"
    __table_args__ = (
        check_in("grade", Grade),
        check_in("disposition", Disposition),
        check_in("decision", Decision),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_line_id: Mapped[int] = mapped_column(ForeignKey("return_line.id"), index=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("return_intake.id"))
    qty: Mapped[int] = mapped_column(BigInteger)
    grade: Mapped[str] = mapped_column(String(16))
    disposition: Mapped[str] = mapped_column(String(16))
    #: where the units went: the sellable bin (restock) or the returns bin (quarantine, scrap)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    #: a quarantined item's fate, once a manager decided (``restock`` or ``scrap``)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReturnEvent(db.Model):
    """Status history of a return."""

    __tablename__ = "return_event"
    __table_args__ = (Index("ix_return_event_return", "return_id"), check_in("status", ReturnStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_request.id"))
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(128))
    device: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
