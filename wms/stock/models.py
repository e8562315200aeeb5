"""The stock model: quants (what is physically where), levels (what availability reads and reservations lock),
the append-only movement ledger, reservations and the availability change log."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from wms.enums import check_in, values
from wms.extensions import db
from wms.timeutil import utcnow


class StockStatus(StrEnum):
    """What a unit may be used for: only sellable units in pick and bulk bins count as on hand sellable."""

    SELLABLE = "sellable"
    DAMAGED = "damaged"
    IN_TRANSIT = "in_transit"
    QUARANTINE = "quarantine"


class MovementReason(StrEnum):
    """Why a ledger row was written (``StockMovement.reason``)."""

    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    MOVE = "move"
    PICK = "pick"
    SHIP = "ship"
    COLLECT = "collect"  # handed over at a store counter (docs/api.md: handover)
    COUNT = "count"
    RETURN = "return"
    TRANSFER = "transfer"
    SCRAP = "scrap"


STOCK_STATUSES = values(StockStatus)
#: statuses an adjustment may book units into (in_transit is only ever reached by a transfer)
ADJUSTABLE_STATUSES = values([StockStatus.SELLABLE, StockStatus.DAMAGED, StockStatus.QUARANTINE])
MOVEMENT_REASONS = values(MovementReason)

# SQLite only autoincrements INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")
#: quantities that sums make grow (a bin, a location, the ledger): a line carries at most 1,000,000 units, but
#: 2,148 such receipts overflow a 32-bit column. SQLite's INTEGER is 64-bit already.
BigQty = BigInteger().with_variant(Integer(), "sqlite")


class Lot(db.Model):
    __tablename__ = "lot"
    __table_args__ = (UniqueConstraint("product_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    code: Mapped[str] = mapped_column(String(64))
    expiry: Mapped[date | None] = mapped_column(Date)


class StockQuant(db.Model):
    """Units of one product (and lot, and status) in one bin."""

    __tablename__ = "stock_quant"
    __table_args__ = (
        UniqueConstraint("bin_id", "product_id", "lot", "status"),
        CheckConstraint("qty >= 0", name="qty_not_negative"),
        check_in("status", StockStatus),
        Index("ix_stock_quant_product_location", "product_id", "location_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    #: lot (batch) code; empty string when the product is not tracked by lot
    lot: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="sellable")
    qty: Mapped[int] = mapped_column(BigQty, default=0)


class StockLevel(db.Model):
    """One row per product per location: the row availability reads and reservations lock."""

    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("product_id", "location_id"),
        CheckConstraint("on_hand_sellable >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand_sellable", name="reserved_within_on_hand"),
        # A location's levels by units on hand, with the product: the health page lists a store's slow movers most
        # units first without reading all its 100,000 levels, and a location's levels can be read from the index
        # alone. Reserving changes no indexed column, so order intake's updates stay HOT; picks and receipts do not.
        Index("ix_stock_level_location_on_hand", "location_id", "on_hand_sellable", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    #: units with status sellable in pick and bulk bins
    on_hand_sellable: Mapped[int] = mapped_column(BigQty, default=0)
    #: units promised to open order lines (sum of open reservations here)
    reserved: Mapped[int] = mapped_column(BigQty, default=0)


class StockMovement(db.Model):
    """Append-only ledger: every change of a quant is one row, written in the same transaction.

    A row with no ``from_bin_id`` brings units into stock (receipt, positive adjustment); one with no
    ``to_bin_id`` takes them out (shipment, negative adjustment, scrap).
    """

    __tablename__ = "stock_movement"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("from_bin_id IS NOT NULL OR to_bin_id IS NOT NULL", name="has_a_side"),
        check_in("from_status", StockStatus),
        check_in("to_status", StockStatus),
        check_in("reason", MovementReason),
        Index("ix_stock_movement_product", "product_id"),
        # the managers' charts read a window of time of one reason (picks per hour)
        Index("ix_stock_movement_reason_created_at", "reason", "created_at"),
        Index("ix_stock_movement_reference", "reference"),
        # the summaries' worker stage reads the ledger after its cursor in (txid, id) order (wms.summaries); rows
        # written before migration 0023, and every row on SQLite, have no txid and are not in it
        Index(
            "ix_stock_movement_txid_id",
            "txid",
            "id",
            postgresql_where=text("txid IS NOT NULL"),
            sqlite_where=text("txid IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    lot: Mapped[str] = mapped_column(String(64), default="")
    qty: Mapped[int] = mapped_column(BigQty)
    from_bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    to_status: Mapped[str | None] = mapped_column(String(16))
    #: why: receipt, adjustment, move, pick, ship, count, return, transfer ...
    reason: Mapped[str] = mapped_column(String(32))
    #: what caused it, e.g. ``receipt:12`` or ``order:40``
    reference: Mapped[str | None] = mapped_column(String(128))
    #: free text given by a person (the reason of an adjustment)
    note: Mapped[str | None] = mapped_column(Text)
    #: who: a user name, ``channel:CODE``, ``integration:<token id>``, ``cli``, ``worker``, ``demo``
    actor: Mapped[str | None] = mapped_column(String(128))
    #: which device: a staff token's device name, a station code, or an API caller's User-Agent
    device: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the writing transaction's id on PostgreSQL, stamped by the column's default ``txid_current()`` (set by
    #: migration 0023, not here: SQLite has no such function; there writers are serialised and id order is commit
    #: order). A reader after a cursor takes only rows below the oldest running transaction, as with
    #: ``StockChange``: ids are handed out before commit, so a late commit may carry a lower id.
    txid: Mapped[int | None] = mapped_column(BigInteger)


class Receipt(db.Model):
    """A delivery booked into stock; ``(location, reference)`` makes a replay harmless."""

    __tablename__ = "receipt"
    __table_args__ = (UniqueConstraint("location_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    reference: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reservation(db.Model):
    """Units of an order line promised at one location.

    ``qty`` is what was allocated there; ``open_qty`` what is still reserved (picking lowers it). The sum of
    ``open_qty`` per (product, location) equals ``StockLevel.reserved``; ``wms check`` proves it.
    """

    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint("open_qty >= 0 AND open_qty <= qty", name="open_within_qty"),
        Index("ix_reservation_product_location", "product_id", "location_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    qty: Mapped[int] = mapped_column(BigQty)
    open_qty: Mapped[int] = mapped_column(BigQty)
    #: the units must travel to ``deliver_to_location_id`` (a pickup store) before the order can be handed over
    needs_transfer: Mapped[bool] = mapped_column(default=False)
    deliver_to_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StockChange(db.Model):
    """Change log of stock levels: the availability change feed reads it after a cursor.

    On PostgreSQL ``txid`` is the writing transaction's id; readers only return rows of transactions older than
    the oldest one still running, so a late commit with a lower sequence number is never skipped.
    """

    __tablename__ = "stock_change"
    __table_args__ = (Index("ix_stock_change_txid_seq", "txid", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: id of the writing transaction on PostgreSQL (0 on SQLite, where writers are serialised)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StockCheck(db.Model):
    """One run of the stock check (``check_stock``: every quantity recomputed from the ledger), as the worker runs
    it on a schedule: when, and the drift it found (an empty list: the books agree)."""

    __tablename__ = "stock_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: what was found wrong, in words (``check_stock``'s lines), at most :data:`wms.stock.checks.KEEP` of them
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: how many problems there were in all
    drift: Mapped[int] = mapped_column(default=0)
    #: who ran it: ``worker``, or a manager's name
    actor: Mapped[str | None] = mapped_column(String(128))
