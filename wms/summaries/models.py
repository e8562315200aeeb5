"""The summary tables. Nothing writes them but this package: the worker's stages, and the rebuilds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from wms.extensions import db
from wms.timeutil import utcnow


class StockLastMovement(db.Model):
    """When a product last moved at a location: the latest ``created_at`` of the ledger rows whose from-bin or
    to-bin is there. Kept by the ``summaries.last_movement`` stage from the ledger after its cursor; the rows it has
    not read yet (its tail) are merged in by the readers (:func:`wms.summaries.last_movement.last_moved`)."""

    __tablename__ = "stock_last_movement"
    __table_args__ = (Index("ix_stock_last_movement_location_last_at", "location_id", "last_at"),)

    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LocationStockSummary(db.Model):
    """A location's stock totals as of ``refreshed_at`` (the home page): products with sellable units on hand,
    units on hand and reserved. Refreshed whole by the ``summaries.stock_totals`` stage."""

    __tablename__ = "location_stock_summary"

    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    skus_in_stock: Mapped[int] = mapped_column(BigInteger, default=0)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NetworkStockSummary(db.Model):
    """The whole network's distinct products with sellable units on hand somewhere (one row, ``id`` 1), refreshed
    with the locations' totals (a distinct count cannot be summed from them)."""

    __tablename__ = "network_stock_summary"

    id: Mapped[int] = mapped_column(primary_key=True)
    skus_in_stock: Mapped[int] = mapped_column(BigInteger, default=0)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
