"""Reads for the staff bins page (``wms/locations/views.py``): no locks, nothing written."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from wms.auth.models import User
from wms.auth.service import can_see_location
from wms.errors import Forbidden
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.locations.rules import aisle_of
from wms.locations.service import get_location
from wms.stock.models import StockQuant


@dataclass(frozen=True)
class BinRow:
    code: str
    kind: str
    sequence: int
    aisle: str
    #: units on hand in the bin (any product, lot or status)
    units: int
    #: distinct products with units in the bin
    products: int


@dataclass(frozen=True)
class LocationBins:
    location: Location
    #: every bin in walk order (sequence, then code)
    bins: list[BinRow]

    @property
    def aisles(self) -> list[tuple[str, list[BinRow]]]:
        """The bins by aisle, aisles in the order the walk first reaches them."""
        groups: dict[str, list[BinRow]] = {}
        for row in self.bins:
            groups.setdefault(row.aisle, []).append(row)
        return list(groups.items())


def location_bins(user: User, code: str) -> LocationBins:
    """The bins of location ``code`` in walk order with what they hold, for ``user``.

    Raises NotFound for an unknown location and Forbidden when ``user`` may not see it (a clerk another store, a
    picker another location). No locks."""
    session = db.session
    location = get_location(code, session)
    if not can_see_location(user, location.id):
        raise Forbidden(f"you cannot see the bins of {location.code}", {"location": location.code})
    held = dict(
        (bin_id, (int(units), int(products)))
        for bin_id, units, products in session.execute(
            select(StockQuant.bin_id, func.sum(StockQuant.qty), func.count(func.distinct(StockQuant.product_id)))
            .where(StockQuant.location_id == location.id, StockQuant.qty > 0)
            .group_by(StockQuant.bin_id)
        )
    )
    bins = session.execute(select(Bin).where(Bin.location_id == location.id).order_by(Bin.sequence, Bin.code)).scalars()
    rows = [BinRow(b.code, b.kind, b.sequence, aisle_of(b.code), *held.get(b.id, (0, 0))) for b in bins]
    return LocationBins(location, rows)
