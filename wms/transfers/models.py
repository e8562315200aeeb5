"""A transfer moves units between two locations. Its units are reserved, picked and packed under an order (the
transfer's ``order_id``): a pickup order's own when the transfer brings a click & collect order to its store, else
an order of the internal transfers channel made for it. Shipping puts them in transit at the destination;
a ``transfer_receive`` task there takes them in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.enums import check_in, values
from wms.extensions import db
from wms.timeutil import utcnow


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    PICKING = "picking"
    PACKED = "packed"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


TRANSFER_STATUSES = values(TransferStatus)
#: a transfer is still on its way (not received, not cancelled) in these
OPEN_TRANSFER_STATUSES = values(
    [TransferStatus.REQUESTED, TransferStatus.PICKING, TransferStatus.PACKED, TransferStatus.IN_TRANSIT]
)


class Transfer(db.Model):
    __tablename__ = "transfer"
    # One transfer per (order, source): a pickup order's units from two warehouses travel as two transfers.
    __table_args__ = (UniqueConstraint("order_id", "from_location_id"), check_in("status", TransferStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    #: ``requested`` until shipped (the view shows the order's ``picking`` / ``packed`` meanwhile), then
    #: ``in_transit``, ``received``; ``cancelled``
    status: Mapped[str] = mapped_column(String(16), default=TransferStatus.REQUESTED.value)
    #: the order the units are reserved, picked and packed under
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    #: the click & collect order the transfer brings to its store (None: replenishment)
    for_order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"))
    #: what the receiving found wrong (units short or damaged), for a manager; None when all arrived well
    variance: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(128))
    device: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[TransferLine]] = relationship(
        back_populates="transfer", order_by="TransferLine.line_no", cascade="all, delete-orphan"
    )


class TransferLine(db.Model):
    __tablename__ = "transfer_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfer.id"), index=True)
    line_no: Mapped[int] = mapped_column()
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    #: the order line whose units these are (a pickup order's line: received units are reserved for it again)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"))
    qty: Mapped[int] = mapped_column()
    shipped: Mapped[int] = mapped_column(default=0)
    #: units taken in sellable at the destination (over units included), and units that arrived damaged
    received: Mapped[int] = mapped_column(default=0)
    damaged: Mapped[int] = mapped_column(default=0)

    transfer: Mapped[Transfer] = relationship(back_populates="lines")
    product = relationship("Product")


class MinMax(db.Model):
    """How much of a product a location keeps on its shelves: when what it has (available, plus what is on its way
    by replenishment transfer) falls below ``min_qty``, a transfer is suggested to bring it up to ``max_qty``."""

    __tablename__ = "min_max"
    __table_args__ = (
        UniqueConstraint("location_id", "product_id"),
        CheckConstraint("min_qty >= 0 AND max_qty >= min_qty AND max_qty > 0", name="levels"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    min_qty: Mapped[int] = mapped_column()
    max_qty: Mapped[int] = mapped_column()
    updated_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
