"""POST /api/v1/waves over HTTP: 201 in the contract's shape (orders go picking, tasks are open picks of the
wave), 401 without a token, 403 for a picker, 422 for bad bodies, unknown locations, orders not due and nothing
due, with nothing changed on refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import Api, add_stock, fast_password_hashing, make_world, order_body
from wms.auth.service import create_user
from wms.channels.service import create_token
from wms.extensions import db
from wms.picking.models import Wave
from wms.tasks.models import Task


@pytest.fixture
def world(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    world = make_world(stock_a=10, stock_b=5)
    add_stock("WH2", "A-01", "B", 5)
    create_user("boss", "manager", None, "sekret-123")
    create_user("root", "admin", None, "sekret-123")
    create_user("piotr", "picker", "WH1", "sekret-123")
    return world


@pytest.fixture
def client(world, any_app):
    return any_app.test_client()


def staff(client, username: str) -> Api:
    return Api(client, create_token("staff", username=username))


def place(client, world, external_id: str, lines) -> int:
    r = Api(client, world.web).post("/api/v1/orders", json=order_body(external_id, lines=lines))
    assert r.status_code == 201, r.json
    return r.json["id"]


def waves_and_tasks() -> tuple[int, int]:
    counts = (
        db.session.execute(select(func.count()).select_from(Wave)).scalar_one(),
        db.session.execute(select(func.count()).select_from(Task)).scalar_one(),
    )
    db.session.rollback()
    return counts


def test_a_manager_releases_a_wave(client, world):
    first = place(client, world, "WEB-1", [("A", 2), ("B", 1)])
    second = place(client, world, "WEB-2", [("A", 1)])

    r = staff(client, "boss").post("/api/v1/waves", json={"location": "WH1"})

    assert r.status_code == 201, r.json
    assert set(r.json) == {"id", "location", "orders", "tasks"}
    assert r.json["location"] == "WH1" and r.json["orders"] == [first, second] and len(r.json["tasks"]) == 1
    order = Api(client, world.web).get(f"/api/v1/orders/{first}").json
    assert order["status"] == "picking" and order["history"][-1]["status"] == "picking"
    [task_id] = r.json["tasks"]
    task = staff(client, "piotr").get(f"/api/v1/tasks/{task_id}").json
    assert task["kind"] == "pick" and task["status"] == "open" and task["reference"]["wave"] == r.json["id"]
    assert [(line["sku"], line["qty"], line["bin"]) for line in task["lines"]] == [
        ("A", 2, "A-01"),
        ("A", 1, "A-01"),
        ("B", 1, "A-02"),
    ]


def test_an_admin_names_orders_and_the_totes_per_task(client, world):
    first = place(client, world, "WEB-1", [("A", 1)])
    place(client, world, "WEB-2", [("A", 1)])
    third = place(client, world, "WEB-3", [("A", 1)])

    r = staff(client, "root").post("/api/v1/waves", json={"location": "WH1", "orders": [third, first], "max_orders": 1})

    assert r.status_code == 201, r.json
    assert sorted(r.json["orders"]) == [first, third] and len(r.json["tasks"]) == 2


def test_who_may_release(client, world):
    place(client, world, "WEB-1", [("A", 1)])
    assert client.post("/api/v1/waves", json={"location": "WH1"}).status_code == 401
    r = staff(client, "piotr").post("/api/v1/waves", json={"location": "WH1"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert Api(client, world.integration).post("/api/v1/waves", json={"location": "WH1"}).status_code == 403
    assert waves_and_tasks() == (0, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "location"),
        ({"location": "NOPE"}, "location"),
        ({"location": "WH1", "max_orders": 0}, "max_orders"),
        ({"location": "WH1", "max_orders": "2"}, "max_orders"),
        ({"location": "WH1", "orders": []}, "orders"),
        ({"location": "WH1", "orders": ["1"]}, "orders[0]"),
        ({"location": "WH1", "orders": [0]}, "orders[0]"),
    ],
)
def test_bad_bodies_are_422_and_change_nothing(client, world, body, field):
    place(client, world, "WEB-1", [("A", 1)])

    r = staff(client, "boss").post("/api/v1/waves", json=body)

    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in r.json["error"]["details"]]
    assert waves_and_tasks() == (0, 0)


def test_orders_not_due_there_are_listed(client, world):
    at_wh1 = place(client, world, "WEB-1", [("A", 1)])
    also_at_wh1 = place(client, world, "WEB-2", [("B", 5)])  # all of WH1's B
    at_wh2 = place(client, world, "WEB-3", [("B", 5)])  # so this one is reserved at WH2

    r = staff(client, "boss").post("/api/v1/waves", json={"location": "WH2", "orders": [at_wh2, also_at_wh1, at_wh1]})

    assert r.status_code == 422
    assert r.json["error"]["details"] == [{"field": "orders", "message": f"not due at WH2: {at_wh1}, {also_at_wh1}"}]
    assert waves_and_tasks() == (0, 0)


def test_nothing_due_is_422(client, world):
    r = staff(client, "boss").post("/api/v1/waves", json={"location": "WH1"})
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"
    assert "no order is due" in r.json["error"]["message"]
    assert waves_and_tasks() == (0, 0)
