"""The pure rules of counts: the blind next step, what a scan does, the variance threshold, and which reservations
give way when a count finds fewer units than are reserved."""

from __future__ import annotations

from datetime import datetime

import pytest

from wms.errors import InvalidState, ValidationError, WrongBin, WrongLot, WrongProduct
from wms.tasks.count_rules import (
    CountEffect,
    Held,
    Release,
    Threshold,
    Variance,
    applied_units,
    attention_note,
    count_scan,
    joined_attention,
    needs_approval,
    next_step,
    over_threshold,
    release_plan,
    shortfall,
    variances,
)
from wms.tasks.rules import ScanFacts

ITEM_A = ScanFacts("product", "05901234123457", product_id=1, sku="A")
BIN = ScanFacts("bin", "A-01", bin="A-01")
OTHER_BIN = ScanFacts("bin", "A-02", bin="A-02")
DEFAULT = Threshold(5, 10.0)


def test_the_next_step_never_says_how_many():
    assert next_step("A-01", False) == {
        "expect": "bin",
        "prompt": "Scan bin A-01",
        "bin": "A-01",
        "sku": None,
        "qty": None,
    }
    assert next_step("A-01", True) == {
        "expect": "product",
        "prompt": "Scan each item in A-01, then finish",
        "bin": "A-01",
        "sku": None,
        "qty": None,
    }
    assert next_step("A-01", True, waiting=True)["expect"] == "nothing"
    assert next_step(None, False)["expect"] == "nothing"


def test_the_bin_first_then_items():
    assert count_scan("A-01", False, BIN, None) == CountEffect("bin")
    with pytest.raises(WrongBin) as err:
        count_scan("A-01", False, ITEM_A, None)
    assert err.value.details == {"expected": "A-01", "scanned": "A"}
    assert count_scan("A-01", True, ITEM_A, None) == CountEffect("add", 1, "A", "", 1)
    assert count_scan("A-01", True, ITEM_A, 6) == CountEffect("add", 1, "A", "", 6)
    assert count_scan("A-01", True, BIN, None) == CountEffect("bin")  # again: nothing changes


def test_another_bin_is_wrong_bin_before_and_while_counting():
    for started in (False, True):
        with pytest.raises(WrongBin) as err:
            count_scan("A-01", started, OTHER_BIN, None)
        assert err.value.message == "This is bin A-02. Scan bin A-01."
        assert err.value.details == {"expected": "A-01", "scanned": "A-02"}


def test_anything_else_is_wrong_product():
    with pytest.raises(WrongProduct):
        count_scan("A-01", True, ScanFacts("tote", "T-1"), None)


def test_lots():
    with_lot = ScanFacts("product", "x", product_id=1, sku="A", lot="L-1")
    assert count_scan("A-01", True, with_lot, None, track_lots=True).lot == "L-1"
    assert count_scan("A-01", True, with_lot, None, track_lots=False).lot == ""  # not tracked: no lot kept
    with pytest.raises(WrongLot):
        count_scan("A-01", True, ITEM_A, None, track_lots=True)


def test_no_code_or_no_bin():
    with pytest.raises(ValidationError):
        count_scan("A-01", True, None, 3)
    with pytest.raises(InvalidState):
        count_scan(None, True, ITEM_A, None)


def test_variances_take_what_was_not_scanned_as_not_found():
    found = variances({(1, ""): 7, (3, "L"): 2}, {(1, ""): 10, (2, ""): 4})
    assert [(v.product_id, v.lot, v.counted, v.expected, v.units) for v in found] == [
        (1, "", 7, 10, -3),
        (2, "", 0, 4, -4),
        (3, "L", 2, 0, 2),
    ]
    assert found[0].percent == -30.0 and found[2].percent is None


@pytest.mark.parametrize(
    ("counted", "expected", "over"),
    [
        (0, 3, False),  # 3 units: within 5
        (14, 20, True),  # 6 units: over 5 and over 10 % of 20
        (960, 1000, False),  # 40 units: within 10 % of 1,000
        (940, 1000, False),  # 60 units: within 100
        (899, 1000, True),  # 101 units: over both
        (12, 20, True),  # 8 units: over 5 and over 2
        (5, 0, False),  # found where none were booked: 5 is within 5 units
        (6, 0, True),
        (25, 20, False),  # 5 more: within 5 units
    ],
)
def test_over_the_threshold_means_over_both_units_and_percent(counted, expected, over):
    assert over_threshold(Variance(1, "", counted, expected), DEFAULT) is over


def test_a_threshold_of_nothing_sends_every_variance_to_a_manager():
    assert over_threshold(Variance(1, "", 9, 10), Threshold(0, 0)) is True
    assert over_threshold(Variance(1, "", 10, 10), Threshold(0, 0)) is False


def test_needs_approval_when_any_line_is_over():
    assert needs_approval([Variance(1, "", 9, 10), Variance(2, "", 0, 30)], DEFAULT) is True
    assert needs_approval([Variance(1, "", 9, 10)], DEFAULT) is False
    assert needs_approval([], DEFAULT) is False


def test_a_loss_takes_at_most_what_the_bin_holds():
    assert applied_units(-8, 5) == -5
    assert applied_units(-3, 5) == -3
    assert applied_units(4, 0) == 4


def test_shortfall():
    assert shortfall(on_hand=10, reserved=8, change=-6) == 4
    assert shortfall(on_hand=10, reserved=8, change=-2) == 0
    assert shortfall(on_hand=10, reserved=8, change=3) == 0


def test_the_newest_orders_give_way_first():
    day = datetime(2026, 1, 1)
    held = [
        Held(11, 1, day.replace(hour=8), 5),
        Held(12, 2, day.replace(hour=9), 3),
        Held(13, 3, day.replace(hour=10), 1),
    ]
    assert release_plan(4, held) == [Release(13, 3, 1), Release(12, 2, 3)]
    assert release_plan(6, held) == [Release(13, 3, 1), Release(12, 2, 3), Release(11, 1, 2)]
    assert release_plan(0, held) == []
    assert sum(r.qty for r in release_plan(20, held)) == 9  # all there is: the caller refuses the rest


def test_the_orders_attention_says_why_once():
    note = attention_note("WH1/A-01", {"B": 1, "A": 2})
    assert note == "Count of WH1/A-01 found fewer units: 2 x A, 1 x B no longer reserved"
    assert joined_attention(None, note) == note
    assert joined_attention("Short pick", note) == f"Short pick; {note}"
    assert joined_attention(note, note) == note
    assert len(joined_attention("x" * 499, note)) == 500
