"""GET/POST availability, the change feed and the full feed over HTTP (channel token)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.factories import Api, add_stock, make_world, order_body
from tests.integration.channels.helpers import settle


@pytest.fixture
def world(any_app):
    world = make_world(stock_a=10, stock_b=5)
    add_stock("ST1", "S-01", "A", 3)  # pickup store, not a ship-from location of WEB
    return world


@pytest.fixture
def api(any_app, world):
    return Api(any_app.test_client(), world.web)


def _loc(code, available, pickup):
    return {"location": code, "available": available, "pickup": pickup}


def test_get_availability_by_sku(api):
    r = api.get("/api/v1/availability?sku=A&sku=NOPE&sku=B&sku=A")
    assert r.status_code == 200
    assert r.json == {
        "items": [
            {"sku": "A", "available": 10, "known": True, "locations": [_loc("WH1", 10, False), _loc("ST1", 3, True)]},
            {"sku": "NOPE", "available": 0, "known": False, "locations": []},
            {"sku": "B", "available": 5, "known": True, "locations": [_loc("WH1", 5, False)]},
        ]
    }


def test_reservations_lower_availability(api):
    assert api.post("/api/v1/orders", order_body("WEB-1", lines=[("A", 4)])).status_code == 201
    r = api.get("/api/v1/availability?sku=A")
    assert r.json["items"][0]["available"] == 6
    assert r.json["items"][0]["locations"][0] == _loc("WH1", 6, False)


def test_post_query_gives_the_same_answer(api):
    get = api.get("/api/v1/availability?sku=B&sku=A&sku=X")
    post = api.post("/api/v1/availability/query", {"skus": ["B", "A", "X"]})
    assert post.status_code == 200 and post.json == get.json


def test_auth(any_app, world):
    client = any_app.test_client()
    for path in ("/api/v1/availability?sku=A", "/api/v1/availability/changes", "/api/v1/availability/feed"):
        assert Api(client, None).get(path).status_code == 401
        assert Api(client, "wmsc_unknown").get(path).json["error"]["code"] == "unauthorized"
        r = Api(client, world.integration).get(path)
        assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert Api(client, world.integration).post("/api/v1/availability/query", {"skus": ["A"]}).status_code == 403


def _field(r):
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"
    return [d["field"] for d in r.json["error"]["details"]]


def test_sku_count_limits(api):
    assert _field(api.get("/api/v1/availability")) == ["sku"]
    assert _field(api.get("/api/v1/availability?" + "&".join(f"sku=S{i}" for i in range(101)))) == ["sku"]
    assert api.get("/api/v1/availability?" + "&".join(f"sku=S{i}" for i in range(100))).status_code == 200
    assert _field(api.get("/api/v1/availability?sku=")) == ["sku"]
    assert _field(api.post("/api/v1/availability/query", {"skus": []})) == ["skus"]
    assert _field(api.post("/api/v1/availability/query", {"skus": [f"S{i}" for i in range(1001)]})) == ["skus"]
    r = api.post("/api/v1/availability/query", {"skus": [f"S{i}" for i in range(1000)]})
    assert r.status_code == 200 and len(r.json["items"]) == 1000
    assert api.post("/api/v1/availability/query", data="nope", content_type="text/plain").status_code == 400


def test_changes_pages_and_cursor(api):
    settle()
    r = api.get("/api/v1/availability/changes?limit=1")
    assert r.status_code == 200
    first = r.json
    assert len(first["changes"]) == 1 and first["next"]
    r = api.get(f"/api/v1/availability/changes?limit=1&after={first['next']}")
    second = r.json
    assert len(second["changes"]) == 1 and second["changes"][0]["sku"] != first["changes"][0]["sku"]
    rest = api.get(f"/api/v1/availability/changes?after={second['next']}").json
    skus = {i["sku"] for page in (first, second, rest) for i in page["changes"]}
    assert skus == {"A", "B"}
    end = rest["next"]
    assert api.get(f"/api/v1/availability/changes?after={end}").json == {"changes": [], "next": end}
    api.post("/api/v1/orders", order_body("WEB-1", lines=[("B", 2)]))
    settle()
    page = api.get(f"/api/v1/availability/changes?after={end}").json
    assert [(i["sku"], i["available"]) for i in page["changes"]] == [("B", 3)]


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("after=garbage", "after"),
        ("after=1.2.3", "after"),
    ],
)
def test_changes_rejects_bad_parameters(api, query, field):
    assert _field(api.get(f"/api/v1/availability/changes?{query}")) == [field]


def test_feed_ndjson(api):
    r = api.get("/api/v1/availability/feed")
    assert r.status_code == 200
    assert r.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in r.data.decode().splitlines()]
    expected = api.get("/api/v1/availability?sku=A&sku=B").json["items"]
    assert lines == expected


def test_feed_csv(api):
    r = api.get("/api/v1/availability/feed?format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode())))
    assert rows == [
        ["sku", "available", "locations", "pickup"],
        ["A", "10", "WH1:10;ST1:3", "ST1:3"],
        ["B", "5", "WH1:5", ""],
    ]


def test_feed_unknown_format(api):
    assert _field(api.get("/api/v1/availability/feed?format=xml")) == ["format"]
