"""Adjustments: a ledger row with a reason; never below zero in the bin, never on-hand sellable below what is
reserved; statuses other than sellable do not count as sellable; bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import level, make_product, make_world, order_body, stock_snapshot
from wms.channels.models import Channel
from wms.errors import InsufficientStock, ValidationError
from wms.extensions import db
from wms.orders.service import place_order
from wms.stock.models import StockMovement
from wms.stock.service import adjust, check_stock


@pytest.fixture
def web(any_app) -> int:
    """WH1/A-01 holds 10 A; returns the WEB channel's id."""
    make_world(stock_a=10, stock_b=0)
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    db.session.rollback()
    return channel_id


def test_adjustment_writes_a_ledger_row_with_its_reason(web):
    result = adjust("WH1", "A-01", "A", 3, "found behind the shelf", actor="alice", device="hh-7")
    assert result["delta"] == 3 and result["movement"]["reason"] == "adjustment"
    row = db.session.execute(select(StockMovement).order_by(StockMovement.id.desc()).limit(1)).scalar_one()
    assert (row.qty, row.from_bin_id, row.note, row.actor, row.device) == (
        3,
        None,
        "found behind the shelf",
        "alice",
        "hh-7",
    )
    adjust("WH1", "A-01", "A", -5, "broken")
    row = db.session.execute(select(StockMovement).order_by(StockMovement.id.desc()).limit(1)).scalar_one()
    assert (row.qty, row.to_bin_id, row.from_status) == (5, None, "sellable")
    assert level("A", "WH1") == (8, 0)
    assert check_stock() == []


def test_a_new_bin_and_location_get_a_level(web):
    adjust("WH2", "A-01", "B", 4, "initial count")
    assert level("B", "WH2") == (4, 0)
    assert check_stock() == []


def test_never_below_zero_nor_below_reserved(web):
    place_order(web, order_body("WEB-1", lines=[("A", 7)]))
    assert level("A", "WH1") == (10, 7)
    before = stock_snapshot()
    with pytest.raises(InsufficientStock) as exc:
        adjust("WH1", "A-01", "A", -4, "lost")  # 10 on hand, 7 reserved: only 3 are free
    assert exc.value.details == [{"sku": "A", "requested": 4, "available": 3, "reserved": 7}]
    with pytest.raises(InsufficientStock):
        adjust("WH1", "A-02", "A", -1, "lost")  # the bin holds none
    with pytest.raises(InsufficientStock):
        adjust("WH1", "A-01", "A", -11, "lost")
    assert stock_snapshot() == before
    adjust("WH1", "A-01", "A", -3, "lost")
    assert level("A", "WH1") == (7, 7)
    with pytest.raises(InsufficientStock):
        adjust("WH1", "A-01", "A", -1, "lost")
    assert check_stock() == []


def test_a_second_sellable_bin_cannot_hide_the_reservation(web):
    """Reserved is per location: units in another sellable bin of the location count as on hand, so this may go."""
    adjust("WH1", "B-01", "A", 2, "found")
    place_order(web, order_body("WEB-1", lines=[("A", 10)]))
    adjust("WH1", "A-01", "A", -2, "lost")
    assert level("A", "WH1") == (10, 10)
    with pytest.raises(InsufficientStock):
        adjust("WH1", "B-01", "A", -1, "lost")
    assert check_stock() == []


@pytest.mark.parametrize("status", ["damaged", "quarantine"])
def test_other_statuses_are_not_sellable(web, status):
    place_order(web, order_body("WEB-1", lines=[("A", 10)]))
    adjust("WH1", "A-01", "A", 2, "dropped", status=status)
    assert level("A", "WH1") == (10, 10)
    # written off whatever is reserved: they were never sellable
    adjust("WH1", "A-01", "A", -2, "scrapped", status=status)
    with pytest.raises(InsufficientStock):
        adjust("WH1", "A-01", "A", -1, "scrapped", status=status)
    assert level("A", "WH1") == (10, 10)
    assert check_stock() == []


def test_into_a_non_sellable_bin(web):
    adjust("WH1", "STAGE", "A", 5, "found")
    assert level("A", "WH1") == (10, 0)
    adjust("WH1", "STAGE", "A", -5, "lost")
    assert check_stock() == []


def test_bad_input_changes_nothing(web):
    make_product("MILK", track_lots=True)
    before = stock_snapshot()
    for args, field in (
        (("NOPE", "A-01", "A", 1), "location"),
        (("WH1", "NOPE", "A", 1), "bin"),
        (("WH1", "A-01", "NOPE", 1), "sku"),
        (("WH1", "A-01", "A", 0), "delta"),
        (("WH1", "A-01", "MILK", 1), "lot"),
    ):
        with pytest.raises(ValidationError) as exc:
            adjust(*args, reason="x")
        assert exc.value.details[0]["field"] == field, (args, exc.value.details)
    assert stock_snapshot() == before


def test_lot_tracked(web):
    make_product("MILK", track_lots=True)
    adjust("WH1", "A-01", "MILK", 4, "count", lot="L1")
    adjust("WH1", "A-01", "MILK", 1, "count", lot="L2")
    with pytest.raises(InsufficientStock):
        adjust("WH1", "A-01", "MILK", -2, "count", lot="L2")
    adjust("WH1", "A-01", "MILK", -3, "count", lot="L1")
    assert level("MILK", "WH1") == (2, 0)
    assert check_stock() == []
