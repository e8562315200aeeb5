"""The locations' stock totals the home page reads: a refresh stores what the levels sum to (a location without
levels at zero, the network's products counted once), and the stage refreshes only when the last one is older
than STOCK_SUMMARY_MINUTES."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import add_stock, make_location, make_product, make_world, order_body
from wms.channels.models import Channel
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.service import place_order
from wms.stock.service import adjust
from wms.summaries.stock_totals import kept_totals, live_skus_in_stock, live_totals, refresh, refresh_due
from wms.timeutil import utcnow


def _figures() -> dict[int, tuple[int, int, int]]:
    kept, _network = kept_totals()
    db.session.rollback()
    return {loc: (t.skus_in_stock, t.on_hand, t.reserved) for loc, t in kept.items()}


def _truth() -> tuple[dict[int, tuple[int, int, int]], int]:
    ids = list(db.session.execute(select(Location.id)).scalars())
    live = live_totals(ids)
    truth = {loc: live.get(loc, (0, 0, 0)) for loc in ids}, live_skus_in_stock(ids)
    db.session.rollback()
    return truth


def test_a_refresh_stores_what_the_levels_sum_to(any_app):
    make_world(stock_a=10, stock_b=5)
    make_product("C")
    add_stock("ST2", "S-01", "A", 4)
    add_stock("WH2", "A-01", "C", 3)
    web = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    place_order(web, order_body("WEB-1", lines=[("A", 2)]))
    make_location("ST9", "store")  # no levels at all
    assert kept_totals() == ({}, None)
    at = utcnow()
    assert refresh(at) == 5
    truth, skus = _truth()
    assert _figures() == truth
    assert truth[db.session.execute(select(Location.id).where(Location.code == "ST9")).scalar_one()] == (0, 0, 0)
    kept, network = kept_totals()
    assert network is not None and network.skus_in_stock == skus == 3  # A, B and C, each counted once
    assert (network.on_hand, network.reserved) == (22, 2)
    assert {t.as_of for t in kept.values()} == {network.as_of}
    assert abs(network.as_of - at) < timedelta(seconds=1)
    # The levels move on; the summary says what they were at its time until the next refresh
    adjust("WH1", "A-01", "A", -3, "broken")
    assert _figures() != _truth()[0]
    refresh()
    assert _figures() == _truth()[0]


def test_the_stage_refreshes_when_the_last_refresh_is_older_than_the_setting(any_app, monkeypatch):
    make_world(stock_a=10, stock_b=5)
    monkeypatch.setitem(any_app.config, "STOCK_SUMMARY_MINUTES", 5)
    start = utcnow()
    assert refresh_due(start) == 1  # none yet
    add_stock("WH1", "A-01", "A", 1)
    assert refresh_due(start + timedelta(minutes=4)) == 0
    assert _figures() != _truth()[0]
    assert refresh_due(start + timedelta(minutes=6)) == 1
    assert _figures() == _truth()[0]
    assert refresh_due(start + timedelta(minutes=7)) == 0
