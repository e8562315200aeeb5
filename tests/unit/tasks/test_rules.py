"""The pure rules of tasks: what a put-away asks for next, what a scan does to it, where stock is put away."""

from __future__ import annotations

import pytest

from wms.errors import InvalidState, OverQuantity, WrongBin, WrongLot, WrongProduct
from wms.tasks.rules import BinCandidate, LineState, ScanFacts, next_step, putaway_scan, suggest_bin

ITEM_A = ScanFacts("product", "05901234123457", product_id=1, sku="A")
ITEM_B = ScanFacts("product", "05901234123458", product_id=2, sku="B")


def bin_scan(code: str) -> ScanFacts:
    return ScanFacts("bin", code, bin=code)


def lines(*states: LineState) -> list[LineState]:
    return list(states)


FRESH = lines(LineState(1, 1, "A", 3, 0), LineState(2, 2, "B", 1, 0))
NAMED = lines(LineState(1, 1, "A", 3, 0, bin="A-01-1", item_scanned=True), LineState(2, 2, "B", 1, 0))


def test_a_fresh_putaway_asks_for_the_first_item():
    assert next_step("putaway", FRESH) == {
        "expect": "product",
        "prompt": "Scan item A",
        "bin": None,
        "sku": "A",
        "qty": 3,
    }


def test_after_the_item_the_named_bin_is_expected():
    step = next_step("putaway", NAMED)
    assert (step["expect"], step["bin"], step["qty"]) == ("bin", "A-01-1", 3)
    assert step["prompt"].endswith("scan bin A-01-1")


def test_a_kind_without_rules_yet_still_has_a_next_step():
    assert next_step("pick", FRESH)["expect"] == "nothing"


def test_nothing_left_expects_nothing():
    assert next_step("putaway", lines(LineState(1, 1, "A", 3, 3)))["expect"] == "nothing"


def test_scanning_any_item_of_the_delivery_takes_its_line():
    assert putaway_scan(FRESH, ITEM_B).line_no == 2
    assert putaway_scan(FRESH, ITEM_A).action == "item"


def test_an_item_not_in_the_delivery_is_the_wrong_product():
    with pytest.raises(WrongProduct) as err:
        putaway_scan(FRESH, ScanFacts("product", "x", product_id=9, sku="Z"))
    assert err.value.details == {"expected": "A", "scanned": "Z"}
    assert err.value.message == "This is item Z. Scan an item of this delivery: A, B."


def test_a_bin_where_an_item_is_expected_is_the_wrong_product():
    with pytest.raises(WrongProduct):
        putaway_scan(FRESH, bin_scan("A-01-1"))


def test_another_lot_is_the_wrong_lot():
    with_lot = lines(LineState(1, 1, "A", 3, 0, lot="L1"))
    with pytest.raises(WrongLot) as err:
        putaway_scan(with_lot, ScanFacts("product", "x", product_id=1, sku="A", lot="L2"))
    assert err.value.details == {"expected": "L1", "scanned": "L2"}
    assert putaway_scan(with_lot, ScanFacts("product", "x", product_id=1, sku="A", lot="L1")).line_no == 1


def test_the_named_bin_places_every_unit_left():
    effect = putaway_scan(NAMED, bin_scan("A-01-1"))
    assert (effect.action, effect.line_no, effect.qty) == ("place", 1, 3)
    assert putaway_scan(NAMED, bin_scan("A-01-1"), qty=2).qty == 2


def test_another_bin_is_the_wrong_bin_and_says_which():
    with pytest.raises(WrongBin) as err:
        putaway_scan(NAMED, bin_scan("A-01-2"))
    assert err.value.message == "This is bin A-01-2. Scan bin A-01-1."
    assert err.value.details == {"expected": "A-01-1", "scanned": "A-01-2"}
    assert err.value.code == "wrong_bin" and err.value.status == 422


def test_an_item_where_the_bin_is_expected_is_the_wrong_bin():
    with pytest.raises(WrongBin) as err:
        putaway_scan(NAMED, ITEM_A)
    assert err.value.message == "This is item A. Scan bin A-01-1."


def test_more_than_is_left_is_over_quantity():
    with pytest.raises(OverQuantity) as err:
        putaway_scan(NAMED, bin_scan("A-01-1"), qty=4)
    assert err.value.details == {"expected": 3, "scanned": 4}


def test_a_done_putaway_takes_no_scan():
    with pytest.raises(InvalidState):
        putaway_scan(lines(LineState(1, 1, "A", 1, 1)), ITEM_A)


def test_suggest_the_bin_that_holds_the_product():
    bins = [
        BinCandidate("A-01-1", "pick", 1, empty=True),
        BinCandidate("B-01", "bulk", 5, holds_product=True),
        BinCandidate("A-01-2", "pick", 2, holds_product=True),
    ]
    assert suggest_bin(bins) == "A-01-2"


def test_else_the_first_empty_pick_bin_in_walk_order():
    bins = [
        BinCandidate("A-01-3", "pick", 3, empty=True),
        BinCandidate("A-01-1", "pick", 1),
        BinCandidate("A-01-2", "pick", 2, empty=True),
        BinCandidate("B-01", "bulk", 0, empty=True),
        BinCandidate("DOCK", "dock", 0, holds_product=True),
    ]
    assert suggest_bin(bins) == "A-01-2"


def test_no_bin_to_suggest():
    assert suggest_bin([BinCandidate("A-01-1", "pick", 1), BinCandidate("D", "dock", 0, empty=True)]) is None
