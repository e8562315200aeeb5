"""Who and which device: every API write records its caller as the services name it (``integration:<token id>``,
``channel:CODE``, a staff user's name) and the device the caller can tell (the User-Agent, a staff token's device),
on the ledger, the order history and the rows it changes; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_world, order_body
from tests.web.staff import PASSWORD
from wms.auth.models import User
from wms.auth.service import create_user
from wms.catalog.models import Product
from wms.channels.models import ApiToken
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import OrderEvent
from wms.stock.models import StockMovement

ERP = "ERP-Connector/2.1 (Comarch)"
SHOP = "shop-backend/7"


@pytest.fixture
def world(any_app):
    return make_world(stock_a=10, stock_b=5)


def call(client, method: str, path: str, token: str, agent: str, body=None):
    headers = {"Authorization": f"Bearer {token}", "User-Agent": agent}
    return client.open(path, method=method, json=body, headers=headers)


def integration_actor() -> str:
    token_id = db.session.execute(select(ApiToken.id).where(ApiToken.scope == "integration")).scalar_one()
    db.session.rollback()
    return f"integration:{token_id}"


def movements(reason: str) -> list[tuple[str | None, str | None]]:
    rows = db.session.execute(
        select(StockMovement.actor, StockMovement.device).where(StockMovement.reason == reason)
    ).all()
    db.session.rollback()
    return [tuple(r) for r in rows]


def test_a_receipt_via_the_api_records_its_actor_and_device(any_client, world):
    body = {"reference": "PO-77", "location": "WH1", "bin": "DOCK", "lines": [{"sku": "A", "qty": 4}]}
    r = call(any_client, "POST", "/api/v1/receipts", world.integration, ERP, body)
    assert r.status_code == 201, r.json
    assert [(m["actor"], m["device"]) for m in r.json["movements"]] == [(integration_actor(), ERP)]
    # The factories' receipts went through the service with no actor; this one names the API caller.
    assert (integration_actor(), ERP) in movements("receipt")


def test_adjustments_and_moves_via_the_api_record_their_actor_and_device(any_client, world):
    adjustment = {"location": "WH1", "bin": "A-01", "sku": "A", "delta": -1, "reason": "broken"}
    adjusted = call(any_client, "POST", "/api/v1/adjustments", world.integration, ERP, adjustment)
    assert adjusted.status_code == 201
    assert (adjusted.json["movement"]["actor"], adjusted.json["movement"]["device"]) == (integration_actor(), ERP)
    move = {"location": "WH1", "from_bin": "A-01", "to_bin": "B-01", "sku": "A", "qty": 2}
    assert call(any_client, "POST", "/api/v1/moves", world.integration, ERP, move).status_code == 201
    assert movements("adjustment") == [(integration_actor(), ERP)]
    assert movements("move") == [(integration_actor(), ERP)]


def test_an_order_placed_and_cancelled_shows_who_in_its_history(any_client, world):
    placed = call(any_client, "POST", "/api/v1/orders", world.web, SHOP, order_body("WEB-9"))
    assert placed.status_code == 201, placed.json
    order_id = placed.json["id"]
    assert call(any_client, "POST", f"/api/v1/orders/{order_id}/cancel", world.web, SHOP).status_code == 200
    history = call(any_client, "GET", f"/api/v1/orders/{order_id}", world.web, SHOP).json["history"]
    assert [(h["status"], h["actor"]) for h in history] == [("reserved", "channel:WEB"), ("cancelled", "channel:WEB")]
    # The contract's fields are all still there.
    assert all({"status", "at"} <= set(h) for h in history)
    devices = db.session.execute(
        select(OrderEvent.device).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).scalars()
    assert list(devices) == [SHOP, SHOP]
    db.session.rollback()


def test_no_user_agent_records_no_device(any_client, world):
    body = {"reference": "PO-78", "location": "WH1", "bin": "DOCK", "lines": [{"sku": "B", "qty": 1}]}
    assert call(any_client, "POST", "/api/v1/receipts", world.integration, "  ", body).status_code == 201
    assert (integration_actor(), None) in movements("receipt")


def test_a_long_user_agent_is_cut_to_the_column(any_client, world):
    body = {"reference": "PO-79", "location": "WH1", "bin": "DOCK", "lines": [{"sku": "B", "qty": 1}]}
    assert call(any_client, "POST", "/api/v1/receipts", world.integration, "x" * 5000, body).status_code == 201
    assert (integration_actor(), "x" * 128) in movements("receipt")


def test_integration_upserts_record_who_changed_them(any_client, world):
    token = world.integration
    assert (
        call(any_client, "PUT", "/api/v1/locations/WH9", token, ERP, {"name": "Nowy", "kind": "warehouse"}).status_code
        == 201
    )
    assert call(any_client, "PUT", "/api/v1/locations/WH9/bins/Z-01", token, ERP, {"kind": "pick"}).status_code == 201
    assert call(any_client, "PUT", "/api/v1/products/Z", token, ERP, {"name": "Zeta"}).status_code == 201
    who = integration_actor()
    assert db.session.execute(select(Location.updated_by).where(Location.code == "WH9")).scalar_one() == who
    assert db.session.execute(select(Bin.updated_by).where(Bin.code == "Z-01")).scalar_one() == who
    assert db.session.execute(select(Product.updated_by).where(Product.sku == "Z")).scalar_one() == who
    db.session.rollback()


def test_signing_out_a_staff_token_records_who_revoked_it(any_client, world):
    create_user("piotr", "picker", "WH1", PASSWORD, actor="cli")
    assert db.session.execute(select(User.updated_by).where(User.username == "piotr")).scalar_one() == "cli"
    db.session.rollback()
    signed_in = any_client.post(
        "/api/v1/staff/tokens", json={"username": "piotr", "password": PASSWORD, "device": "TC52-07"}
    )
    assert signed_in.status_code == 201, signed_in.json
    headers = {"Authorization": f"Bearer {signed_in.json['token']}"}
    assert any_client.delete("/api/v1/staff/tokens/current", headers=headers).status_code == 204
    revoked_by = db.session.execute(select(ApiToken.revoked_by).where(ApiToken.scope == "staff")).scalar_one()
    db.session.rollback()
    assert revoked_by == "piotr"
