"""The pure rules of packing: the tote or order first, then every unit checked once; wrong, extra and missing items."""

from __future__ import annotations

import pytest

from wms.errors import InvalidState, OverQuantity, WrongLot, WrongProduct, WrongTote
from wms.tasks.pack_rules import Bench, check, confirm, first_step, missing, missing_message, next_step
from wms.tasks.rules import LineState, ScanFacts

ITEM_A = ScanFacts("product", "05901234123457", product_id=1, sku="A")
ITEM_B = ScanFacts("product", "05901234123458", product_id=2, sku="B")
ITEM_C = ScanFacts("product", "05901234123459", product_id=3, sku="C")
TOTE = Bench(order_id=12, tote="T-0001")
READY = Bench(order_id=12, tote="T-0001", confirmed=True)
LINES = [LineState(1, 1, "A", 3, 0, order=12), LineState(2, 2, "B", 1, 0, order=12)]


def order_scan(order_id: int) -> ScanFacts:
    return ScanFacts("order", str(order_id), order_id=order_id)


def tote_scan(code: str) -> ScanFacts:
    return ScanFacts("tote", code)


def lot_of(item: ScanFacts, lot: str) -> ScanFacts:
    return ScanFacts(item.kind, item.value, product_id=item.product_id, sku=item.sku, lot=lot)


# --- the tote or order first ----------------------------------------------------------------------------------


def test_a_fresh_pack_task_asks_for_its_tote_or_order():
    assert next_step(TOTE, LINES) == {
        "expect": "tote",
        "prompt": "Scan tote T-0001 or order 12",
        "bin": None,
        "sku": None,
        "qty": None,
    }


def test_without_a_tote_the_order_is_asked_for():
    step = first_step(Bench(order_id=12))
    assert (step["expect"], step["prompt"]) == ("order", "Scan order 12")


@pytest.mark.parametrize("scan", [tote_scan("T-0001"), order_scan(12), ScanFacts("pickup", "ACDE", order_id=12)])
def test_the_tote_or_the_order_confirms(scan):
    assert confirm(TOTE, scan)


def test_another_tote_is_wrong_tote_naming_both():
    with pytest.raises(WrongTote) as err:
        confirm(TOTE, tote_scan("T-0002"))
    assert err.value.details == {"expected": "T-0001", "scanned": "T-0002"}
    assert err.value.message == "This is tote T-0002. Scan tote T-0001 or order 12."


def test_another_order_is_wrong_tote_too():
    with pytest.raises(WrongTote) as err:
        confirm(TOTE, order_scan(13))
    assert err.value.details == {"expected": "T-0001", "scanned": "13"}
    with pytest.raises(WrongTote) as err:
        confirm(Bench(order_id=12), order_scan(13))
    assert err.value.details == {"expected": "12", "scanned": "13"}
    assert err.value.message == "This is order 13. Scan order 12."


def test_an_item_before_the_tote_is_wrong_tote():
    with pytest.raises(WrongTote) as err:
        confirm(TOTE, ITEM_A)
    assert err.value.details == {"expected": "T-0001", "scanned": "A"}


def test_a_tote_scan_does_not_confirm_an_order_without_a_tote():
    with pytest.raises(WrongTote):
        confirm(Bench(order_id=12), tote_scan("T-0001"))


# --- checking the items ---------------------------------------------------------------------------------------


def test_once_confirmed_the_items_are_asked_for_line_by_line():
    assert next_step(READY, LINES) == {
        "expect": "product",
        "prompt": "Check 3 x A (0 of 3)",
        "bin": None,
        "sku": "A",
        "qty": 3,
    }
    partly = [LineState(1, 1, "A", 3, 1), LINES[1]]
    assert next_step(READY, partly)["prompt"] == "Check 2 x A (1 of 3)"
    assert next_step(READY, [LineState(1, 1, "A", 3, 3), LINES[1]])["sku"] == "B"


def test_all_checked_is_nothing_left_even_unconfirmed():
    done = [LineState(1, 1, "A", 3, 3), LineState(2, 2, "B", 1, 1)]
    assert next_step(READY, done)["expect"] == "nothing"
    assert next_step(TOTE, done)["expect"] == "nothing"


def test_a_scan_checks_one_unit_a_typed_qty_that_many():
    one = check(READY, LINES, ITEM_A)
    assert one.units == ((1, 1),) and one.message == "1 x A checked (1 of 3)"
    assert check(READY, LINES, ITEM_A, 3).units == ((1, 3),)
    # B out of line order is fine: the packer scans what comes out of the tote
    assert check(READY, LINES, ITEM_B).units == ((2, 1),)


def test_an_item_not_in_the_order_is_wrong_product():
    with pytest.raises(WrongProduct) as err:
        check(READY, LINES, ITEM_C)
    assert err.value.details == {"expected": "A", "scanned": "C"}
    assert "not in order 12" in err.value.message


def test_a_bin_or_tote_while_checking_is_wrong_product():
    with pytest.raises(WrongProduct):
        check(READY, LINES, ScanFacts("bin", "A-01", bin="A-01"))
    with pytest.raises(WrongProduct):
        check(READY, LINES, tote_scan("T-0001"))


def test_an_extra_item_is_over_quantity():
    checked = [LineState(1, 1, "A", 3, 3), LINES[1]]
    with pytest.raises(OverQuantity) as err:
        check(READY, checked, ITEM_A)
    assert err.value.details == {"expected": 0, "scanned": 1}
    assert "extra" in err.value.message
    with pytest.raises(OverQuantity) as err:
        check(READY, LINES, ITEM_A, 4)
    assert err.value.details == {"expected": 3, "scanned": 4}


def test_a_lot_must_be_the_one_picked():
    lots = [LineState(1, 1, "A", 2, 0, lot="L1"), LineState(2, 1, "A", 1, 0, lot="L2")]
    with pytest.raises(WrongLot) as err:
        check(READY, lots, lot_of(ITEM_A, "L9"))
    assert err.value.details == {"expected": "L1", "scanned": "L9"}
    assert check(READY, lots, lot_of(ITEM_A, "L2")).units == ((2, 1),)
    # without a lot in the scan the units go to the lines in order, across lots
    assert check(READY, lots, ITEM_A, 3).units == ((1, 2), (2, 1))


def test_a_line_without_a_lot_takes_any_lot():
    assert check(READY, LINES, lot_of(ITEM_A, "L1")).units == ((1, 1),)


def test_a_done_task_takes_no_scan():
    with pytest.raises(InvalidState):
        check(READY, [LineState(1, 1, "A", 1, 1)], ITEM_A)


def test_missing_names_every_unit_not_checked():
    gaps = missing([LineState(1, 1, "A", 3, 1), LineState(2, 2, "B", 1, 1), LineState(3, 3, "C", 2, 0, lot="L1")])
    assert gaps == [
        {"line": 1, "sku": "A", "lot": None, "missing": 2},
        {"line": 3, "sku": "C", "lot": "L1", "missing": 2},
    ]
    assert "not checked yet 2 x A, 2 x C" in missing_message(12, gaps)
    assert missing([LineState(1, 1, "A", 1, 1)]) == []
