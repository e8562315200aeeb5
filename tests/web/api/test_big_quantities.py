"""Quantities that sums make grow are 64-bit: three receipts of 1,000 lines x 1,000,000 units of one product
(each line within the 1,000,000 a line may carry) put 3,000,000,000 units in a bin, past a 32-bit counter."""

from __future__ import annotations

import pytest

from tests.factories import Api, level, make_world
from wms.stock.service import check_stock

MILLION = 1_000_000


@pytest.fixture
def api(any_app):
    world = make_world(stock_a=0, stock_b=0)
    return Api(any_app.test_client(), world.integration)


def receipt(reference: str) -> dict:
    return {"reference": reference, "location": "WH1", "bin": "A-01", "lines": [{"sku": "A", "qty": MILLION}] * 1000}


def test_three_receipts_of_a_billion_units_each_fit(api):
    for n in range(1, 4):
        r = api.post("/api/v1/receipts", receipt(f"BIG-{n}"))
        assert r.status_code == 201, (n, r.status_code, r.get_data(as_text=True)[:300])
    assert level("A", "WH1") == (3 * 1000 * MILLION, 0)
    r = api.get("/api/v1/stock?sku=A&location=WH1")
    assert sum(item["qty"] for item in r.json["items"]) == 3 * 1000 * MILLION
    assert check_stock() == []


def test_a_line_over_a_million_units_is_refused(api):
    body = receipt("TOO-BIG")
    body["lines"] = [{"sku": "A", "qty": MILLION + 1}]
    r = api.post("/api/v1/receipts", body)
    assert r.status_code == 422
    assert r.json["error"]["details"][0]["field"] == "lines[0].qty"
    assert level("A", "WH1") == (0, 0)


@pytest.mark.parametrize("delta", [MILLION + 1, -MILLION - 1, 2**63, -(2**63) - 1])
def test_an_adjustment_past_a_million_units_is_refused(api, delta):
    body = {"location": "WH1", "bin": "A-01", "sku": "A", "delta": delta, "reason": "count"}
    r = api.post("/api/v1/adjustments", body)
    assert r.status_code == 422
    assert r.json["error"]["details"][0]["field"] == "delta"


def test_an_order_line_past_a_million_units_is_refused(any_app):
    from tests.factories import order_body

    world = make_world(stock_a=5, stock_b=0)
    shop = Api(any_app.test_client(), world.web)
    r = shop.post("/api/v1/orders", order_body(lines=[("A", MILLION + 1)]))
    assert r.status_code == 422
    assert r.json["error"]["details"][0]["field"] == "lines[0].qty"
