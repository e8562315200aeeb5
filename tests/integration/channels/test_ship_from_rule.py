"""One rule, every path: "the channel's ship-from list, else every location that ships, minus the buffer".

Availability by sku, the change feed (which the worker's ``availability.changed`` items share), the full feed in
both formats and the order router must give the same figure for channels with and without a list, with and
without a buffer, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import Boolean, Integer, literal, select, union_all

from tests.factories import add_stock, make_world, order_body
from tests.integration.channels.helpers import settle
from wms.channels.availability import availability, changes, feed, sellable_sql
from wms.channels.rules import sellable
from wms.channels.service import create_channel, ship_from_locations
from wms.errors import InsufficientStock
from wms.extensions import db
from wms.orders.service import place_order

#: free units of A per location (make_world: WH1 and WH2 ship, ST1 is a store that does not, ST2 one that does)
STOCK = {"WH1": 10, "WH2": 4, "ST1": 3, "ST2": 2}
SHIPPING = ["WH1", "WH2", "ST2"]
#: code: (ship-from list or None, buffer)
CHANNELS = {
    "LISTED": (["WH2", "ST1"], 2),  # a listed location counts even though it does not ship by itself
    "EVERY": (None, 3),
    "PLAIN": (None, 0),
    "HELD": (["WH2"], 10),  # a buffer above the stock
}


def _world() -> dict[str, tuple[int, int]]:
    """The stock above and every channel of CHANNELS (so that one channel's list never leaks into another's
    figure); returns code -> (channel id, buffer)."""
    make_world(stock_a=STOCK["WH1"], stock_b=0)
    for code, qty in STOCK.items():
        if code != "WH1":
            add_stock(code, "A-01" if code.startswith("WH") else "S-01", "A", qty)
    return {
        code: (create_channel(code, ship_from=ship_from, buffer=buffer)[0].id, buffer)
        for code, (ship_from, buffer) in CHANNELS.items()
    }


def _expected(code: str) -> int:
    ship_from, buffer = CHANNELS[code]
    return max(0, sum(STOCK[loc] for loc in ship_from or SHIPPING) - buffer)


def _feed_figures(channel_id: int, buffer: int) -> tuple[int, int]:
    """The available figure of A in the NDJSON feed and in the CSV feed."""
    [ndjson] = [json.loads(line) for line in b"".join(feed(channel_id, buffer, "ndjson")).splitlines()][:1]
    rows = list(csv.reader(io.StringIO(b"".join(feed(channel_id, buffer, "csv")).decode())))
    assert ndjson["sku"] == "A" and rows[1][0] == "A"
    return ndjson["available"], int(rows[1][1])


def test_every_read_and_the_router_agree_on_what_each_channel_may_sell(any_app):
    channels = _world()
    settle()
    for code, (channel_id, buffer) in channels.items():
        expected = _expected(code)
        [item] = availability(channel_id, buffer, ["A"])
        assert item["available"] == expected, code
        [changed] = [i for i in changes(channel_id, buffer, None, 1000)["changes"] if i["sku"] == "A"]
        assert changed == item, code
        assert _feed_figures(channel_id, buffer) == (expected, expected), code
        locations = {loc.code for loc in ship_from_locations(db.session, channel_id)}
        assert locations == set(CHANNELS[code][0] or SHIPPING), code
        # The router refuses one unit more than the channel is shown, and reports the same figure.
        with pytest.raises(InsufficientStock) as short:
            place_order(channel_id, order_body(f"{code}-TOO-MANY", lines=[("A", expected + 1)]))
        assert short.value.details == [{"sku": "A", "requested": expected + 1, "available": expected}], code


@pytest.mark.parametrize("code", [code for code in CHANNELS if _expected(code) > 0])
def test_an_order_can_take_exactly_the_figure_shown_from_the_ship_from_locations(any_app, code):
    channels = _world()
    channel_id, buffer = channels[code]
    expected = _expected(code)
    order, created = place_order(channel_id, order_body(f"{code}-ALL", lines=[("A", expected)]))
    assert created
    allowed = {loc.id for loc in ship_from_locations(db.session, channel_id)}
    assert {r.location_id for line in order.lines for r in line.reservations} <= allowed
    assert sum(r.qty for line in order.lines for r in line.reservations) == expected
    settle()
    # What is left at the ship-from locations is the buffer: the channel now sees nothing to sell, on every path.
    [item] = availability(channel_id, buffer, ["A"])
    assert item["available"] == 0
    assert _feed_figures(channel_id, buffer) == (0, 0)
    assert [i for i in changes(channel_id, buffer, None, 1000)["changes"] if i["sku"] == "A"] == [item]


@pytest.mark.parametrize(
    ("levels", "buffer"),
    [
        ([(10, True), (2, True), (3, False)], 3),
        ([(10, True), (2, True)], 0),
        ([(2, True)], 5),
        ([(4, False)], 0),
        ([(7, True), (-3, True)], 1),
        ([(4, True), (4, True)], 8),
    ],
)
def test_the_sql_form_of_the_buffer_arithmetic_equals_the_python_one(any_app, levels, buffer):
    rows = union_all(
        *(
            select(literal(free, Integer).label("free"), literal(ships, Boolean).label("ships"))
            for free, ships in levels
        )
    ).subquery("levels")
    in_sql = db.session.execute(select(sellable_sql(rows.c.free, rows.c.ships, buffer)).select_from(rows)).scalar_one()
    assert in_sql == sellable([free for free, ships in levels if ships], buffer)
