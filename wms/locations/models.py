from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.enums import check_in, values
from wms.extensions import db
from wms.timeutil import utcnow


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"


class BinKind(StrEnum):
    PICK = "pick"
    BULK = "bulk"
    DOCK = "dock"
    STAGING = "staging"
    PICKUP = "pickup"
    RETURNS = "returns"
    QUARANTINE = "quarantine"


LOCATION_KINDS = values(LocationKind)
BIN_KINDS = values(BinKind)
#: bins whose sellable stock counts as on hand sellable
SELLABLE_BIN_KINDS = values([BinKind.PICK, BinKind.BULK])


class Location(db.Model):
    __tablename__ = "location"
    __table_args__ = (check_in("kind", LocationKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    #: ships parcels to customers (warehouses, and stores that ship)
    ships: Mapped[bool] = mapped_column(default=False)
    #: customers can collect click & collect orders here
    pickup: Mapped[bool] = mapped_column(default=False)
    #: days a ready pickup order waits at the counter before it expires
    pickup_hold_days: Mapped[int] = mapped_column(default=7)
    #: routing order among locations of the same kind: lower ships first
    priority: Mapped[int] = mapped_column(default=100)
    #: IANA time zone its times are shown in on pages (``Europe/Warsaw``); None: the WMS_TIMEZONE setting
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    #: who made the last change (``StockMovement.actor``'s naming: a user name, ``integration:<token id>``, ``cli``)
    updated_by: Mapped[str | None] = mapped_column(String(128))

    bins: Mapped[list[Bin]] = relationship(back_populates="location", order_by="Bin.sequence")

    def __repr__(self) -> str:
        return f"<Location {self.code}>"


class Bin(db.Model):
    __tablename__ = "bin"
    __table_args__ = (
        UniqueConstraint("location_id", "code"),
        check_in("kind", BinKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    #: walk order for picking: pickers visit bins in increasing sequence
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    #: who made the last change (``StockMovement.actor``'s naming: a user name, ``integration:<token id>``, ``cli``)
    updated_by: Mapped[str | None] = mapped_column(String(128))

    location: Mapped[Location] = relationship(back_populates="bins")

    @property
    def sellable(self) -> bool:
        return self.kind in SELLABLE_BIN_KINDS

    def __repr__(self) -> str:
        return f"<Bin {self.code}>"
