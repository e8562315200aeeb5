"""Reads for the signed-in home page: who the user is, where, and the stock of the locations they may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from wms.auth.models import User
from wms.auth.service import visible_locations
from wms.extensions import db
from wms.locations.models import Location
from wms.summaries.stock_totals import kept_totals, live_skus_in_stock, live_totals
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
    #: when the oldest figure shown was read from the stock levels (the worker's summary); None: all read now
    as_of: datetime | None = None


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
    """The home page of ``user``: their role and home location, and the stock of every location they may see, as
    the worker's last summary has it (``as_of``); a location the summary does not have yet (before the worker's
    first round, or a new one) is summed from its levels now. No locks."""
    locations = visible_locations(user)
    ids = [loc.id for loc in locations]
    kept, network = kept_totals()
    live = live_totals([i for i in ids if i not in kept])
    figures = {i: (t.skus_in_stock, t.on_hand, t.reserved) for i, t in kept.items() if i in ids} | live
    summaries = [
        LocationSummary(loc.code, loc.name, loc.kind, loc.ships, loc.pickup, *figures.get(loc.id, (0, 0, 0)))
        for loc in locations
    ]
    times = [kept[i].as_of for i in ids if i in kept]
    totals = None
    if len(summaries) > 1:
        # The network's distinct count holds for exactly the locations the summary has; otherwise count now.
        summed = network is not None and set(ids) == set(kept)
        if summed:
            times.append(network.as_of)
        totals = LocationSummary(
            code="",
            name="All locations",
            kind="",
            ships=False,
            pickup=False,
            skus_in_stock=network.skus_in_stock if summed else live_skus_in_stock(ids),
            on_hand=sum(s.on_hand for s in summaries),
            reserved=sum(s.reserved for s in summaries),
        )
    home = db.session.get(Location, user.location_id) if user.location_id else None
    return HomeView(
        username=user.username,
        role=user.role,
        home=home,
        locations=summaries,
        totals=totals,
        as_of=min(times) if times else None,
    )
