"""The staff task API over HTTP: list, show, claim, scan, complete, with the contract's error codes; a receipt
through ``POST /api/v1/receipts`` into a dock bin opens the put-away."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.factories import fast_password_hashing, gtin13, integration_token, make_bin, make_location, make_product
from tests.web.staff import new_client
from wms.auth.service import create_user
from wms.channels.service import create_token
from wms.extensions import db
from wms.stock.models import StockMovement
from wms.stock.service import check_stock

GTIN_A = gtin13(9101)


@pytest.fixture
def floor(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    make_location("WH1")
    make_location("WH2")
    make_bin("WH1", "DOCK", "dock")
    make_bin("WH1", "A-01-1", "pick", 1)
    make_bin("WH1", "A-01-2", "pick", 2)
    make_product("A", barcodes=[GTIN_A])
    for name, role, location in (("piotr", "picker", "WH1"), ("anna", "picker", "WH1"), ("olaf", "picker", "WH2")):
        create_user(name, role, location, "sekret-123")
    create_user("boss", "manager", None, "sekret-123")
    return any_app


@pytest.fixture
def client(floor):
    return new_client(floor)


def auth(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token('staff', username=username)}"}


@pytest.fixture
def task_id(client):
    body = {"location": "WH1", "bin": "DOCK", "reference": "PO-7", "lines": [{"sku": "A", "qty": 2}]}
    r = client.post("/api/v1/receipts", json=body, headers={"Authorization": f"Bearer {integration_token()}"})
    assert r.status_code == 201, r.json
    [task] = client.get("/api/v1/tasks?kind=putaway", headers=auth("piotr")).json["tasks"]
    return task["id"]


def scan(client, task_id, scan_id, code, who="piotr", **extra):
    return client.post(f"/api/v1/tasks/{task_id}/scans", json={"id": scan_id, "code": code, **extra}, headers=auth(who))


def test_a_receipt_into_the_dock_opens_a_putaway_in_the_contract_shape(client, task_id):
    r = client.get(f"/api/v1/tasks/{task_id}", headers=auth("piotr"))
    assert r.status_code == 200
    assert set(r.json) == {"id", "kind", "status", "location", "assignee", "reference", "tote", "lines", "next"}
    assert r.json["lines"] == [{"line": 1, "sku": "A", "qty": 2, "done": 0, "bin": None, "lot": None, "order": None}]
    assert set(r.json["next"]) == {"expect", "prompt", "bin", "sku", "qty"}


def test_pickers_see_only_their_location_managers_everywhere(client, task_id):
    assert client.get(f"/api/v1/tasks/{task_id}", headers=auth("olaf")).status_code == 404
    assert client.get("/api/v1/tasks", headers=auth("olaf")).json == {"tasks": []}
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth("olaf")).status_code == 404
    assert [t["id"] for t in client.get("/api/v1/tasks?location=WH1", headers=auth("boss")).json["tasks"]] == [task_id]
    assert client.get("/api/v1/tasks?location=WH2", headers=auth("boss")).json == {"tasks": []}
    assert client.get("/api/v1/tasks/999999", headers=auth("boss")).status_code == 404


def test_list_filters_are_checked(client, task_id):
    r = client.get("/api/v1/tasks?kind=dance", headers=auth("piotr"))
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "kind"
    assert client.get("/api/v1/tasks?status=done", headers=auth("piotr")).json == {"tasks": []}
    assert client.get("/api/v1/tasks").status_code == 401


def test_claim_is_held_against_another_picker(client, task_id):
    r = client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth("piotr"))
    assert r.status_code == 200 and r.json["status"] == "in_progress" and r.json["assignee"] == "piotr"
    r = client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth("anna"))
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"
    assert scan(client, task_id, "a1", GTIN_A, who="anna").status_code == 409


def test_put_away_by_scans_with_the_contract_errors(client, task_id):
    r = scan(client, task_id, "w1", "A-01-1")
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_product"
    r = scan(client, task_id, "s1", GTIN_A)
    assert r.status_code == 200 and r.json["ok"] is True
    assert r.json["task"]["next"]["expect"] == "bin" and r.json["task"]["next"]["bin"] == "A-01-1"
    r = scan(client, task_id, "w2", "A-01-2")
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_bin"
    assert r.json["error"]["details"] == {"expected": "A-01-1", "scanned": "A-01-2"}
    assert r.json["error"]["message"] == "This is bin A-01-2. Scan bin A-01-1."
    r = scan(client, task_id, "w3", "A-01-1", qty=3)
    assert r.status_code == 422 and r.json["error"]["code"] == "over_quantity"
    r = scan(client, task_id, "w4", "NOPE-9")
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_code"
    done = scan(client, task_id, "s2", "A-01-1")
    assert done.status_code == 200 and done.json["task"]["status"] == "done"
    assert scan(client, task_id, "s2", "A-01-1").json == done.json  # a retry: the first answer, applied once
    assert check_stock() == []
    r = scan(client, task_id, "s3", GTIN_A)
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"
    r = client.post(f"/api/v1/tasks/{task_id}/complete", json={"id": "c1"}, headers=auth("piotr"))
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"


def test_bad_scan_bodies_are_422_and_change_nothing(client, task_id):
    for body in ({"code": GTIN_A}, {"id": "x", "code": GTIN_A, "qty": 0}, {"id": "x", "code": GTIN_A, "qty": "2"}):
        r = client.post(f"/api/v1/tasks/{task_id}/scans", json=body, headers=auth("piotr"))
        assert r.status_code == 422 and r.json["error"]["code"] == "validation_error", body
    r = client.post(f"/api/v1/tasks/{task_id}/scans", json={"id": "x"}, headers=auth("piotr"))
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "code"
    assert client.get(f"/api/v1/tasks/{task_id}", headers=auth("piotr")).json["status"] == "open"


def test_complete_refuses_a_task_with_work_left(client, task_id):
    r = client.post(f"/api/v1/tasks/{task_id}/complete", json={"id": "c1"}, headers=auth("piotr"))
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"
    assert client.post(f"/api/v1/tasks/{task_id}/complete", json={}, headers=auth("piotr")).status_code == 422


def test_racing_retries_and_a_second_picker_apply_the_put_away_once(client, floor, task_id):
    """Six clients confirm the bin at once: three retries of one scan id, three other ids (a second handheld
    of the same picker). The units move once; the retries get the first answer; the rest are refused."""
    assert scan(client, task_id, "s1", GTIN_A).status_code == 200
    headers = auth("piotr")
    barrier = threading.Barrier(6)
    answers: list[tuple[str, int, dict]] = []
    lock = threading.Lock()

    def confirm(scan_id: str) -> None:
        own = new_client(floor)
        barrier.wait(30)
        r = own.post(f"/api/v1/tasks/{task_id}/scans", json={"id": scan_id, "code": "A-01-1"}, headers=headers)
        with lock:
            answers.append((scan_id, r.status_code, r.get_json()))

    pool = [threading.Thread(target=confirm, args=(i,)) for i in ("same", "same", "same", "x1", "x2", "x3")]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert not any(t.is_alive() for t in pool)
    same = [a for a in answers if a[0] == "same"]
    others = [a for a in answers if a[0] != "same"]
    assert {a[1] for a in answers} <= {200, 409}, answers
    if all(a[1] == 200 for a in same):  # the retried id came first: its retries get its first answer again
        assert len({str(a[2]) for a in same}) == 1
        assert all(a[1] == 409 for a in others)
    else:  # another id came first: the task is done, and the retried id was never applied
        assert all(a[1] == 409 for a in same)
        assert sum(a[1] == 200 for a in others) == 1
    moves = db.session.execute(select(func.count(StockMovement.id)).where(StockMovement.reason == "move"))
    assert moves.scalar_one() == 1
    assert check_stock() == []
