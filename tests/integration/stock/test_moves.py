"""Moves between bins of one location: sellable <-> non-sellable bins change on-hand sellable (never below
what is reserved), pick <-> bulk does not; lots and statuses travel; bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import add_stock, level, make_product, make_world, order_body, stock_snapshot
from wms.channels.models import Channel
from wms.errors import InsufficientStock, ValidationError
from wms.extensions import db
from wms.orders.service import place_order
from wms.stock.models import StockMovement
from wms.stock.service import adjust, check_stock, move, stock_items


def bins(sku: str, location: str = "WH1") -> dict[str, int]:
    return {i["bin"]: i["qty"] for i in stock_items(sku, location)}


@pytest.fixture
def web(any_app) -> int:
    make_world(stock_a=10, stock_b=0)
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    db.session.rollback()
    return channel_id


@pytest.mark.parametrize("target", ["STAGE", "DOCK"])
def test_out_of_and_back_into_sellable_bins(web, target):
    move("WH1", "A-01", target, "A", 4)
    assert level("A", "WH1") == (6, 0)
    assert bins("A") == {"A-01": 6, target: 4}
    move("WH1", target, "B-01", "A", 4)
    assert level("A", "WH1") == (10, 0)
    assert bins("A") == {"A-01": 6, "B-01": 4}
    assert check_stock() == []


def test_pick_to_bulk_keeps_on_hand_sellable(web):
    ledger_before = db.session.execute(select(StockMovement.id)).all()
    move("WH1", "A-01", "B-01", "A", 10)
    assert level("A", "WH1") == (10, 0)
    assert len(db.session.execute(select(StockMovement.id)).all()) == len(ledger_before) + 1
    assert check_stock() == []


def test_reserved_units_stay_in_sellable_bins(web):
    place_order(web, order_body("WEB-1", lines=[("A", 8)]))
    before = stock_snapshot()
    with pytest.raises(InsufficientStock) as exc:
        move("WH1", "A-01", "STAGE", "A", 3)
    assert exc.value.details[0]["available"] == 2
    assert stock_snapshot() == before
    move("WH1", "A-01", "STAGE", "A", 2)
    move("WH1", "A-01", "B-01", "A", 8)  # within sellable bins: fine whatever is reserved
    assert level("A", "WH1") == (8, 8)
    assert check_stock() == []


def test_more_than_the_bin_holds(web):
    add_stock("WH1", "DOCK", "A", 2)
    before = stock_snapshot()
    with pytest.raises(InsufficientStock):
        move("WH1", "DOCK", "A-01", "A", 3)
    with pytest.raises(InsufficientStock):
        move("WH1", "A-02", "A-01", "A", 1)
    assert stock_snapshot() == before


def test_lots_travel_with_their_units(web):
    make_product("MILK", track_lots=True)
    add_stock("WH1", "DOCK", "MILK", 5, lot="L1")
    add_stock("WH1", "DOCK", "MILK", 5, lot="L2")
    move("WH1", "DOCK", "A-02", "MILK", 3, lot="L2")
    assert level("MILK", "WH1") == (3, 0)
    assert {(i["bin"], i["lot"]): i["qty"] for i in stock_items("MILK")} == {
        ("A-02", "L2"): 3,
        ("DOCK", "L1"): 5,
        ("DOCK", "L2"): 2,
    }
    with pytest.raises(InsufficientStock):
        move("WH1", "A-02", "B-01", "MILK", 1, lot="L1")
    assert check_stock() == []


def test_damaged_units_move_as_damaged(web):
    adjust("WH1", "DOCK", "A", 2, "arrived broken", status="damaged")
    move("WH1", "DOCK", "A-02", "A", 2, status="damaged")
    assert level("A", "WH1") == (10, 0)  # damaged in a pick bin is still not sellable
    assert check_stock() == []


def test_bad_input_changes_nothing(web):
    make_product("MILK", track_lots=True)
    add_stock("WH1", "A-01", "MILK", 2, lot="L1")
    before = stock_snapshot()
    for args, fields in (
        (("NOPE", "A-01", "B-01", "A", 1), ["location"]),
        (("WH1", "NOPE", "B-01", "A", 1), ["bin"]),
        (("WH1", "A-01", "NOPE", "A", 1), ["to_bin"]),
        (("WH1", "A-01", "S-01", "A", 1), ["to_bin"]),  # a bin of another location
        (("WH1", "A-01", "B-01", "NOPE", 1), ["sku"]),
        (("WH1", "A-01", "B-01", "A", 0), ["qty"]),
        (("WH1", "A-01", "A-01", "A", -1), ["qty", "to_bin"]),
        (("WH1", "A-01", "B-01", "MILK", 1), ["lot"]),
    ):
        with pytest.raises(ValidationError) as exc:
            move(*args)
        assert [e["field"] for e in exc.value.details] == fields, (args, exc.value.details)
    assert stock_snapshot() == before
