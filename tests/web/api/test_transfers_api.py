"""Transfers over HTTP, SQLite and PostgreSQL: a manager or an integration makes one, the warehouse ships it with
``POST /shipments {transfer_id}``, the store receives it through the task API (label, items, a damaged one);
who may see what; every error answers its code and changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import integration_token, stock_snapshot
from tests.integration.transfers.transfer_floor import GTINS, drive, make_transfer_floor, open_tasks, users
from tests.web.staff import new_client
from wms.channels.service import create_token
from wms.picking.service import release_wave

URL = "/api/v1/transfers"


@pytest.fixture
def floor(any_app, monkeypatch):
    return make_transfer_floor(monkeypatch)


@pytest.fixture
def client(any_app, floor):
    return new_client(any_app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def staff(username: str) -> dict[str, str]:
    return bearer(create_token("staff", username=username))


BODY = {"from": "WH1", "to": "ST1", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]}


def test_a_manager_sends_stock_to_a_store_and_the_store_receives_it(client, floor):
    boss = staff("boss")
    r = client.post(URL, json=BODY, headers=boss)
    assert r.status_code == 201, r.json
    transfer = r.json
    assert transfer["status"] == "requested" and (transfer["from"], transfer["to"]) == ("WH1", "ST1")
    assert [(line["sku"], line["qty"], line["shipped"]) for line in transfer["lines"]] == [("A", 2, 0), ("B", 1, 0)]

    # picked in a wave with no orders named, packed, shipped by the transfer's id
    piotr = users()["piotr"]
    for task_id in release_wave("WH1")["tasks"]:
        drive(task_id, piotr, f"p{task_id}")
    (pack_id,) = open_tasks("pack")
    drive(pack_id, piotr, "pack")
    assert client.get(f"{URL}/{transfer['id']}", headers=boss).json["status"] == "packed"
    r = client.post(
        "/api/v1/shipments",
        json={"transfer_id": transfer["id"], "carrier": "test", "parcels": [{"weight_g": 900}]},
        headers=staff("piotr"),
    )
    assert r.status_code == 201, r.json
    assert r.json["transfer_id"] == transfer["id"]
    sscc = r.json["parcels"][0]["sscc"]
    shown = client.get(f"{URL}/{transfer['id']}", headers=boss).json
    assert shown["status"] == "in_transit" and [line["shipped"] for line in shown["lines"]] == [2, 1]

    # the store's clerk finds the receiving among her tasks and works it through the task API
    kasia = staff("kasia")
    tasks = client.get("/api/v1/tasks?kind=transfer_receive", headers=kasia).json["tasks"]
    assert [t["reference"]["transfer"] for t in tasks] == [transfer["id"]]
    task_url = f"/api/v1/tasks/{tasks[0]['id']}"
    assert tasks[0]["next"]["expect"] == "order"
    assert client.post(f"{task_url}/scans", json={"id": "k1", "code": sscc}, headers=kasia).status_code == 200
    r = client.post(f"{task_url}/scans", json={"id": "k2", "code": GTINS["A"], "qty": 2}, headers=kasia)
    assert r.status_code == 200 and r.json["task"]["next"]["sku"] == "B"
    r = client.post(f"{task_url}/scans", json={"id": "k3", "code": GTINS["B"], "condition": "damaged"}, headers=kasia)
    assert r.status_code == 200 and r.json["task"]["status"] == "done", r.json
    shown = client.get(f"{URL}/{transfer['id']}", headers=kasia).json
    assert shown["status"] == "received" and shown["variance"] == "damaged 1 x B"
    assert [(line["received"], line["damaged"]) for line in shown["lines"]] == [(2, 0), (0, 1)]
    listed = client.get(f"{URL}?location=ST1&status=received", headers=kasia).json["items"]
    assert [t["id"] for t in listed] == [transfer["id"]]


def test_an_integration_makes_and_reads_transfers(client, floor):
    token = bearer(integration_token())
    r = client.post(URL, json=BODY, headers=token)
    assert r.status_code == 201
    assert client.get(f"{URL}/{r.json['id']}", headers=token).json["id"] == r.json["id"]


def test_who_may_make_and_see_a_transfer(client, floor):
    before = stock_snapshot()
    for who in ("kasia", "piotr"):
        r = client.post(URL, json=BODY, headers=staff(who))
        assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert client.post(URL, json=BODY, headers=bearer(floor["token"])).status_code == 403  # a channel
    assert stock_snapshot() == before
    transfer_id = client.post(URL, json=BODY, headers=staff("boss")).json["id"]
    for who, status in (("kasia", 200), ("piotr", 200), ("ewa", 404), ("boss", 200)):
        assert client.get(f"{URL}/{transfer_id}", headers=staff(who)).status_code == status, who
    assert client.get(f"{URL}/{transfer_id}", headers=bearer(floor["token"])).status_code == 403
    assert client.get(f"{URL}/{transfer_id + 1}", headers=staff("boss")).status_code == 404
    assert client.get(URL, headers=staff("ewa")).json["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        ({"to": "ST1", "lines": [{"sku": "A", "qty": 1}]}, 422, "validation_error", ["from"]),
        ({**BODY, "from": "NOPE"}, 422, "validation_error", ["from"]),
        ({**BODY, "to": "WH1"}, 422, "validation_error", ["to"]),
        ({**BODY, "lines": []}, 422, "validation_error", ["lines"]),
        ({**BODY, "lines": [{"sku": "A", "qty": 0}]}, 422, "validation_error", ["lines[0].qty"]),
        ({**BODY, "lines": [{"sku": "X", "qty": 1}]}, 422, "validation_error", ["lines[0].sku"]),
        ({**BODY, "lines": [{"sku": "A", "qty": 11}]}, 409, "insufficient_stock", None),
    ],
)
def test_bad_transfers_answer_their_code_and_change_nothing(client, floor, body, status, code, fields):
    before = stock_snapshot()
    r = client.post(URL, json=body, headers=staff("boss"))
    assert r.status_code == status and r.json["error"]["code"] == code, r.json
    if fields is not None:
        assert [d["field"] for d in r.json["error"]["details"]] == fields
    else:
        assert r.json["error"]["details"] == [{"sku": "A", "requested": 11, "available": 10}]
    assert stock_snapshot() == before
    assert client.get(URL, headers=staff("boss")).json["items"] == []


def test_a_bad_status_filter_is_a_422(client, floor):
    r = client.get(f"{URL}?status=lost", headers=staff("boss"))
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "status"


def test_a_channel_sees_its_pickup_order_travel_to_the_store(client, floor):
    channel = bearer(floor["token"])
    r = client.post(
        "/api/v1/orders",
        json={
            "external_id": "WEB-T1",
            "fulfilment": "pickup",
            "pickup_location": "ST1",
            "customer": {"name": "Anna Nowak"},
            "lines": [{"sku": "A", "qty": 1}],
        },
        headers=channel,
    )
    assert r.status_code == 201, r.json
    order_id = r.json["id"]
    piotr = users()["piotr"]
    for task_id in release_wave("WH1")["tasks"]:
        drive(task_id, piotr, f"p{task_id}")
    (pack_id,) = open_tasks("pack")
    drive(pack_id, piotr, "pack")
    shipped = client.post(
        "/api/v1/shipments",
        json={"order_id": order_id, "carrier": "test", "parcels": [{"weight_g": 500}]},
        headers=staff("piotr"),
    )
    assert shipped.status_code == 201 and shipped.json["transfer_id"]
    assert client.get(f"/api/v1/orders/{order_id}", headers=channel).json["status"] == "in_transit"
    found = client.get(f"{URL}?order_id={order_id}", headers=staff("kasia")).json["items"]
    assert [(t["id"], t["status"], t["order_id"]) for t in found] == [
        (shipped.json["transfer_id"], "in_transit", order_id)
    ]
    (receive_id,) = open_tasks("transfer_receive")
    drive(receive_id, users()["kasia"], "recv", label=shipped.json["tracking"])
    order = client.get(f"/api/v1/orders/{order_id}", headers=channel).json
    assert order["status"] == "reserved"
    assert [h["status"] for h in order["history"]] == ["reserved", "picking", "packed", "in_transit", "reserved"]
