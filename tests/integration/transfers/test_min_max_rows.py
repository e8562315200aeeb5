"""The min/max rules with where each product stands, read on both databases: by location and sku, a rule with no
stock level at its location at zero, what replenishment transfers still bring counted in."""

from __future__ import annotations

import pytest

from tests.factories import make_product
from tests.integration.transfers.transfer_floor import make_transfer_floor, pickup_order
from wms.transfers.replenishment import min_max_rows, set_min_max, suggestions
from wms.transfers.service import create_transfer


@pytest.fixture
def floor(any_app, monkeypatch):
    return make_transfer_floor(monkeypatch)


def test_rules_by_location_and_sku_with_what_they_have_and_what_is_coming(floor):
    make_product("0-FIRST")
    set_min_max("ST2", "B", 2, 6)
    set_min_max("ST1", "B", 1, 4)
    set_min_max("ST1", "A", 4, 10)
    set_min_max("ST1", "0-FIRST", 0, 1)  # no level at ST1 at all
    create_transfer("WH1", "ST1", [{"sku": "A", "qty": 3}])
    pickup_order(floor, "WEB-1", [("B", 1)], store="ST2")
    rows = min_max_rows()
    assert [(r["location"], r["sku"]) for r in rows] == [("ST1", "0-FIRST"), ("ST1", "A"), ("ST1", "B"), ("ST2", "B")]
    first, a, b1, b2 = rows
    assert first == {
        "location": "ST1",
        "sku": "0-FIRST",
        "name": "Product 0-FIRST",
        "min": 0,
        "max": 1,
        "available": 0,
        "incoming": 0,
        "projected": 0,
        "below": False,
    }
    assert (a["available"], a["incoming"], a["projected"], a["below"], a["name"]) == (0, 3, 3, True, "Product A")
    assert (b1["available"], b1["incoming"], b1["below"]) == (0, 0, True)
    assert (b2["available"], b2["incoming"], b2["below"]) == (2, 0, False)  # 3 on the shelf, 1 reserved
    assert min_max_rows("ST2") == [b2]
    assert [(s.location, s.sku, s.qty) for s in suggestions(rows=rows)] == [("ST1", "A", 7), ("ST1", "B", 4)]
