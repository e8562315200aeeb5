"""Routing with the database: which locations an order is reserved at.

Ship orders: warehouses by priority, then stores that ship, as few locations as possible, only the channel's
ship-from locations. Pickup orders: the pickup store's own stock, else a warehouse with a transfer to the store.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import Api, add_stock, make_channel, make_location, make_world, order_body
from wms.channels.models import Channel
from wms.errors import InsufficientStock
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.service import place_order
from wms.stock.service import check_stock


def channel_id(code: str) -> int:
    cid = db.session.execute(select(Channel.id).where(Channel.code == code)).scalar_one()
    db.session.rollback()
    return cid


def allocations(order) -> list[list[tuple[str, int, bool]]]:
    """Per line: (location code, qty, needs transfer), in location order."""
    codes = dict(db.session.execute(select(Location.id, Location.code)).all())
    return [sorted((codes[r.location_id], r.qty, r.needs_transfer) for r in line.reservations) for line in order.lines]


@pytest.fixture
def world(any_app):
    """WH1 (priority 10), WH2 (20), ST1 (pickup, does not ship), ST2 (ships): no stock yet."""
    make_world(stock_a=0, stock_b=0)
    return channel_id("WEB")


def place(channel: int, lines, **extra):
    order, created = place_order(channel, order_body(f"O-{len(lines)}-{lines}", lines=lines, **extra))
    assert created
    return order


def test_first_warehouse_by_priority(world):
    add_stock("WH1", "A-01", "A", 5)
    add_stock("WH2", "A-01", "A", 5)
    add_stock("ST2", "S-01", "A", 5)
    assert allocations(place(world, [("A", 3)])) == [[("WH1", 3, False)]]
    # priorities are data: make WH2 first
    make_location("WH2", "warehouse", priority=1)
    assert allocations(place(world, [("A", 2)])) == [[("WH2", 2, False)]]
    assert check_stock() == []


def test_one_location_for_the_whole_order_beats_priority(world):
    add_stock("WH1", "A-01", "A", 5)
    add_stock("WH2", "A-01", "A", 5)
    add_stock("WH2", "A-01", "B", 5)
    # WH1 has A but not B: WH2 ships it all in one parcel
    assert allocations(place(world, [("A", 2), ("B", 1)])) == [[("WH2", 2, False)], [("WH2", 1, False)]]


def test_stores_that_ship_come_after_the_warehouses(world):
    add_stock("ST2", "S-01", "A", 5)
    add_stock("WH2", "A-01", "A", 1)
    assert allocations(place(world, [("A", 1)])) == [[("WH2", 1, False)]]
    assert allocations(place(world, [("A", 2)])) == [[("ST2", 2, False)]]


def test_a_split_uses_as_few_locations_as_possible(world):
    add_stock("WH1", "A-01", "A", 4)
    add_stock("WH2", "A-01", "A", 4)
    add_stock("WH2", "A-01", "B", 2)
    add_stock("ST2", "S-01", "A", 10)
    # A 6 is in no warehouse whole but on ST2's shelf; B only at WH2: two parcels, neither line split
    order = place(world, [("A", 6), ("B", 2)])
    assert allocations(order) == [[("ST2", 6, False)], [("WH2", 2, False)]]
    assert check_stock() == []


def test_a_line_split_over_locations_when_none_holds_it_whole(world):
    add_stock("WH1", "A-01", "A", 3)
    add_stock("WH2", "A-01", "A", 3)
    add_stock("ST2", "S-01", "A", 3)
    assert allocations(place(world, [("A", 8)])) == [[("ST2", 2, False), ("WH1", 3, False), ("WH2", 3, False)]]
    assert check_stock() == []


def test_stores_that_do_not_ship_are_never_used_for_delivery(world):
    add_stock("ST1", "S-01", "A", 50)
    add_stock("WH1", "A-01", "A", 1)
    with pytest.raises(InsufficientStock) as exc:
        place(world, [("A", 2)])
    assert exc.value.details == [{"sku": "A", "requested": 2, "available": 1}]


def test_the_channels_ship_from_list_is_respected(world):
    add_stock("WH1", "A-01", "A", 50)
    add_stock("WH2", "A-01", "A", 2)
    make_channel("MARKET", ship_from=["WH2"])
    market = channel_id("MARKET")
    assert allocations(place(market, [("A", 2)])) == [[("WH2", 2, False)]]
    with pytest.raises(InsufficientStock) as exc:
        place(market, [("A", 1)])  # WH1's 50 are not this channel's to sell
    assert exc.value.details == [{"sku": "A", "requested": 1, "available": 0}]


def test_a_channel_without_a_list_ships_from_every_location_that_ships(world):
    add_stock("ST2", "S-01", "A", 2)
    add_stock("ST1", "S-01", "A", 9)
    make_channel("ALL")
    assert allocations(place(channel_id("ALL"), [("A", 2)])) == [[("ST2", 2, False)]]


def test_warehouses_first_whatever_order_the_channel_lists(world):
    add_stock("WH1", "A-01", "A", 5)
    add_stock("ST2", "S-01", "A", 5)
    make_channel("STORE-FIRST", ship_from=["ST2", "WH1"])
    assert allocations(place(channel_id("STORE-FIRST"), [("A", 1)])) == [[("WH1", 1, False)]]


def test_pickup_from_the_stores_own_shelf(world):
    add_stock("ST1", "S-01", "A", 2)
    add_stock("WH1", "A-01", "A", 10)
    order = place(world, [("A", 2)], fulfilment="pickup", pickup_location="ST1", ship_to=None)
    assert allocations(order) == [[("ST1", 2, False)]]
    assert order.pickup_location_id is not None and order.pickup_code


def test_pickup_by_transfer_when_the_store_lacks_it(world):
    add_stock("ST1", "S-01", "A", 1)
    add_stock("WH2", "A-01", "A", 10)
    add_stock("ST1", "S-01", "B", 3)
    add_stock("WH1", "A-01", "B", 1)
    order = place(world, [("A", 4), ("B", 2)], fulfilment="pickup", pickup_location="ST1")
    # A: the store has 1, WH2 covers it whole; B: on the shelf
    assert allocations(order) == [[("WH2", 4, True)], [("ST1", 2, False)]]
    st1 = db.session.execute(select(Location.id).where(Location.code == "ST1")).scalar_one()
    transfer = next(r for r in order.lines[0].reservations)
    assert transfer.deliver_to_location_id == st1
    assert order.lines[1].reservations[0].deliver_to_location_id is None
    assert check_stock() == []


def test_pickup_ignores_delivery_ship_from(world):
    """Pickup stock is the store's own, topped up from any warehouse: a channel's ship-from list is for parcels."""
    add_stock("WH1", "A-01", "A", 5)
    make_channel("MARKET", ship_from=["ST2"])
    order = place(channel_id("MARKET"), [("A", 1)], fulfilment="pickup", pickup_location="ST1")
    assert allocations(order) == [[("WH1", 1, True)]]


def test_pickup_store_stock_already_reserved_goes_to_a_warehouse(world):
    add_stock("ST1", "S-01", "A", 2)
    add_stock("WH1", "A-01", "A", 5)
    place(world, [("A", 2)], fulfilment="pickup", pickup_location="ST1")
    order = place(world, [("A", 1)], fulfilment="pickup", pickup_location="ST1", customer={"name": "B"})
    assert allocations(order) == [[("WH1", 1, True)]]


def test_pickup_split_between_shelf_and_transfer(world):
    add_stock("ST1", "S-01", "A", 2)
    add_stock("WH1", "A-01", "A", 2)
    order = place(world, [("A", 3)], fulfilment="pickup", pickup_location="ST1")
    assert allocations(order) == [[("ST1", 2, False), ("WH1", 1, True)]]


def test_pickup_short_lists_store_and_warehouses(world):
    add_stock("ST1", "S-01", "A", 1)
    add_stock("WH2", "A-01", "A", 1)
    with pytest.raises(InsufficientStock) as exc:
        place(world, [("A", 3)], fulfilment="pickup", pickup_location="ST1")
    assert exc.value.details == [{"sku": "A", "requested": 3, "available": 2}]


def test_transfer_allocations_show_in_the_api(any_app, world):
    add_stock("WH1", "A-01", "A", 5)
    web = Api(any_app.test_client(), make_channel("SHOP"))
    r = web.post("/api/v1/orders", order_body("P-1", lines=[("A", 1)], fulfilment="pickup", pickup_location="ST1"))
    assert r.status_code == 201, r.json
    assert r.json["lines"][0]["allocations"] == [{"location": "WH1", "qty": 1, "needs_transfer": True}]
