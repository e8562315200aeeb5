"""Bad input never changes anything, on every endpoint of the integration and order APIs.

For each endpoint: no token 401, an unknown token 401, a token of the other kind 403, a body that is not JSON
400, a wrong content type 400, a JSON array 400 (a body must be a JSON object: pydantic reports the whole body
as the wrong type, which is a malformed request rather than an invalid field), invalid fields 422 naming every
field at once, a body over ``MAX_BODY`` 413, an unknown sku or location in the path 404, another channel's order
403. Each failed request is checked against a snapshot of the ledger, quants, levels, reservations and of every
other table the endpoints write (locations, bins, products, barcodes, receipts, orders, outbox, change log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.factories import Api, gtin13, make_channel, make_world, order_body, stock_snapshot
from wms.catalog.models import Barcode, Product
from wms.channels.models import ApiToken, OutboxEvent
from wms.channels.service import create_token, hash_token
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import Order, OrderEvent, OrderLine
from wms.stock.models import Lot, Receipt, StockChange
from wms.timeutil import utcnow

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    422: "validation_error",
}


def world_snapshot() -> dict[str, Any]:
    """The stock snapshot plus every other table an endpoint of these APIs writes."""
    snap = stock_snapshot()
    session = db.session
    snap["locations"] = sorted(
        session.execute(
            select(Location.code, Location.name, Location.kind, Location.ships, Location.pickup, Location.priority)
        ).all()
    )
    snap["bins"] = sorted(session.execute(select(Bin.location_id, Bin.code, Bin.kind, Bin.sequence)).all())
    snap["products"] = sorted(session.execute(select(Product.sku, Product.name, Product.track_lots)).all())
    snap["barcodes"] = sorted(session.execute(select(Barcode.product_id, Barcode.gtin)).all())
    snap["lots"] = sorted(session.execute(select(Lot.product_id, Lot.code)).all())
    snap["receipts"] = sorted(session.execute(select(Receipt.location_id, Receipt.reference)).all())
    snap["orders"] = sorted(session.execute(select(Order.id, Order.status)).all())
    for model in (OrderLine, OrderEvent, OutboxEvent, StockChange):
        snap[model.__tablename__] = session.execute(select(func.count()).select_from(model)).scalar_one()
    session.rollback()
    return snap


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    scope: str  # "integration" or "channel"
    #: a body that would succeed (None: the endpoint takes no body)
    body: dict[str, Any] | None = None
    #: (body, fields the 422 must name) pairs
    invalid: list[tuple[Any, set[str]]] = field(default_factory=list)
    #: paths naming an unknown sku, location or order
    unknown_paths: list[str] = field(default_factory=list)


def _bad_check_digit(gtin: str) -> str:
    return gtin[:-1] + str((int(gtin[-1]) + 1) % 10)


def _endpoints(order_id: int) -> list[Endpoint]:
    return [
        Endpoint(
            "put_location",
            "PUT",
            "/api/v1/locations/WH9",
            "integration",
            {"name": "Warehouse 9", "kind": "warehouse", "ships": True},
            [
                (
                    {"name": "", "kind": "castle", "pickup_hold_days": -1},
                    {"name", "kind", "pickup_hold_days"},
                ),
                ({"kind": "warehouse"}, {"name"}),
                ({"name": "W", "kind": "warehouse", "pickup": True}, {"pickup"}),
                ({"name": "", "kind": "warehouse", "pickup": True}, {"name", "pickup"}),
                ({"name": "W", "kind": "store", "ships": "yes"}, {"ships"}),
            ],
        ),
        Endpoint(
            "put_bin",
            "PUT",
            "/api/v1/locations/WH1/bins/Z-01",
            "integration",
            {"kind": "pick", "sequence": 5},
            [({"kind": "shelf", "sequence": -1}, {"kind", "sequence"}), ({}, {"kind"})],
            ["/api/v1/locations/NOPE/bins/Z-01"],
        ),
        Endpoint(
            "put_product",
            "PUT",
            "/api/v1/products/NEW-1",
            "integration",
            {"name": "New product", "barcodes": [gtin13(900001)]},
            [
                # a wrong check digit, letters and a wrong length, each named by its index
                (
                    {
                        "name": "New",
                        "barcodes": [gtin13(900002), _bad_check_digit(gtin13(900003)), "ABCDEFGHIJKLM", "1234"],
                    },
                    {"barcodes[1]", "barcodes[2]", "barcodes[3]"},
                ),
                ({"name": "", "track_lots": "yes"}, {"name", "track_lots"}),
                ({"barcodes": [gtin13(900004)]}, {"name"}),
            ],
        ),
        Endpoint(
            "post_receipt",
            "POST",
            "/api/v1/receipts",
            "integration",
            {"reference": "DEL-1", "location": "WH1", "bin": "A-01", "lines": [{"sku": "A", "qty": 4}]},
            [
                (
                    {"location": "WH1", "bin": "A-01", "lines": [{"sku": "A", "qty": 0}, {"sku": "B", "qty": -3}]},
                    {"reference", "lines[0].qty", "lines[1].qty"},
                ),
                ({"reference": "R", "location": "WH1", "bin": "A-01", "lines": []}, {"lines"}),
                (
                    {"reference": "R", "location": "WH1", "bin": "A-01", "lines": [{"sku": "A", "qty": "2"}]},
                    {"lines[0].qty"},
                ),
                (
                    {
                        "reference": "R",
                        "location": "WH1",
                        "bin": "A-01",
                        "lines": [{"sku": "A", "qty": 1, "expiry": "soon"}],
                    },
                    {"lines[0].expiry"},
                ),
                # unknown names inside a body are 422 too, every one at once
                (
                    {
                        "reference": "R",
                        "location": "WH1",
                        "bin": "A-01",
                        "lines": [{"sku": "X", "qty": 1}, {"sku": "Y", "qty": 1}],
                    },
                    {"lines[0].sku", "lines[1].sku"},
                ),
                (
                    {"reference": "R", "location": "NOPE", "bin": "A-01", "lines": [{"sku": "A", "qty": 1}]},
                    {"location"},
                ),
                ({"reference": "R", "location": "WH1", "bin": "NOPE", "lines": [{"sku": "A", "qty": 1}]}, {"bin"}),
            ],
        ),
        Endpoint(
            "post_adjustment",
            "POST",
            "/api/v1/adjustments",
            "integration",
            {"location": "WH1", "bin": "A-01", "sku": "A", "delta": 2, "reason": "found"},
            [
                ({"location": "WH1", "bin": "A-01", "sku": "A", "delta": 0}, {"delta", "reason"}),
                (
                    {"location": "WH1", "bin": "A-01", "sku": "A", "delta": 1, "reason": "x", "status": "lost"},
                    {"status"},
                ),
                ({"location": "WH1", "bin": "A-01", "sku": "NOPE", "delta": 1, "reason": "x"}, {"sku"}),
                ({"location": "NOPE", "bin": "A-01", "sku": "A", "delta": 1, "reason": "x"}, {"location"}),
            ],
        ),
        Endpoint(
            "post_move",
            "POST",
            "/api/v1/moves",
            "integration",
            {"location": "WH1", "from_bin": "A-01", "to_bin": "B-01", "sku": "A", "qty": 2},
            [
                ({"location": "WH1", "from_bin": "A-01", "sku": "A", "qty": 0}, {"to_bin", "qty"}),
                ({"location": "WH1", "from_bin": "A-01", "to_bin": "NOPE", "sku": "A", "qty": 1}, {"to_bin"}),
                ({"location": "WH1", "from_bin": "A-01", "to_bin": "B-01", "sku": "NOPE", "qty": 1}, {"sku"}),
                ({"location": "NOPE", "from_bin": "A-01", "to_bin": "B-01", "sku": "A", "qty": 1}, {"location"}),
                ({"location": "WH1", "from_bin": "A-01", "to_bin": "A-01", "sku": "A", "qty": 1}, {"to_bin"}),
            ],
        ),
        Endpoint(
            "get_stock",
            "GET",
            "/api/v1/stock?sku=A",
            "integration",
            unknown_paths=["/api/v1/stock?sku=NOPE", "/api/v1/stock?location=NOPE"],
        ),
        Endpoint(
            "post_order",
            "POST",
            "/api/v1/orders",
            "channel",
            order_body("WEB-NEW", lines=[("A", 1)]),
            [
                (
                    order_body("WEB-X", lines=[("A", 0), ("B", -2)], fulfilment="drone"),
                    {"fulfilment", "lines[0].qty", "lines[1].qty"},
                ),
                (order_body("WEB-X", ship_to=None), {"ship_to"}),
                (order_body("WEB-X", ship_to=None, lines=[("A", 0)]), {"ship_to", "lines[0].qty"}),
                (order_body("", fulfilment="pickup"), {"external_id", "pickup_location"}),
                (order_body("WEB-X", fulfilment="pickup"), {"pickup_location"}),
                (order_body("WEB-X", fulfilment="pickup", pickup_location="NOPE"), {"pickup_location"}),
                (order_body("WEB-X", fulfilment="pickup", pickup_location="WH1"), {"pickup_location"}),
                (order_body("WEB-X", lines=[("NOPE", 1), ("A", 1), ("NOPE2", 1)]), {"lines[0].sku", "lines[2].sku"}),
                (order_body("WEB-X") | {"lines": []}, {"lines"}),
                (
                    {k: v for k, v in order_body("WEB-X").items() if k not in ("external_id", "customer")},
                    {"external_id", "customer"},
                ),
                (order_body("WEB-X", customer={"name": "A", "email": "not-an-email"}), {"customer.email"}),
            ],
        ),
        Endpoint(
            "get_order",
            "GET",
            f"/api/v1/orders/{order_id}",
            "channel",
            # beyond the id column's range too: not found, not a database error
            unknown_paths=["/api/v1/orders/999999", "/api/v1/orders/0", "/api/v1/orders/99999999999999999999"],
        ),
        Endpoint(
            "post_cancel",
            "POST",
            f"/api/v1/orders/{order_id}/cancel",
            "channel",
            unknown_paths=["/api/v1/orders/999999/cancel", "/api/v1/orders/99999999999999999999/cancel"],
        ),
    ]


ENDPOINT_NAMES = [e.name for e in _endpoints(0)]
BODY_ENDPOINTS = [e.name for e in _endpoints(0) if e.body is not None]


@dataclass
class Setup:
    client: Any
    integration: str
    web: str
    other: str  # another channel's token
    order_id: int  # an order of WEB, reserved
    revoked: dict[str, str]  # a revoked token of each scope

    def token(self, scope: str) -> str:
        return self.integration if scope == "integration" else self.web

    def wrong_token(self, scope: str) -> str:
        return self.web if scope == "integration" else self.integration


@pytest.fixture
def setup(any_app) -> Setup:
    world = make_world(stock_a=10, stock_b=5)
    other = make_channel("SHOP", ship_from=["WH1"])
    client = any_app.test_client()
    r = Api(client, world.web).post("/api/v1/orders", order_body("WEB-1", lines=[("A", 2), ("B", 1)]))
    assert r.status_code == 201, r.json
    revoked = {"integration": create_token("integration"), "channel": create_token("channel", channel_code="WEB")}
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash.in_([hash_token(t) for t in revoked.values()]))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    return Setup(client, world.integration, world.web, other, r.json["id"], revoked)


def _endpoint(setup: Setup, name: str) -> Endpoint:
    return next(e for e in _endpoints(setup.order_id) if e.name == name)


def send(
    client,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    raw: bytes | str | None = None,
    content_type: str | None = "application/json",
):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    kwargs: dict[str, Any] = {"headers": headers}
    if data is not None:
        kwargs["data"] = data
        if content_type:
            kwargs["content_type"] = content_type
    return client.open(path, method=method, **kwargs)


def assert_error(response, status: int) -> dict[str, Any]:
    """The answer has ``status`` and the documented error shape with the documented code."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == ERROR_CODES[status], error
    assert isinstance(error["message"], str) and error["message"], error
    return error


def assert_unchanged(before: dict[str, Any], what: str) -> None:
    after = world_snapshot()
    assert after == before, f"{what} changed something"


def test_authentication_and_authorisation(setup):
    before = world_snapshot()
    for ep in _endpoints(setup.order_id):
        _check_auth(setup, ep, before)


def _check_auth(setup: Setup, ep: Endpoint, before: dict[str, Any]) -> None:
    name = ep.name
    for label, token, status in (
        ("no token", None, 401),
        ("unknown token", "wmsi_not-a-token", 401),
        ("unknown channel token", "wmsc_not-a-token", 401),
        ("revoked token", setup.revoked[ep.scope], 401),
        ("wrong token kind", setup.wrong_token(ep.scope), 403),
    ):
        r = send(setup.client, ep.method, ep.path, token, ep.body)
        assert_error(r, status)
        assert_unchanged(before, f"{name} with {label}")
    # "Bearer" is required: a token in another scheme is no token at all
    r = setup.client.open(
        ep.path, method=ep.method, headers={"Authorization": f"Token {setup.token(ep.scope)}"}, json=ep.body
    )
    assert_error(r, 401)
    assert_unchanged(before, f"{name} with a non-bearer scheme")


def test_malformed_bodies(setup):
    """Cancel takes no body, but what it is sent must be nothing or a JSON object: anything else is a client
    mistake, answered before the order is touched."""
    before = world_snapshot()
    for name in [*BODY_ENDPOINTS, "post_cancel"]:
        _check_malformed(setup, _endpoint(setup, name), before)


def _check_malformed(setup: Setup, ep: Endpoint, before: dict[str, Any]) -> None:
    name, token = ep.name, setup.token(ep.scope)
    cases = [
        ("not JSON", dict(raw='{"name": "x",', content_type="application/json")),
        ("bad UTF-8", dict(raw=b'{"name": "\xff\xfe"}', content_type="application/json")),
        ("a JSON array", dict(raw=json.dumps([ep.body or {}]), content_type="application/json")),
        ("a JSON string", dict(raw='"hello"', content_type="application/json")),
        ("JSON null", dict(raw="null", content_type="application/json")),
        ("wrong content type", dict(raw=json.dumps(ep.body or {}), content_type="text/plain")),
        ("form content type", dict(raw="name=x", content_type="application/x-www-form-urlencoded")),
        ("no content type", dict(raw=json.dumps(ep.body or {}), content_type=None)),
    ]
    if ep.body is not None:
        cases += [("empty body", dict(raw="", content_type="application/json")), ("no body", dict())]
    for label, kwargs in cases:
        r = send(setup.client, ep.method, ep.path, token, **kwargs)
        assert_error(r, 400)
        assert_unchanged(before, f"{name} with {label}")


def test_invalid_fields_are_all_named(setup):
    before = world_snapshot()
    for name in BODY_ENDPOINTS:
        ep = _endpoint(setup, name)
        assert ep.invalid, name
        for body, fields in ep.invalid:
            r = send(setup.client, ep.method, ep.path, setup.token(ep.scope), body)
            error = assert_error(r, 422)
            details = error["details"]
            assert isinstance(details, list) and details, error
            for detail in details:
                assert set(detail) == {"field", "message"}, detail
                assert detail["message"], detail
            named = {d["field"] for d in details}
            assert named == fields, (name, body, details)
            assert_unchanged(before, f"{name} with {sorted(fields)} invalid")


def test_oversized_body_is_413(setup, any_app, monkeypatch):
    for ep in _endpoints(setup.order_id):
        _check_oversized(setup, any_app, monkeypatch, ep)


def _check_oversized(setup: Setup, app, monkeypatch, ep: Endpoint) -> None:
    name = ep.name
    limit = 2048
    monkeypatch.setitem(app.config, "MAX_BODY", limit)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", limit)
    # a body that would be accepted but for its size (unknown keys are ignored)
    body = dict(ep.body or {}) | {"padding": "x" * (limit + 1)}
    before = world_snapshot()
    r = send(setup.client, ep.method, ep.path, setup.token(ep.scope), body)
    error = assert_error(r, 413)
    assert str(limit) in error["message"]
    assert_unchanged(before, f"{name} with an oversized body")
    # the same request under the limit goes through: the 413 was about the size only
    if ep.body is not None:
        monkeypatch.setitem(app.config, "MAX_BODY", 1024 * 1024)
        monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
        r = send(setup.client, ep.method, ep.path, setup.token(ep.scope), body)
        assert r.status_code in (200, 201), r.get_data(as_text=True)[:300]


def test_body_over_the_default_limit_of_one_mib(setup):
    ep = _endpoint(setup, "post_order")
    body = dict(ep.body) | {"padding": "x" * (1024 * 1024)}
    before = world_snapshot()
    r = send(setup.client, "POST", ep.path, setup.web, body)
    assert_error(r, 413)
    assert_unchanged(before, "an order over 1 MiB")


def test_unknown_path_parameter_is_404(setup):
    before = world_snapshot()
    with_paths = [ep for ep in _endpoints(setup.order_id) if ep.unknown_paths]
    assert {ep.name for ep in with_paths} == {"put_bin", "get_stock", "get_order", "post_cancel"}
    for ep, path in [(e, p) for e in with_paths for p in e.unknown_paths]:
        r = send(setup.client, ep.method, path, setup.token(ep.scope), ep.body)
        assert_error(r, 404)
        assert_unchanged(before, f"{ep.method} {path}")


def test_another_channels_order_is_403(setup):
    before = world_snapshot()
    for name in ("get_order", "post_cancel"):
        ep = _endpoint(setup, name)
        r = send(setup.client, ep.method, ep.path, setup.other)
        error = assert_error(r, 403)
        assert "WEB-1" not in json.dumps(error)  # nothing of the order leaks
        assert_unchanged(before, f"{name} by another channel")


BAD_PATHS = [
    ("/api/v1/locations/" + "W" * 33, {"name": "X", "kind": "warehouse"}, {"code"}),  # longer than the column
    ("/api/v1/locations/bad%20code", {"name": "X", "kind": "warehouse"}, {"code"}),
    ("/api/v1/locations/-WH", {"name": "X", "kind": "warehouse"}, {"code"}),
    ("/api/v1/locations/" + "W" * 33, {"kind": "castle"}, {"code", "name", "kind"}),  # path and body at once
    ("/api/v1/locations/WH1/bins/" + "B" * 65, {"kind": "pick"}, {"bin"}),
    ("/api/v1/locations/WH1/bins/B%201", {"kind": "pick"}, {"bin"}),
    ("/api/v1/products/" + "S" * 65, {"name": "X"}, {"sku"}),
    ("/api/v1/products/%20A", {"name": "X"}, {"sku"}),
    ("/api/v1/products/A%09", {"name": "X", "barcodes": ["1"]}, {"sku", "barcodes[0]"}),
]


def test_invalid_codes_in_the_path_are_422(setup):
    """A code the database cannot store (or a body could never name) is refused, on PostgreSQL too, where a
    too-long value would otherwise fail inside the database."""
    before = world_snapshot()
    for path, body, fields in BAD_PATHS:
        r = send(setup.client, "PUT", path, setup.integration, body)
        error = assert_error(r, 422)
        assert {d["field"] for d in error["details"]} == fields, (path, error)
        assert_unchanged(before, f"PUT {path}")


def test_nul_characters_are_refused(setup):
    """PostgreSQL cannot store or even compare text containing NUL: refused as bad input before the database."""
    before = world_snapshot()
    for ep in _endpoints(setup.order_id):
        if ep.body is None or ep.name == "put_bin":  # a bin's only text is its kind, one of a list
            continue
        body = json.loads(json.dumps(ep.body).replace('"WH1"', '"WH\\u00001"').replace('"A"', '"A\\u0000"'))
        body |= {k: v + "\x00" for k, v in ep.body.items() if k in ("name", "reference", "reason", "external_id")}
        assert body != ep.body
        r = send(setup.client, ep.method, ep.path, setup.token(ep.scope), body)
        error = assert_error(r, 422)
        # free text says why; codes fail their pattern
        assert all("NUL" in d["message"] or "pattern" in d["message"] for d in error["details"]), (ep.name, error)
        assert any("NUL" in d["message"] for d in error["details"]), (ep.name, error)
        assert_unchanged(before, f"{ep.name} with NUL characters")
    for path in (
        "/api/v1/stock?sku=A%00",
        "/api/v1/stock?location=WH%001",
        "/api/v1/locations/W%00H1/bins/X",
        "/api/v1/products/A%00",
    ):
        r = send(
            setup.client, "GET" if "stock" in path else "PUT", path, setup.integration, {"kind": "pick", "name": "x"}
        )
        assert_error(r, 400)
        assert_unchanged(before, path)


def test_every_endpoint_works_with_its_valid_body(setup):
    """The bodies above are valid: each bad-input test fails for the reason it names, not for another."""
    for ep in _endpoints(setup.order_id):
        r = send(setup.client, ep.method, ep.path, setup.token(ep.scope), ep.body)
        assert r.status_code in (200, 201), (ep.name, r.get_data(as_text=True)[:300])
