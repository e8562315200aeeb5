"""The pure rules of a pick task: tote once per order, bin, item, units; every wrong scan names what was expected."""

from __future__ import annotations

import pytest

from wms.errors import InvalidState, OverQuantity, ValidationError, WrongBin, WrongLot, WrongProduct, WrongTote
from wms.tasks.pick_rules import current_pick_line, pick_next, pick_scan, short_effect
from wms.tasks.rules import LineState, ScanFacts


def line(no: int = 1, sku: str = "A", qty: int = 1, done: int = 0, **kw) -> LineState:
    defaults = {"product_id": ord(sku[0]), "bin": "A-01", "order": 12, "tote": None}
    return LineState(line_no=no, sku=sku, qty=qty, done=done, **(defaults | kw))


BIN_A01 = ScanFacts("bin", "A-01", bin="A-01")
ITEM_A = ScanFacts("product", "5901", product_id=ord("A"), sku="A")
TOTE = ScanFacts("tote", "T-0001")


def test_a_tote_first_then_the_bin_then_the_item():
    fresh = [line()]
    assert pick_next(fresh)["expect"] == "tote"
    assert pick_next(fresh)["prompt"] == "Scan a tote for order 12"
    with_tote = [line(tote="T-0001")]
    assert pick_next(with_tote)["expect"] == "bin" and pick_next(with_tote)["prompt"] == "Scan bin A-01"
    at_bin = [line(tote="T-0001", bin_scanned=True)]
    assert pick_next(at_bin)["expect"] == "product"
    assert pick_next(at_bin)["prompt"] == "Scan item A"


def test_the_tote_is_asked_once_per_order():
    lines = [line(1, tote="T-1", done=1), line(2, "B", order=12, tote="T-1"), line(3, "C", order=13)]
    assert pick_next(lines)["expect"] == "bin"  # order 12 has its tote
    lines = [line(1, tote="T-1", done=1), line(2, "B", tote="T-1", done=1), line(3, "C", order=13)]
    assert pick_next(lines)["expect"] == "tote" and pick_next(lines)["order"] == 13


def test_a_one_unit_line_takes_one_item_scan_and_no_tap():
    effect = pick_scan([line(tote="T-1", bin_scanned=True)], ITEM_A, None, {})
    assert (effect.action, effect.qty) == ("pick", 1)


def test_a_line_of_several_units_takes_scans_or_a_typed_number():
    lines = [line(qty=3, tote="T-1", bin_scanned=True)]
    assert pick_next(lines)["prompt"] == "Scan item 3 x A"
    assert pick_scan(lines, ITEM_A, 3, {}).qty == 3  # one scan with the number typed
    after_one = [line(qty=3, done=1, tote="T-1", bin_scanned=True)]
    assert pick_next(after_one)["expect"] == "qty"
    assert pick_scan(after_one, None, 2, {}).qty == 2  # the number alone
    assert pick_scan(after_one, ITEM_A, None, {}).qty == 1  # or one more scan
    with pytest.raises(OverQuantity) as err:
        pick_scan(after_one, None, 3, {})
    assert err.value.details == {"expected": 2, "scanned": 3}


def test_a_typed_number_needs_a_scan_where_a_code_is_expected():
    with pytest.raises(ValidationError):
        pick_scan([line(tote="T-1")], None, 1, {})


def test_wrong_bin_wrong_item_wrong_tote_say_what_was_expected():
    with pytest.raises(WrongBin) as err:
        pick_scan([line(tote="T-1")], ScanFacts("bin", "A-02", bin="A-02"), None, {})
    assert str(err.value.message) == "This is bin A-02. Scan bin A-01."
    assert err.value.details == {"expected": "A-01", "scanned": "A-02"}
    with pytest.raises(WrongBin):
        pick_scan([line(tote="T-1")], ITEM_A, None, {})  # the item before its bin
    with pytest.raises(WrongProduct) as err:
        pick_scan([line(tote="T-1", bin_scanned=True)], ScanFacts("product", "x", product_id=2, sku="B"), None, {})
    assert err.value.details == {"expected": "A", "scanned": "B"}
    with pytest.raises(WrongTote):
        pick_scan([line()], BIN_A01, None, {})
    with pytest.raises(WrongTote) as err:
        pick_scan([line()], TOTE, None, {"T-0001": 99})
    assert "holds order 99" in err.value.message
    assert pick_scan([line()], TOTE, None, {"T-0001": 12}).tote == "T-0001"  # its own tote again is fine


def test_a_lot_line_takes_its_lot_only():
    lot_line = [line(tote="T-1", bin_scanned=True, lot="L1")]
    right = ScanFacts("product", "gs1", product_id=ord("A"), sku="A", lot="L1")
    assert pick_scan(lot_line, right, None, {}).qty == 1
    with pytest.raises(WrongLot) as err:
        pick_scan(lot_line, ScanFacts("product", "gs1", product_id=ord("A"), sku="A", lot="L2"), None, {})
    assert err.value.details == {"expected": "L1", "scanned": "L2"}
    with pytest.raises(WrongLot):
        pick_scan(lot_line, ITEM_A, None, {})  # a plain GTIN carries no lot


def test_short_picks():
    lines = [line(qty=5, tote="T-1", bin_scanned=True)]
    picked_line, now, missing = short_effect(lines, 2)
    assert (picked_line.line_no, now, missing) == (1, 2, 3)
    with pytest.raises(ValidationError):
        short_effect(lines, 5)
    with pytest.raises(InvalidState):
        short_effect([line(qty=5)], 1)  # units found but no tote yet
    assert short_effect([line(qty=5)], 0)[2] == 5  # nothing found: no tote needed
    with pytest.raises(InvalidState):
        short_effect([line(done=1)], 0)


def test_the_line_being_worked_and_a_finished_task():
    lines = [line(1, done=1), line(2, "B", short=1), line(3, "C", bin_scanned=False), line(4, "D", bin_scanned=True)]
    assert current_pick_line(lines).line_no == 4
    assert pick_next([line(done=1)])["expect"] == "nothing"
    with pytest.raises(InvalidState):
        pick_scan([line(done=1)], ITEM_A, None, {})
