from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.extensions import db
from wms.timeutil import utcnow


class Product(db.Model):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    #: receipts and picks must name a lot (batch) for this product
    track_lots: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    #: who made the last change (``StockMovement.actor``'s naming: a user name, ``integration:<token id>``, ``cli``)
    updated_by: Mapped[str | None] = mapped_column(String(128))

    barcodes: Mapped[list[Barcode]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Barcode.id"
    )

    def __repr__(self) -> str:
        return f"<Product {self.sku}>"


class Barcode(db.Model):
    __tablename__ = "barcode"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    #: the code as the integrator sent it (GTIN-8, -12, -13 or -14)
    code: Mapped[str] = mapped_column(String(14))
    #: the same GTIN zero-padded to 14 digits, so that a scan of any form finds the product
    gtin: Mapped[str] = mapped_column(String(14), unique=True)

    product: Mapped[Product] = relationship(back_populates="barcodes")
