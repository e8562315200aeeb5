"""Counts and bin-to-bin moves over HTTP: ``POST /api/v1/counts`` and ``/counts/{id}/approve`` for managers and
admins, a blind count worked through the task endpoints, and ``POST /api/v1/moves`` for staff as well as
integrations (a picker only at their home location)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import (
    add_stock,
    fast_password_hashing,
    gtin13,
    integration_token,
    make_bin,
    make_location,
    make_product,
)
from tests.web.staff import new_client
from wms.auth.service import create_user
from wms.channels.service import create_token
from wms.extensions import db
from wms.stock.models import StockMovement
from wms.stock.service import check_stock

GTIN_A = gtin13(9401)
PASSWORD = "sekret-123"


@pytest.fixture
def floor(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    monkeypatch.setitem(any_app.config, "COUNT_VARIANCE_UNITS", 5)
    monkeypatch.setitem(any_app.config, "COUNT_VARIANCE_PERCENT", 10.0)
    make_location("WH1")
    make_location("WH2")
    make_location("ST1", "store")
    make_bin("WH1", "A-01", "pick", 1)
    make_bin("WH1", "A-02", "pick", 2)
    make_bin("WH2", "A-01", "pick", 1)
    make_product("A", barcodes=[GTIN_A])
    add_stock("WH1", "A-01", "A", 20)
    add_stock("WH2", "A-01", "A", 4)
    for name, role, location in (
        ("piotr", "picker", "WH1"),
        ("olaf", "picker", "WH2"),
        ("kasia", "clerk", "ST1"),
        ("boss", "manager", None),
        ("root", "admin", None),
    ):
        create_user(name, role, location, PASSWORD)
    return any_app


@pytest.fixture
def client(floor):
    return new_client(floor)


def auth(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token('staff', username=username, device='TC52')}"}


def count_rows() -> list[tuple[int, str | None]]:
    db.session.rollback()
    rows = db.session.execute(
        select(StockMovement.qty, StockMovement.actor).where(StockMovement.reason == "count").order_by(StockMovement.id)
    ).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def test_managers_and_admins_open_counts(client):
    r = client.post("/api/v1/counts", json={"location": "WH1", "bins": ["A-01", "A-02"]}, headers=auth("boss"))
    assert r.status_code == 201, r.json
    first, second = r.json["tasks"]
    again = client.post("/api/v1/counts", json={"location": "WH1", "bins": ["A-02"]}, headers=auth("root"))
    assert again.status_code == 201 and again.json == {"tasks": [second]}
    task = client.get(f"/api/v1/tasks/{first}", headers=auth("piotr")).json
    assert task["kind"] == "count" and task["reference"]["bin"] == "A-01"


def test_open_counts_is_checked_and_refused_to_others(client):
    r = client.post("/api/v1/counts", json={"location": "WH1", "bins": ["A-01", "NOPE", "Z"]}, headers=auth("boss"))
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"
    assert [d["field"] for d in r.json["error"]["details"]] == ["bins[1]", "bins[2]"]
    r = client.post("/api/v1/counts", json={"location": "NOWHERE", "bins": ["A-01"]}, headers=auth("boss"))
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "location"
    r = client.post("/api/v1/counts", json={"location": "WH1", "bins": []}, headers=auth("boss"))
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "bins"
    r = client.post("/api/v1/counts", json={"location": "WH1", "bins": ["A-01"]}, headers=auth("piotr"))
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert client.post("/api/v1/counts", json={"location": "WH1", "bins": ["A-01"]}).status_code == 401
    token = {"Authorization": f"Bearer {integration_token()}"}
    assert client.post("/api/v1/counts", json={"location": "WH1", "bins": ["A-01"]}, headers=token).status_code == 403
    assert client.get("/api/v1/tasks?kind=count", headers=auth("boss")).json == {"tasks": []}


def test_a_blind_count_over_the_threshold_waits_then_a_manager_approves_it(client):
    [task_id] = client.post("/api/v1/counts", json={"location": "WH1", "bins": ["A-01"]}, headers=auth("boss")).json[
        "tasks"
    ]
    piotr = auth("piotr")

    def scan(scan_id, code, **extra):
        return client.post(f"/api/v1/tasks/{task_id}/scans", json={"id": scan_id, "code": code, **extra}, headers=piotr)

    wrong = scan("w1", "A-02")
    assert wrong.status_code == 422 and wrong.json["error"]["code"] == "wrong_bin"
    assert wrong.json["error"]["details"] == {"expected": "A-01", "scanned": "A-02"}
    assert scan("s1", "A-01").json["task"]["next"]["expect"] == "product"
    answer = scan("s2", GTIN_A, qty=11).json
    assert answer["task"]["next"]["qty"] is None
    assert answer["task"]["lines"] == [
        {"line": 1, "sku": "A", "qty": 11, "done": 11, "bin": "A-01", "lot": None, "order": None}
    ]
    assert "20" not in str(answer)  # the books' quantity is never shown while counting
    waiting = client.post(f"/api/v1/tasks/{task_id}/complete", json={"id": "c1"}, headers=piotr)
    assert waiting.status_code == 200 and waiting.json["status"] == "awaiting_approval"
    assert count_rows() == []
    refused = client.post(f"/api/v1/counts/{task_id}/approve", headers=piotr)
    assert refused.status_code == 403
    approved = client.post(f"/api/v1/counts/{task_id}/approve", headers=auth("boss"))
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "done" and approved.json["reference"]["approved_by"] == "boss"
    assert count_rows() == [(9, "boss")]
    again = client.post(f"/api/v1/counts/{task_id}/approve", headers=auth("boss"))
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_state"
    assert client.post("/api/v1/counts/999999/approve", headers=auth("boss")).status_code == 404
    assert check_stock() == []


def test_approving_a_count_that_does_not_wait_is_invalid_state(client):
    [task_id] = client.post("/api/v1/counts", json={"location": "WH1", "bins": ["A-01"]}, headers=auth("boss")).json[
        "tasks"
    ]
    r = client.post(f"/api/v1/counts/{task_id}/approve", headers=auth("root"))
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"


def move_body(location="WH1", qty=3, **extra):
    return {"location": location, "from_bin": "A-01", "to_bin": "A-02", "sku": "A", "qty": qty, **extra}


def test_a_picker_moves_stock_bin_to_bin_at_their_location(client):
    r = client.post("/api/v1/moves", json=move_body(), headers=auth("piotr"))
    assert r.status_code == 201, r.json
    assert r.json == {"sku": "A", "qty": 3, "from_bin": "A-01", "to_bin": "A-02"}
    db.session.rollback()
    [row] = db.session.execute(select(StockMovement).where(StockMovement.reason == "move")).scalars()
    assert (row.actor, row.device) == ("piotr", "TC52")
    db.session.rollback()
    assert check_stock() == []


def test_a_picker_elsewhere_gets_404_a_clerk_403_a_manager_moves_anywhere(client):
    elsewhere = client.post("/api/v1/moves", json=move_body("WH2", 1), headers=auth("piotr"))
    assert elsewhere.status_code == 404 and elsewhere.json["error"]["code"] == "not_found"
    assert client.post("/api/v1/moves", json=move_body(), headers=auth("kasia")).status_code == 403
    make_bin("WH2", "A-02", "pick", 2)
    assert client.post("/api/v1/moves", json=move_body("WH2", 1), headers=auth("olaf")).status_code == 201
    assert client.post("/api/v1/moves", json=move_body("WH1", 1), headers=auth("boss")).status_code == 201
    token = {"Authorization": f"Bearer {integration_token()}"}
    assert client.post("/api/v1/moves", json=move_body("WH1", 1), headers=token).status_code == 201
    actors = (
        db.session.execute(select(StockMovement.actor).where(StockMovement.reason == "move").order_by(StockMovement.id))
        .scalars()
        .all()
    )
    db.session.rollback()
    assert actors[:2] == ["olaf", "boss"] and actors[2].startswith("integration:")
    channel = {"Authorization": "Bearer nope"}
    assert client.post("/api/v1/moves", json=move_body(), headers=channel).status_code == 401
    assert client.post("/api/v1/moves", json=move_body()).status_code == 401
    assert check_stock() == []


def test_a_signed_in_handheld_page_moves_with_its_session(client, floor, monkeypatch):
    monkeypatch.setitem(floor.config, "WTF_CSRF_ENABLED", True)
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    r = client.post("/login", data={"username": "piotr", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303
    assert client.post("/api/v1/moves", json=move_body(qty=2)).status_code == 403  # no CSRF token
    page = client.get("/").get_data(as_text=True)
    csrf = {"X-CSRFToken": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)}
    r = client.post("/api/v1/moves", json=move_body(qty=2), headers=csrf)
    assert r.status_code == 201, r.json
    assert client.post("/api/v1/moves", json=move_body("WH2", 1), headers=csrf).status_code == 404
    db.session.rollback()
    actors = (
        db.session.execute(select(StockMovement.actor).where(StockMovement.reason == "move").order_by(StockMovement.id))
        .scalars()
        .all()
    )
    db.session.rollback()
    assert actors == ["piotr"]
