"""GET /api/v1/orders over HTTP: by external id, and the paged list (each item as GET /orders/{id} shows it),
422 naming the field for bad arguments, never another channel's orders."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.factories import Api, make_channel, make_world, order_body
from tests.integration.orders.test_queries import settle


@pytest.fixture
def shop(any_app):
    world = make_world(stock_a=50, stock_b=50)
    return Api(any_app.test_client(), world.web)


@pytest.fixture
def other_shop(any_app, shop):
    return Api(any_app.test_client(), make_channel("SHOP", ship_from=["WH1"]))


def place(api: Api, external_id: str) -> dict:
    r = api.post("/api/v1/orders", order_body(external_id))
    assert r.status_code == 201, r.json
    return r.json


def test_by_external_id_is_the_order_as_read_by_id(shop, other_shop):
    created = place(shop, "WEB-1")
    place(other_shop, "WEB-1")
    r = shop.get("/api/v1/orders", query_string={"external_id": "WEB-1"})
    assert r.status_code == 200, r.json
    assert r.json == {"items": [shop.get(f"/api/v1/orders/{created['id']}").json]}
    assert shop.get("/api/v1/orders", query_string={"external_id": "WEB-2"}).json == {"items": []}


def test_paging_walks_every_order_once_and_ends_with_an_empty_page(shop, other_shop):
    ids = [place(shop, f"WEB-{i}")["id"] for i in range(5)]
    place(other_shop, "SHOP-1")
    settle()
    seen, cursor = [], None
    while True:
        query = {"limit": 2} | ({"after": cursor} if cursor else {})
        r = shop.get("/api/v1/orders", query_string=query)
        assert r.status_code == 200, r.json
        assert set(r.json) == {"items", "next"} and r.json["next"]
        if not r.json["items"]:
            break
        for item in r.json["items"]:
            assert item == shop.get(f"/api/v1/orders/{item['id']}").json
        seen += [item["id"] for item in r.json["items"]]
        cursor = r.json["next"]
    assert seen == ids


def test_a_cancelled_order_comes_again_with_its_new_status(shop):
    first = place(shop, "WEB-1")
    place(shop, "WEB-2")
    settle()
    cursor = shop.get("/api/v1/orders", query_string={"limit": 2}).json["next"]
    assert shop.post(f"/api/v1/orders/{first['id']}/cancel").status_code == 200
    settle()
    r = shop.get("/api/v1/orders", query_string={"after": cursor})
    assert [(i["external_id"], i["status"]) for i in r.json["items"]] == [("WEB-1", "cancelled")]
    r = shop.get("/api/v1/orders", query_string={"status": "reserved"})
    assert [i["external_id"] for i in r.json["items"]] == ["WEB-2"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"status": "nope"}, ["status"]),
        ({"updated_after": "2026-13-01"}, ["updated_after"]),
        ({"limit": "0"}, ["limit"]),
        ({"limit": "1001"}, ["limit"]),
        ({"limit": "١٠"}, ["limit"]),
        ({"after": "abc"}, ["after"]),
        ({"external_id": ""}, ["external_id"]),
        ({"external_id": "x" * 129}, ["external_id"]),
        ({"status": "nope", "limit": "x", "after": "1.2.3"}, ["status", "limit", "after"]),
    ],
)
def test_bad_arguments_are_422_naming_the_field(shop, query, fields):
    r = shop.get("/api/v1/orders", query_string=query)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"
    assert [d["field"] for d in r.json["error"]["details"]] == fields


def test_needs_a_channel_token(any_app, shop):
    assert Api(any_app.test_client(), None).get("/api/v1/orders").status_code == 401


def test_answers_are_what_the_openapi_document_says(any_app, shop):
    """The document's Order schema holds for every kind of order, as read, listed, placed and cancelled."""
    document = any_app.test_client().get("/api/v1/openapi.json").json
    operations = document["paths"]

    def check(path: str, method: str, response) -> None:
        schema = operations[path][method]["responses"][str(response.status_code)]["content"]["application/json"]
        validator = Draft202012Validator(
            {**schema["schema"], "components": document["components"]}, format_checker=FormatChecker()
        )
        errors = [e.message for e in validator.iter_errors(response.json)]
        assert not errors, (path, response.status_code, errors)

    placed = shop.post("/api/v1/orders", order_body("WEB-1"))
    check("/api/v1/orders", "post", placed)
    pickup = shop.post("/api/v1/orders", order_body("WEB-2", fulfilment="pickup", pickup_location="ST1"))
    check("/api/v1/orders", "post", pickup)
    check("/api/v1/orders", "post", shop.post("/api/v1/orders", order_body("WEB-1")))
    check("/api/v1/orders/{id}/cancel", "post", shop.post(f"/api/v1/orders/{placed.json['id']}/cancel"))
    check("/api/v1/orders/{id}", "get", shop.get(f"/api/v1/orders/{pickup.json['id']}"))
    settle()
    listed = shop.get("/api/v1/orders")
    assert len(listed.json["items"]) == 2
    check("/api/v1/orders", "get", listed)
    check("/api/v1/orders", "get", shop.get("/api/v1/orders", query_string={"external_id": "WEB-2"}))
