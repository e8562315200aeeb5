from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, FetchedValue, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.enums import check_in, values
from wms.extensions import db
from wms.timeutil import utcnow


class OrderStatus(StrEnum):
    RESERVED = "reserved"
    IN_TRANSIT = "in_transit"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    COLLECTED = "collected"
    PARTIALLY_COLLECTED = "partially_collected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Fulfilment(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"


ORDER_STATUSES = values(OrderStatus)
FULFILMENTS = values(Fulfilment)
#: an order may be cancelled while it is in one of these
CANCELLABLE = values([OrderStatus.RESERVED, OrderStatus.IN_TRANSIT, OrderStatus.PICKING])


class Order(db.Model):
    __tablename__ = "order"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        check_in("fulfilment", Fulfilment),
        check_in("status", OrderStatus),
        # The worker's pickup stages ask these every round: the ready orders whose hold ends, a store's pickups.
        Index("ix_order_status_hold_until", "status", "hold_until"),
        Index("ix_order_pickup_location_status", "pickup_location_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    fulfilment: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="reserved")
    customer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ship_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pickup_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    #: what the customer shows at the counter (pickup orders)
    pickup_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    #: the tote the order's units are picked into (free again once the order is shipped or cancelled)
    tote: Mapped[str | None] = mapped_column(String(64), index=True)
    #: why a manager must look at the order (a short pick with no stock to pick instead...); None when all is well
    attention: Mapped[str | None] = mapped_column(String(500))
    #: a pickup order on the shelf: the pickup bin it waits in, and until when (then it expires)
    shelf_bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    hold_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: when the channel was told the hold ends soon (a day before ``hold_until``)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: the client id of the counter handover that closed a pickup order (a retry of it answers the order again)
    handover_id: Mapped[str | None] = mapped_column(String(64))
    #: a manager asked for it to be picked first: the next wave puts it ahead of older orders. Only a server
    #: default: intake's one-statement insert (PostgreSQL) leaves out what it does not set, a Python default
    #: would be sent as NULL there
    urgent: Mapped[bool] = mapped_column(server_default=false())
    #: hash of the normalised request, to tell a replay from a conflicting reuse of the external id
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )
    events: Mapped[list[OrderEvent]] = relationship(order_by="OrderEvent.id", cascade="all, delete-orphan")
    shipments: Mapped[list[Shipment]] = relationship(order_by="Shipment.id", cascade="all, delete-orphan")

    #: not a column: codes of the locations intake routed among, so that the answer to an order needs no query
    known_location_codes = None


class OrderLine(db.Model):
    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    line_no: Mapped[int] = mapped_column()
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    qty: Mapped[int] = mapped_column()
    picked: Mapped[int] = mapped_column(default=0)
    shipped: Mapped[int] = mapped_column(default=0)
    collected: Mapped[int] = mapped_column(default=0)
    declined: Mapped[int] = mapped_column(default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    product = relationship("Product")
    reservations = relationship("Reservation", order_by="Reservation.id")


class OrderEvent(db.Model):
    """Status history of an order."""

    __tablename__ = "order_event"
    __table_args__ = (
        Index("ix_order_event_order", "order_id"),
        Index("ix_order_event_txid_id", "txid", "id"),
        check_in("status", OrderStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    status: Mapped[str] = mapped_column(String(24))
    #: who changed the status: ``channel:CODE``, a user name, ``worker``, ``cli`` (``StockMovement.actor``)
    actor: Mapped[str | None] = mapped_column(String(128))
    #: which device: a staff token's device name, a station code, an API caller's User-Agent
    device: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: id of the writing transaction on PostgreSQL (the column's default there, so no writer names it), 0 on
    #: SQLite: the order list reads events in (txid, id) order below the oldest running transaction
    #: (``wms.orders.queries``)
    txid: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())


class Shipment(db.Model):
    """Units of an order that left a location with a carrier (``wms.shipping.service``)."""

    __tablename__ = "shipment"
    # A tracking number names one shipment of a carrier (the scan of a parcel's label finds its order by it).
    __table_args__ = (UniqueConstraint("carrier", "tracking"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking: Mapped[str | None] = mapped_column(String(128))
    #: where the units left from (None: shipments recorded before this was kept)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    #: ``[{"weight_g", "length_mm", "width_mm", "height_mm", "sscc"}]``: each parcel as weighed, and its label's SSCC
    parcels: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: where the customer follows it, when the carrier has such a page
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    #: who shipped it (a user name), on which device
    actor: Mapped[str | None] = mapped_column(String(128))
    device: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
