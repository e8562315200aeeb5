"""Integration endpoints over HTTP: upserts answer 201 then 200 with the resource as stored; receipts are
idempotent by reference at a location; adjustments and moves keep stock whole; GET /stock lists quants."""

from __future__ import annotations

import threading

import pytest

from tests.factories import Api, gtin13, level, make_world, order_body, stock_snapshot
from wms.catalog.rules import with_check_digit
from wms.stock.service import check_stock


@pytest.fixture
def world(any_app):
    return make_world(stock_a=10, stock_b=5)


@pytest.fixture
def api(any_app, world):
    return Api(any_app.test_client(), world.integration)


@pytest.fixture
def shop(any_app, world):
    return Api(any_app.test_client(), world.web)


def test_put_location_creates_then_updates(api):
    r = api.put("/api/v1/locations/ST9", {"name": "Store 9", "kind": "store", "pickup": True, "pickup_hold_days": 3})
    assert r.status_code == 201, r.json
    assert r.json | {"updated_at": None} == {
        "code": "ST9",
        "name": "Store 9",
        "kind": "store",
        "ships": False,
        "pickup": True,
        "pickup_hold_days": 3,
        "priority": 100,
        "timezone": "Europe/Warsaw",
        "updated_at": None,
    }
    assert r.json["updated_at"].endswith("Z")
    r = api.put("/api/v1/locations/ST9", {"name": "Store Nine", "kind": "store", "ships": True})
    assert r.status_code == 200, r.json
    assert (r.json["name"], r.json["ships"], r.json["pickup_hold_days"]) == ("Store Nine", True, 7)


def test_put_bin_creates_then_updates(api):
    r = api.put("/api/v1/locations/WH1/bins/C-01", {"kind": "bulk", "sequence": 30})
    assert r.status_code == 201, r.json
    assert r.json == {"code": "C-01", "location": "WH1", "kind": "bulk", "sequence": 30}
    r = api.put("/api/v1/locations/WH1/bins/C-01", {"kind": "pick", "sequence": 31})
    assert r.status_code == 200 and r.json == {"code": "C-01", "location": "WH1", "kind": "pick", "sequence": 31}


def test_a_bin_holding_stock_keeps_its_sellability(api):
    """Turning a stocked pick bin into a quarantine bin would change on-hand sellable without a ledger row."""
    before = stock_snapshot()
    r = api.put("/api/v1/locations/WH1/bins/A-01", {"kind": "quarantine"})
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state", r.json
    assert stock_snapshot() == before
    # pick <-> bulk keeps it sellable: allowed
    assert api.put("/api/v1/locations/WH1/bins/A-01", {"kind": "bulk"}).status_code == 200
    assert check_stock() == []


@pytest.mark.parametrize(
    "barcode",
    [with_check_digit("9638507"), with_check_digit("03600029145"), gtin13(77), with_check_digit("1590123412345")],
    ids=["gtin8", "upc-a", "ean13", "gtin14"],
)
def test_put_product_accepts_every_gtin_length(api, barcode):
    r = api.put("/api/v1/products/NEW", {"name": "New", "barcodes": [barcode], "track_lots": True})
    assert r.status_code == 201, r.json
    assert (r.json["sku"], r.json["name"], r.json["barcodes"], r.json["track_lots"]) == ("NEW", "New", [barcode], True)


def test_put_product_updates_and_replaces_barcodes(api):
    first, second = gtin13(501), gtin13(502)
    assert api.put("/api/v1/products/NEW", {"name": "New", "barcodes": [first]}).status_code == 201
    r = api.put("/api/v1/products/NEW", {"name": "Renamed", "barcodes": [second, second]})
    assert r.status_code == 200 and r.json["name"] == "Renamed" and r.json["barcodes"] == [second]


def test_a_barcode_of_another_product_is_refused(api):
    taken = api.put("/api/v1/products/A", {"name": "A", "barcodes": [gtin13(601)]}).json["barcodes"][0]
    r = api.put("/api/v1/products/NEW", {"name": "New", "barcodes": [gtin13(602), taken]})
    assert r.status_code == 422
    assert r.json["error"]["details"] == [{"field": "barcodes[1]", "message": "already belongs to A"}]
    assert api.get("/api/v1/stock?sku=NEW").status_code == 404  # not created


def test_receipt_books_stock_and_a_replay_moves_nothing(api):
    body = {
        "reference": "DEL-7",
        "location": "WH1",
        "bin": "B-01",
        "lines": [{"sku": "A", "qty": 4}, {"sku": "B", "qty": 2}],
    }
    r = api.post("/api/v1/receipts", body)
    assert r.status_code == 201, r.json
    assert set(r.json) >= {"id", "movements"}
    assert [(m["sku"], m["qty"], m["to_bin"], m["reason"]) for m in r.json["movements"]] == [
        ("A", 4, "B-01", "receipt"),
        ("B", 2, "B-01", "receipt"),
    ]
    assert level("A", "WH1") == (14, 0)
    after_first = stock_snapshot()
    replay = api.post("/api/v1/receipts", body)
    assert replay.status_code == 200 and replay.json == r.json
    # the reference decides: a replay with other lines is still the first delivery
    other = api.post("/api/v1/receipts", body | {"lines": [{"sku": "A", "qty": 99}]})
    assert other.status_code == 200 and other.json == r.json
    assert stock_snapshot() == after_first
    # the same reference at another location is another delivery
    r2 = api.post("/api/v1/receipts", body | {"location": "WH2", "bin": "A-01"})
    assert r2.status_code == 201 and r2.json["id"] != r.json["id"]
    assert level("A", "WH2") == (4, 0)
    assert check_stock() == []


def test_receipt_into_a_dock_bin_is_on_hand_but_not_sellable(api):
    r = api.post(
        "/api/v1/receipts", {"reference": "D", "location": "WH1", "bin": "DOCK", "lines": [{"sku": "A", "qty": 6}]}
    )
    assert r.status_code == 201
    assert level("A", "WH1") == (10, 0)
    items = api.get("/api/v1/stock?sku=A&location=WH1").json["items"]
    assert {(i["bin"], i["qty"]) for i in items} == {("A-01", 10), ("DOCK", 6)}
    # put away: the move makes it sellable
    r = api.post("/api/v1/moves", {"location": "WH1", "from_bin": "DOCK", "to_bin": "B-01", "sku": "A", "qty": 6})
    assert r.status_code == 201, r.json
    assert level("A", "WH1") == (16, 0)
    assert check_stock() == []


def test_lot_tracked_products_need_a_lot(api):
    api.put("/api/v1/products/MILK", {"name": "Milk", "track_lots": True})
    base = {"reference": "L-1", "location": "WH1", "bin": "A-01"}
    before = stock_snapshot()
    r = api.post("/api/v1/receipts", base | {"lines": [{"sku": "A", "qty": 1}, {"sku": "MILK", "qty": 5}]})
    assert r.status_code == 422
    assert r.json["error"]["details"] == [{"field": "lines[1].lot", "message": "MILK is tracked by lot: give the lot"}]
    assert stock_snapshot() == before
    r = api.post(
        "/api/v1/receipts", base | {"lines": [{"sku": "MILK", "qty": 5, "lot": "L42", "expiry": "2031-02-03"}]}
    )
    assert r.status_code == 201, r.json
    assert r.json["movements"][0]["lot"] == "L42"
    assert api.get("/api/v1/stock?sku=MILK").json["items"] == [
        {"sku": "MILK", "location": "WH1", "bin": "A-01", "lot": "L42", "status": "sellable", "qty": 5}
    ]
    move = {"location": "WH1", "from_bin": "A-01", "to_bin": "B-01", "sku": "MILK", "qty": 1}
    adjustment = {"location": "WH1", "bin": "A-01", "sku": "MILK", "delta": -1, "reason": "spilt"}
    for path, body in (("/api/v1/moves", move), ("/api/v1/adjustments", adjustment)):
        before = stock_snapshot()
        r = api.post(path, body)
        assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "lot", (path, r.json)
        assert stock_snapshot() == before
        assert api.post(path, body | {"lot": "L42"}).status_code == 201
    assert level("MILK", "WH1") == (4, 0)
    assert check_stock() == []


def test_adjustments(api, shop):
    r = api.post("/api/v1/adjustments", {"location": "WH1", "bin": "A-01", "sku": "A", "delta": 3, "reason": "found"})
    assert r.status_code == 201, r.json
    assert r.json["delta"] == 3 and r.json["movement"]["reason"] == "adjustment"
    assert level("A", "WH1") == (13, 0)
    assert shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 10)])).status_code == 201
    before = stock_snapshot()
    # below what is reserved: 13 on hand, 10 reserved, so at most 3 may go
    r = api.post("/api/v1/adjustments", {"location": "WH1", "bin": "A-01", "sku": "A", "delta": -4, "reason": "lost"})
    assert r.status_code == 409 and r.json["error"]["code"] == "insufficient_stock", r.json
    # below zero in the bin
    r = api.post("/api/v1/adjustments", {"location": "WH1", "bin": "B-01", "sku": "A", "delta": -1, "reason": "lost"})
    assert r.status_code == 409 and r.json["error"]["code"] == "insufficient_stock", r.json
    assert stock_snapshot() == before
    r = api.post("/api/v1/adjustments", {"location": "WH1", "bin": "A-01", "sku": "A", "delta": -3, "reason": "lost"})
    assert r.status_code == 201
    assert level("A", "WH1") == (10, 10)
    # damaged units are on hand but not sellable, and may be written off whatever is reserved
    damaged = {"location": "WH1", "bin": "A-01", "sku": "A", "delta": 2, "reason": "dropped", "status": "damaged"}
    assert api.post("/api/v1/adjustments", damaged).status_code == 201
    assert api.post("/api/v1/adjustments", damaged | {"delta": -2}).status_code == 201
    assert level("A", "WH1") == (10, 10)
    assert check_stock() == []


def test_moves_between_sellable_and_other_bins(api, shop):
    move = {"location": "WH1", "from_bin": "A-01", "to_bin": "STAGE", "sku": "A", "qty": 4}
    r = api.post("/api/v1/moves", move)
    assert r.status_code == 201, r.json
    assert r.json == {"sku": "A", "qty": 4, "from_bin": "A-01", "to_bin": "STAGE"}
    assert level("A", "WH1") == (6, 0)
    assert shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 5)])).status_code == 201
    before = stock_snapshot()
    # 6 sellable, 5 reserved: 2 more may not leave the sellable bins
    r = api.post("/api/v1/moves", move | {"qty": 2})
    assert r.status_code == 409 and r.json["error"]["code"] == "insufficient_stock"
    # more than the bin holds
    r = api.post("/api/v1/moves", move | {"from_bin": "STAGE", "to_bin": "A-02", "qty": 5})
    assert r.status_code == 409 and r.json["error"]["code"] == "insufficient_stock"
    assert stock_snapshot() == before
    # pick -> bulk stays sellable, staging -> pick comes back
    assert api.post("/api/v1/moves", move | {"to_bin": "B-01", "qty": 6}).status_code == 201
    assert api.post("/api/v1/moves", move | {"from_bin": "STAGE", "to_bin": "A-02"}).status_code == 201
    assert level("A", "WH1") == (10, 5)
    assert check_stock() == []


def test_get_stock_filters(api):
    api.post(
        "/api/v1/receipts", {"reference": "X", "location": "ST2", "bin": "S-01", "lines": [{"sku": "A", "qty": 2}]}
    )
    everything = api.get("/api/v1/stock").json["items"]
    assert [(i["sku"], i["location"], i["bin"], i["qty"]) for i in everything] == [
        ("A", "ST2", "S-01", 2),
        ("A", "WH1", "A-01", 10),
        ("B", "WH1", "A-02", 5),
    ]
    assert all(i["status"] == "sellable" and i["lot"] is None for i in everything)
    assert [i["location"] for i in api.get("/api/v1/stock?sku=A").json["items"]] == ["ST2", "WH1"]
    assert [i["sku"] for i in api.get("/api/v1/stock?location=WH1").json["items"]] == ["A", "B"]
    assert api.get("/api/v1/stock?sku=B&location=ST2").json == {"items": []}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/products/RACE", {"name": "Raced", "barcodes": [gtin13(777)]}),
        ("/api/v1/locations/RACE", {"name": "Raced", "kind": "store"}),
        ("/api/v1/locations/WH1/bins/RACE", {"kind": "pick"}),
    ],
    ids=["product", "location", "bin"],
)
def test_racing_upserts_of_one_new_resource(any_app, world, path, body):
    """An ERP retrying a PUT while the first is still running: one creates, the others update, none fails."""
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def put():
        client = Api(any_app.test_client(), world.integration)
        barrier.wait()
        statuses.append(client.put(path, body).status_code)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200] * 5 + [201], statuses


def test_two_new_products_racing_for_one_barcode(any_app, world):
    barcode = gtin13(778)
    barrier = threading.Barrier(2)
    answers: dict[str, tuple[int, dict]] = {}

    def put(sku: str):
        client = Api(any_app.test_client(), world.integration)
        barrier.wait()
        r = client.put(f"/api/v1/products/{sku}", {"name": sku, "barcodes": [barcode]})
        answers[sku] = (r.status_code, r.json)

    threads = [threading.Thread(target=put, args=(sku,)) for sku in ("P1", "P2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(status for status, _body in answers.values()) == [201, 422], answers
    loser = next(body for status, body in answers.values() if status == 422)
    assert loser["error"]["details"][0]["field"] == "barcodes[0]"
