"""Reads for the signed-in home page: who the user is, where, and the stock of the locations they may see."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from wms.auth.models import User
from wms.auth.service import visible_locations
from wms.extensions import db
from wms.locations.models import Location
from wms.stock.models import StockLevel
from wms.tables import Column, Spec


@dataclass(frozen=True)
class LocationSummary:
    code: str
    name: str
    kind: str
    ships: bool
    pickup: bool
    #: products with sellable units on hand here
    skus_in_stock: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class HomeView:
    username: str
    role: str
    home: Location | None
    locations: list[LocationSummary]
    #: the sum over the listed locations (distinct skus), when there is more than one
    totals: LocationSummary | None = None


def locations_spec(view: HomeView) -> Spec:
    """The home page's locations as a table (sorted, paged and exported like the managers' others)."""
    return Spec(
        "locations",
        (
            Column("code", _l("Location")),
            Column("skus_in_stock", _l("SKUs in stock"), numeric=True),
            Column("on_hand", _l("On hand"), numeric=True),
            Column("reserved", _l("Reserved"), numeric=True),
            Column("available", _l("Available"), numeric=True),
        ),
        # By default in the order the locations are listed everywhere: warehouses first.
        lambda: [{**loc.__dict__, "available": loc.available, "rank": i} for i, loc in enumerate(view.locations)],
        "rank",
    )


def home_view(user: User) -> HomeView:
    """The home page of ``user``: their role and home location, and a stock summary of every location they may
    see (one grouped read of the stock levels; no locks)."""
    locations = visible_locations(user)
    figures = {}
    if locations:
        rows = db.session.execute(
            select(
                StockLevel.location_id,
                func.sum(case((StockLevel.on_hand_sellable > 0, 1), else_=0)),
                func.coalesce(func.sum(StockLevel.on_hand_sellable), 0),
                func.coalesce(func.sum(StockLevel.reserved), 0),
            )
            .where(StockLevel.location_id.in_([loc.id for loc in locations]))
            .group_by(StockLevel.location_id)
        )
        figures = {loc_id: (int(skus), int(on_hand), int(reserved)) for loc_id, skus, on_hand, reserved in rows}
    summaries = [
        LocationSummary(loc.code, loc.name, loc.kind, loc.ships, loc.pickup, *figures.get(loc.id, (0, 0, 0)))
        for loc in locations
    ]
    totals = None
    if len(summaries) > 1:
        distinct_skus = db.session.execute(
            select(func.count(func.distinct(StockLevel.product_id))).where(
                StockLevel.location_id.in_([loc.id for loc in locations]), StockLevel.on_hand_sellable > 0
            )
        ).scalar_one()
        totals = LocationSummary(
            code="",
            name="All locations",
            kind="",
            ships=False,
            pickup=False,
            skus_in_stock=distinct_skus,
            on_hand=sum(s.on_hand for s in summaries),
            reserved=sum(s.reserved for s in summaries),
        )
    home = db.session.get(Location, user.location_id) if user.location_id else None
    return HomeView(username=user.username, role=user.role, home=home, locations=summaries, totals=totals)
