"""``POST /api/v1/shipments`` over HTTP: who may ship, the contract's answers and error codes, and the channel's view
of the shipped order; every refused request changes nothing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.factories import Api, stock_snapshot
from tests.integration.shipping.packing import GTINS, make_floor, picked, place
from tests.web.staff import new_client
from wms.auth.models import User
from wms.channels.models import OutboxEvent
from wms.channels.service import create_token
from wms.extensions import db
from wms.orders.models import Shipment
from wms.printing.models import PrintJob
from wms.stock.models import StockMovement
from wms.stock.service import check_stock
from wms.tasks.service import apply_scan

URL = "/api/v1/shipments"
ONE = [{"weight_g": 1200}]


@pytest.fixture
def floor(any_app, monkeypatch, tmp_path):
    return make_floor(monkeypatch, any_app, tmp_path)


@pytest.fixture
def client(floor, any_app):
    return new_client(any_app)


def auth(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token('staff', username=username, device='PACK-1')}"}


def user(name: str) -> User:
    return db.session.execute(select(User).where(User.username == name)).scalar_one()


def packed(external_id: str = "WEB-1", lines=(("A", 2), ("B", 1))) -> int:
    order_id = place(external_id, lines)
    task_id = picked(order_id, tote=f"T-{order_id:04d}")
    piotr = user("piotr")
    apply_scan(task_id, "p1", f"T-{order_id:04d}", None, piotr)
    for i, (sku, qty) in enumerate(lines):
        apply_scan(task_id, f"p{i + 2}", GTINS[sku], qty, piotr)
    db.session.rollback()
    return order_id


def state() -> tuple:
    db.session.rollback()
    rows = tuple(
        db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Shipment, PrintJob, OutboxEvent)
    )
    return stock_snapshot(), rows


def test_ship_with_the_manual_carrier_and_the_channel_sees_it(client, floor):
    order_id = packed()
    body = {"order_id": order_id, "carrier": "manual", "tracking": "DHL-777", "parcels": ONE}
    r = client.post(URL, json=body, headers=auth("piotr"))
    assert r.status_code == 201, r.json
    body = r.json
    assert {"id", "order_id", "carrier", "tracking", "parcels"} <= set(body) and "label_job" not in body
    assert (body["order_id"], body["carrier"], body["tracking"]) == (order_id, "manual", "DHL-777")
    assert body["parcels"][0]["weight_g"] == 1200 and len(body["parcels"][0]["sscc"]) == 18
    moves = db.session.execute(select(StockMovement).where(StockMovement.reason == "ship")).scalars().all()
    assert {(m.reference, m.actor, m.device) for m in moves} == {(f"shipment:{body['id']}", "piotr", "PACK-1")}
    assert sum(m.qty for m in moves) == 3
    assert check_stock() == []
    channel = Api(client, floor).get(f"/api/v1/orders/{order_id}")
    assert channel.status_code == 200
    assert channel.json["status"] == "shipped"
    assert [(s["carrier"], s["tracking"]) for s in channel.json["shipments"]] == [("manual", "DHL-777")]
    assert [line["shipped"] for line in channel.json["lines"]] == [2, 1]
    assert channel.json["history"][-1] == {
        "status": "shipped",
        "at": channel.json["history"][-1]["at"],
        "actor": "piotr",
    }
    before = state()
    again = client.post(URL, json={"order_id": order_id, "carrier": "test", "parcels": ONE}, headers=auth("piotr"))
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_state"
    assert state() == before


def test_ship_with_the_test_carrier_and_a_label_is_queued(client):
    order_id = packed()
    body = {"order_id": order_id, "carrier": "test", "parcels": ONE + [{"weight_g": 300}], "printer": "WH1-zebra"}
    r = client.post(URL, json=body, headers=auth("boss"))
    assert r.status_code == 201, r.json
    assert r.json["tracking"].startswith("TEST")
    job = db.session.get(PrintJob, r.json["label_job"])
    assert (job.kind, job.status, job.data["tracking"]) == ("shipping", "queued", r.json["tracking"])
    assert len(r.json["label_jobs"]) == 2


def test_manual_without_tracking_is_a_422_on_tracking(client):
    order_id = packed()
    before = state()
    r = client.post(URL, json={"order_id": order_id, "carrier": "manual", "parcels": ONE}, headers=auth("piotr"))
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"
    assert [d["field"] for d in r.json["error"]["details"]] == ["tracking"]
    assert state() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"carrier": "test", "parcels": ONE}, ["order_id"]),
        ({"order_id": 1, "transfer_id": 1, "carrier": "test", "parcels": ONE}, ["order_id"]),
        ({"order_id": 1, "carrier": "test", "parcels": []}, ["parcels"]),
        ({"order_id": 1, "carrier": "test"}, ["parcels"]),
        ({"order_id": 1, "parcels": ONE}, ["carrier"]),
        ({"order_id": 1, "carrier": "test", "parcels": [{"weight_g": 0}]}, ["parcels[0].weight_g"]),
        ({"order_id": 1, "carrier": "test", "parcels": [{"weight_g": 5, "width_mm": -1}]}, ["parcels[0].width_mm"]),
        ({"order_id": 1, "carrier": "test", "parcels": [{"weight_g": "5"}]}, ["parcels[0].weight_g"]),
        ({"order_id": "1", "carrier": "test", "parcels": ONE}, ["order_id"]),
    ],
)
def test_bad_bodies_are_422_naming_the_fields(client, body, fields):
    packed()
    before = state()
    r = client.post(URL, json=body, headers=auth("piotr"))
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error", r.json
    assert [d["field"] for d in r.json["error"]["details"]] == fields
    assert state() == before


def test_an_unknown_transfer_is_a_404(client):
    before = state()
    r = client.post(URL, json={"transfer_id": 3, "carrier": "test", "parcels": ONE}, headers=auth("boss"))
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    assert state() == before


def test_unknown_carrier_and_printer_are_422_together(client):
    order_id = packed()
    before = state()
    body = {"order_id": order_id, "carrier": "pigeon", "parcels": ONE, "printer": "nope"}
    r = client.post(URL, json=body, headers=auth("piotr"))
    assert r.status_code == 422
    assert [d["field"] for d in r.json["error"]["details"]] == ["carrier", "printer"]
    assert state() == before


def test_who_may_ship(client, floor):
    order_id = packed()
    before = state()
    body = {"order_id": order_id, "carrier": "test", "parcels": ONE}
    assert client.post(URL, json=body).status_code == 401
    r = client.post(URL, json=body, headers=auth("kasia"))  # a clerk
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert Api(client, floor).post(URL, json=body).status_code == 403  # a channel token
    r = client.post(URL, json=body, headers=auth("olaf"))  # a picker of WH2
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = client.post(URL, json={**body, "order_id": order_id + 99}, headers=auth("boss"))
    assert r.status_code == 404
    assert state() == before


def test_an_order_not_packed_is_409(client):
    order_id = place()
    picked(order_id)
    before = state()
    r = client.post(URL, json={"order_id": order_id, "carrier": "test", "parcels": ONE}, headers=auth("piotr"))
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"
    assert state() == before


def test_the_body_must_be_json(client):
    r = client.post(URL, data="order_id=1", headers={**auth("piotr"), "Content-Type": "text/plain"})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"


def test_racing_shipments_of_one_order_ship_it_once(client, any_app):
    order_id = packed()
    headers = auth("piotr")
    barrier = threading.Barrier(4)
    answers: list[int] = []
    lock = threading.Lock()

    def ship() -> None:
        own = new_client(any_app)
        barrier.wait(30)
        r = own.post(URL, json={"order_id": order_id, "carrier": "test", "parcels": ONE}, headers=headers)
        with lock:
            answers.append(r.status_code)

    pool = [threading.Thread(target=ship) for _ in range(4)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert not any(t.is_alive() for t in pool)
    assert sorted(answers) == [201, 409, 409, 409]
    db.session.rollback()
    assert db.session.execute(select(func.count(Shipment.id))).scalar_one() == 1
    assert check_stock() == []


def test_pack_and_ship_over_http_with_the_contract_codes(client):
    order_id = place(lines=[("A", 1)])
    task_id = picked(order_id, tote="T-0042")
    headers = auth("piotr")

    def scan(scan_id: str, code: str):
        return client.post(f"/api/v1/tasks/{task_id}/scans", json={"id": scan_id, "code": code}, headers=headers)

    r = scan("w1", "T-0043")
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_tote"
    assert r.json["error"]["details"] == {"expected": "T-0042", "scanned": "T-0043"}
    assert scan("s1", "T-0042").json["task"]["next"]["prompt"] == "Check 1 x A (0 of 1)"
    r = client.post(f"/api/v1/tasks/{task_id}/complete", json={"id": "c1"}, headers=headers)
    assert r.status_code == 409 and r.json["error"]["details"]["missing"][0]["sku"] == "A"
    r = scan("w2", GTINS["B"])
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_product"
    assert scan("s2", GTINS["A"]).json["task"]["status"] == "done"
    r = scan("w3", GTINS["A"])
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"
    body = {"order_id": order_id, "carrier": "test", "parcels": ONE, "printer": "WH1-pdf"}
    r = client.post(URL, json=body, headers=headers)
    assert r.status_code == 201 and r.json["packing_slip_job"] > r.json["label_job"]
    assert check_stock() == []
