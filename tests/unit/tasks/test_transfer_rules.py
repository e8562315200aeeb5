"""Receiving a transfer: the label first, then its items (over units taken, strangers refused)."""

from __future__ import annotations

import pytest

from wms.errors import InvalidState, ValidationError, WrongLot, WrongProduct, WrongTote
from wms.tasks.rules import LineState, ScanFacts
from wms.tasks.transfer_rules import Dock, ReceiveEffect, is_label, receive_next, receive_scan

DOCK = Dock(transfer_id=7, order_id=40, parcels=("000000000000000017", "TEST123"), checked=False)
OPEN = Dock(7, 40, DOCK.parcels, checked=True)
LINES = [
    LineState(1, product_id=1, sku="A", qty=3, done=0, bin="DOCK"),
    LineState(2, product_id=2, sku="L", qty=2, done=0, bin="DOCK", lot="L1"),
]


def product(pid: int, sku: str, lot: str | None = None) -> ScanFacts:
    return ScanFacts("product", sku, product_id=pid, sku=sku, lot=lot)


def test_the_label_comes_first_by_order_sscc_or_tracking():
    assert receive_next(DOCK, LINES)["expect"] == "order"
    assert is_label(DOCK, ScanFacts("order", "40", order_id=40))
    assert is_label(DOCK, ScanFacts("sscc", "000000000000000017"))
    assert is_label(DOCK, ScanFacts("plain", "TEST123"))
    assert not is_label(DOCK, ScanFacts("order", "41", order_id=41))
    assert receive_scan(DOCK, LINES, ScanFacts("sscc", "000000000000000017"), None) == ReceiveEffect("label")
    with pytest.raises(WrongTote):
        receive_scan(DOCK, LINES, product(1, "A"), None)


def test_items_in_any_order_over_units_taken_beyond_what_was_shipped():
    step = receive_next(OPEN, LINES)
    assert step["expect"] == "product" and step["prompt"] == "Scan the items of transfer 7: 5 left"
    assert receive_scan(OPEN, LINES, product(2, "L", "L1"), None) == ReceiveEffect("receive", 2, 1, 0)
    assert receive_scan(OPEN, LINES, product(1, "A"), 5) == ReceiveEffect("receive", 1, 3, 2)
    a_in = [LineState(1, product_id=1, sku="A", qty=3, done=3), LINES[1]]
    assert receive_scan(OPEN, a_in, product(1, "A"), None) == ReceiveEffect("receive", 1, 0, 1)


def test_strangers_are_refused():
    with pytest.raises(WrongProduct):
        receive_scan(OPEN, LINES, product(9, "Z"), None)
    with pytest.raises(WrongProduct):
        receive_scan(OPEN, LINES, ScanFacts("bin", "S-01", bin="S-01"), None)
    with pytest.raises(WrongLot):
        receive_scan(OPEN, LINES, product(2, "L", "L9"), None)
    with pytest.raises(ValidationError):
        receive_scan(OPEN, LINES, None, 2)


def test_nothing_left_when_every_unit_is_in():
    done = [LineState(1, product_id=1, sku="A", qty=3, done=3)]
    assert receive_next(OPEN, done)["expect"] == "nothing"
    with pytest.raises(InvalidState):
        receive_scan(OPEN, done, product(1, "A"), None)
