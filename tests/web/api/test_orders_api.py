"""Order endpoints over HTTP, exactly as API.md describes them: intake (201, replay 200, conflict 409, short
409), reading an order, cancelling it (at once, twice harmlessly, never another channel's)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from tests.factories import Api, add_stock, make_channel, make_world, order_body, stock_snapshot
from wms.extensions import db
from wms.orders.models import Order, OrderEvent
from wms.stock.models import Reservation, StockLevel
from wms.stock.service import check_stock


@pytest.fixture
def world(any_app):
    world = make_world(stock_a=10, stock_b=5)
    add_stock("ST1", "S-01", "A", 2)
    return world


@pytest.fixture
def shop(any_app, world):
    return Api(any_app.test_client(), world.web)


def reserved_total() -> tuple[int, int]:
    """(sum of StockLevel.reserved, sum of open reservations): both must move together."""
    levels = db.session.execute(select(func.coalesce(func.sum(StockLevel.reserved), 0))).scalar_one()
    rows = db.session.execute(select(func.coalesce(func.sum(Reservation.open_qty), 0))).scalar_one()
    db.session.rollback()
    return levels, rows


def test_order_is_created_with_its_allocations(shop):
    r = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 3), ("B", 2)]))
    assert r.status_code == 201, r.json
    body = r.json
    assert isinstance(body["id"], int)
    assert (body["external_id"], body["status"], body["fulfilment"]) == ("WEB-1", "reserved", "ship")
    assert [(line["sku"], line["qty"], line["allocations"]) for line in body["lines"]] == [
        ("A", 3, [{"location": "WH1", "qty": 3}]),
        ("B", 2, [{"location": "WH1", "qty": 2}]),
    ]
    assert "pickup_code" not in body
    assert reserved_total() == (5, 5)
    assert check_stock() == []


@pytest.mark.parametrize("fulfilment", ["ship", "pickup"])
def test_the_answer_to_an_order_is_what_reading_it_back_shows(shop, fulfilment):
    """Intake answers from the objects it inserted, without reading them back: they must be the same."""
    body = order_body("WEB-RB", lines=[("A", 3), ("B", 2)], fulfilment=fulfilment)
    if fulfilment == "pickup":
        body["pickup_location"] = "ST1"
    created = shop.post("/api/v1/orders", body)
    assert created.status_code == 201, created.json
    read = shop.get(f"/api/v1/orders/{created.json['id']}")
    replay = shop.post("/api/v1/orders", body)
    assert read.status_code == 200 and replay.status_code == 200
    assert created.json == read.json == replay.json


def test_pickup_order_has_a_pickup_code(shop):
    r = shop.post("/api/v1/orders", order_body("WEB-P", lines=[("A", 2)], fulfilment="pickup", pickup_location="ST1"))
    assert r.status_code == 201, r.json
    assert r.json["fulfilment"] == "pickup" and r.json["pickup_location"] == "ST1"
    assert isinstance(r.json["pickup_code"], str) and len(r.json["pickup_code"]) >= 6
    assert r.json["lines"][0]["allocations"] == [{"location": "ST1", "qty": 2}]


def test_replay_answers_200_with_the_same_order_and_reserves_nothing_twice(shop):
    body = order_body("WEB-1", lines=[("A", 3)])
    first = shop.post("/api/v1/orders", body)
    assert first.status_code == 201
    before = stock_snapshot()
    # the same content in another key order and spacing is the same order
    raw = json.dumps(dict(reversed(list(body.items()))), indent=2)
    for replay in (
        shop.post("/api/v1/orders", body),
        shop.client.post("/api/v1/orders", data=raw, content_type="application/json", headers=shop._headers()),
    ):
        assert replay.status_code == 200, replay.json
        assert replay.json["id"] == first.json["id"]
        assert [(x["sku"], x["qty"], x["allocations"]) for x in replay.json["lines"]] == [
            (x["sku"], x["qty"], x["allocations"]) for x in first.json["lines"]
        ]
    assert stock_snapshot() == before
    assert reserved_total() == (3, 3)


def test_same_external_id_with_other_content_is_a_conflict(shop):
    assert shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 3)])).status_code == 201
    before = stock_snapshot()
    r = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 4)]))
    assert r.status_code == 409 and r.json["error"]["code"] == "idempotency_conflict", r.json
    r = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 3)], customer={"name": "Someone Else"}))
    assert r.status_code == 409 and r.json["error"]["code"] == "idempotency_conflict"
    assert stock_snapshot() == before


def test_external_ids_belong_to_their_channel(any_app, shop):
    other = Api(any_app.test_client(), make_channel("SHOP", ship_from=["WH1"]))
    a = shop.post("/api/v1/orders", order_body("X-1", lines=[("A", 1)]))
    b = other.post("/api/v1/orders", order_body("X-1", lines=[("A", 2)]))
    assert (a.status_code, b.status_code) == (201, 201) and a.json["id"] != b.json["id"]
    assert reserved_total() == (3, 3)


def test_short_lines_are_listed_and_nothing_is_reserved(shop):
    before = stock_snapshot()
    r = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 11), ("B", 5), ("B", 1)]))
    assert r.status_code == 409, r.json
    error = r.json["error"]
    assert error["code"] == "insufficient_stock"
    # A: 10 in WH1 (ST1's 2 are not WEB's); B: 5 + 1 wanted together, 5 there, so both B lines are short
    assert error["details"] == [
        {"sku": "A", "requested": 11, "available": 10},
        {"sku": "B", "requested": 5, "available": 5},
        {"sku": "B", "requested": 1, "available": 5},
    ]
    assert stock_snapshot() == before
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0
    # an order that fits is still taken afterwards
    assert shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 10), ("B", 5)])).status_code == 201


def test_get_order_shows_status_lines_shipments_and_history(shop):
    placed = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 2), ("B", 1)])).json
    r = shop.get(f"/api/v1/orders/{placed['id']}")
    assert r.status_code == 200, r.json
    order = r.json
    assert (order["id"], order["external_id"], order["status"]) == (placed["id"], "WEB-1", "reserved")
    assert [
        {k: line[k] for k in ("sku", "qty", "picked", "shipped", "collected", "declined", "allocations")}
        for line in order["lines"]
    ] == [
        {
            "sku": "A",
            "qty": 2,
            "picked": 0,
            "shipped": 0,
            "collected": 0,
            "declined": 0,
            "allocations": [{"location": "WH1", "qty": 2}],
        },
        {
            "sku": "B",
            "qty": 1,
            "picked": 0,
            "shipped": 0,
            "collected": 0,
            "declined": 0,
            "allocations": [{"location": "WH1", "qty": 1}],
        },
    ]
    assert order["shipments"] == []
    assert [h["status"] for h in order["history"]] == ["reserved"]
    assert order["history"][0]["at"].endswith("Z")
    assert order["ship_to"]["city"] == "Kraków" and order["customer"]["name"] == "Anna Nowak"


def test_cancel_releases_at_once_and_twice_is_harmless(shop):
    placed = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 6), ("B", 5)])).json
    assert reserved_total() == (11, 11)
    r = shop.post(f"/api/v1/orders/{placed['id']}/cancel")
    assert r.status_code == 200, r.json
    assert r.json["status"] == "cancelled" and r.json["id"] == placed["id"]
    assert reserved_total() == (0, 0)
    # the released stock can be ordered at once
    assert shop.post("/api/v1/orders", order_body("WEB-2", lines=[("A", 10), ("B", 5)])).status_code == 201
    after = stock_snapshot()
    again = shop.post(f"/api/v1/orders/{placed['id']}/cancel", json={})
    assert again.status_code == 200 and again.json["status"] == "cancelled"
    assert stock_snapshot() == after
    history = shop.get(f"/api/v1/orders/{placed['id']}").json["history"]
    assert [h["status"] for h in history] == ["reserved", "cancelled"]
    # replaying the cancelled order's intake answers with it and reserves nothing
    replay = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 6), ("B", 5)]))
    assert replay.status_code == 200 and replay.json["status"] == "cancelled"
    assert stock_snapshot() == after
    assert check_stock() == []


def test_cancel_after_packing_is_invalid_state(shop):
    placed = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 2)])).json
    # packing is not built yet: put the order in that state directly
    db.session.execute(update(Order).where(Order.id == placed["id"]).values(status="packed"))
    db.session.commit()
    before = stock_snapshot()
    r = shop.post(f"/api/v1/orders/{placed['id']}/cancel")
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state", r.json
    assert r.json["error"]["details"] == {"status": "packed"}
    assert stock_snapshot() == before
    events = db.session.execute(select(OrderEvent.status).where(OrderEvent.order_id == placed["id"])).scalars().all()
    assert events == ["reserved"]


def test_another_channel_can_neither_read_nor_cancel(any_app, shop):
    placed = shop.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 2)])).json
    other = Api(any_app.test_client(), make_channel("SHOP"))
    before = stock_snapshot()
    assert other.get(f"/api/v1/orders/{placed['id']}").status_code == 403
    r = other.post(f"/api/v1/orders/{placed['id']}/cancel")
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert stock_snapshot() == before
    assert shop.get(f"/api/v1/orders/{placed['id']}").json["status"] == "reserved"


def test_a_delivery_order_never_takes_the_safety_buffer(any_app, world):
    """A channel with buffer 2 is shown A 10 - 2 = 8 available: it can order 8, not 9; a pickup order may take a
    store's whole stock (the buffer is for delivery availability)."""
    shop = Api(any_app.test_client(), make_channel("MARKET", ship_from=["WH1"], buffer=2))
    shown = shop.get("/api/v1/availability?sku=A").json["items"][0]["available"]
    assert shown == 8
    before = stock_snapshot()
    r = shop.post("/api/v1/orders", order_body("M-1", lines=[("A", 9)]))
    assert r.status_code == 409, r.json
    assert r.json["error"]["code"] == "insufficient_stock"
    assert r.json["error"]["details"] == [{"sku": "A", "requested": 9, "available": 8}]
    assert stock_snapshot() == before
    assert shop.post("/api/v1/orders", order_body("M-2", lines=[("A", 8)])).status_code == 201
    pickup = order_body("M-3", lines=[("A", 2)], fulfilment="pickup", pickup_location="ST1")
    assert shop.post("/api/v1/orders", pickup).status_code == 201  # ST1's own 2 units, no buffer there
    assert check_stock() == []
