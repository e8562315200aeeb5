"""The demo's data, without a database: realistic, valid, and every planned order fits the planned stock."""

from collections import defaultdict

from wms.catalog.rules import validate_gtin
from wms.demo import (
    LOCATIONS,
    PICK_BINS,
    bins,
    catalogue,
    order_plan,
    sellable_plan,
    stock_plan,
)


def test_about_200_products_with_unique_skus_and_valid_ean13s():
    products = catalogue()
    assert 190 <= len(products) <= 220
    assert len({p.sku for p in products}) == len(products)
    codes = [code for p in products for code in p.barcodes]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == 13 and validate_gtin(code)
    assert any(len(p.barcodes) > 1 for p in products)
    assert any(ch in p.name for p in products for ch in "ąćęłńóśźż")
    lots = [p for p in products if p.track_lots]
    assert 3 <= len(lots) <= 20
    assert all(p.lot() and p.lot(1) != p.lot() for p in lots)


def test_skus_are_stable():
    # Receipts and orders of an existing demo database refer to these skus: reordering the catalogue breaks reruns.
    products = catalogue()
    assert (products[0].sku, products[0].name, products[0].barcodes) == (
        "KT-1001",
        "Patelnia żeliwna, 20 cm",
        ("5907712000012",),
    )


def test_bins_walk_the_pick_aisles_as_a_snake():
    wh = {code: seq for code, kind, seq in bins()["WH1"] if kind == "pick"}
    walk = sorted(wh, key=wh.get)
    assert walk[:3] == ["A-01", "A-02", "A-03"]
    assert walk[11:14] == ["A-12", "B-12", "B-11"]  # down aisle B
    assert walk[23:25] == ["B-01", "C-01"]
    assert set(walk) == set(PICK_BINS)
    kinds = {kind for codes in bins().values() for _code, kind, _seq in codes}
    assert kinds == {"pick", "bulk", "dock", "staging", "pickup", "returns", "quarantine"}


def test_receipts_have_unique_references_and_lots_where_needed():
    products = catalogue()
    receipts, dock = stock_plan(products)
    keys = [(r.location, r.reference) for r in [*receipts, dock]]
    assert len(set(keys)) == len(keys)
    tracked = {p.sku for p in products if p.track_lots}
    for receipt in [*receipts, dock]:
        assert receipt.location in LOCATIONS
        for line in receipt.lines:
            assert line["qty"] > 0
            assert bool(line.get("lot")) == (line["sku"] in tracked)
    stocked = {line["sku"] for r in receipts if r.location == "ST-KRK" for line in r.lines}
    assert 40 <= len(stocked) <= 120


def test_every_planned_order_fits_the_planned_stock():
    products = catalogue()
    receipts, dock = stock_plan(products)
    units = sellable_plan(receipts, dock)
    plans = order_plan(products, units)
    assert len({p.payload["external_id"] for p in plans}) == len(plans)
    kinds = {(p.channel, p.payload["fulfilment"], p.cancel) for p in plans}
    assert {"ship", "pickup"} == {k[1] for k in kinds} and any(k[2] for k in kinds)
    wanted = defaultdict(int)
    for plan in plans:
        for line in plan.payload["lines"]:
            wanted[line["sku"]] += line["qty"]
    for sku, qty in wanted.items():
        assert qty <= sum(u for (_loc, s), u in units.items() if s == sku), sku
