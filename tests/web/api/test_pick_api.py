"""Picking over HTTP with a staff token, on SQLite and PostgreSQL: the pick task's ``next`` steps, every error code
of the contract (wrong_tote, wrong_bin, wrong_product, wrong_lot, over_quantity, unknown_code) with
``{expected, scanned}``, ``POST /tasks/{id}/short``, a typed quantity alone, replays, and another location's 404."""

from __future__ import annotations

import pytest

from tests.factories import fast_password_hashing, stock_snapshot
from tests.integration.tasks.pick_floor import GTIN, make_floor, order, pick_task
from tests.web.staff import new_client
from wms.channels.service import create_token
from wms.stock.service import check_stock


@pytest.fixture
def floor(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    return make_floor()


@pytest.fixture
def client(any_app, floor):
    return new_client(any_app)


def auth(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token('staff', username=username)}"}


class Picker:
    def __init__(self, client, task_id: int, who: str = "piotr"):
        self.client, self.task_id, self.headers, self.n = client, task_id, auth(who), 0

    def scan(self, code: str | None = None, **extra):
        self.n += 1
        body = {"id": f"scan-{self.n}", **({"code": code} if code is not None else {}), **extra}
        return self.client.post(f"/api/v1/tasks/{self.task_id}/scans", json=body, headers=self.headers)

    def short(self, qty_found, scan_id="short-1"):
        body = {"id": scan_id, "qty_found": qty_found}
        return self.client.post(f"/api/v1/tasks/{self.task_id}/short", json=body, headers=self.headers)


def test_a_pick_over_http_in_the_contract_shape(client, floor):
    order_id = order(floor, "W-1", [("A", 2)])
    picker = Picker(client, pick_task([order_id]))
    r = client.get(f"/api/v1/tasks/{picker.task_id}", headers=picker.headers)
    assert r.status_code == 200
    task = r.json
    assert task["kind"] == "pick" and task["status"] == "open" and task["reference"] == {"wave": 0}
    assert task["lines"] == [
        {"line": 1, "sku": "A", "qty": 2, "done": 0, "bin": "A-01", "lot": None, "order": order_id}
    ]
    assert task["next"]["expect"] == "tote" and task["next"]["prompt"] == f"Scan a tote for order {order_id}"
    assert picker.scan("T-0001").json["task"]["tote"] is None  # the tote is the order's (a cluster has several)
    assert picker.scan("A-01").json["task"]["next"] == {
        "expect": "product",
        "prompt": "Scan item 2 x A",
        "bin": "A-01",
        "sku": "A",
        "qty": 2,
        "order": order_id,
        "tote": "T-0001",
    }
    r = picker.scan(GTIN["A"])
    assert r.status_code == 200 and r.json["ok"] is True and r.json["task"]["next"]["expect"] == "qty"
    r = picker.scan(qty=1)  # the typed number alone
    assert r.status_code == 200 and r.json["task"]["status"] == "done"
    order_view = client.get("/api/v1/tasks?kind=pack", headers=picker.headers).json["tasks"]
    assert [t["reference"] for t in order_view] == [{"order": order_id}]
    assert check_stock() == []


@pytest.mark.parametrize(
    "steps, code, error, expected, scanned",
    [
        ([], "A-01", "wrong_tote", "tote", "A-01"),
        (["T-1"], "A-02", "wrong_bin", "A-01", "A-02"),
        (["T-1", "A-01"], "B", "wrong_product", "A", "B"),
        (["T-1"], "NO-SUCH-BIN", "unknown_code", "bin", "NO-SUCH-BIN"),
    ],
)
def test_wrong_scans_answer_the_contracts_codes_and_change_nothing(
    client, floor, steps, code, error, expected, scanned
):
    picker = Picker(client, pick_task([order(floor, "W-1", [("A", 1)])]))
    for step in steps:
        assert picker.scan(step).status_code == 200
    snap = stock_snapshot()
    r = picker.scan(GTIN.get(code, code))
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == error
    assert r.json["error"]["details"]["expected"] == expected
    assert r.json["error"]["details"]["scanned"] == scanned
    assert stock_snapshot() == snap


def test_wrong_lot_and_over_quantity(client, floor):
    picker = Picker(client, pick_task([order(floor, "W-1", [("L", 1)])]))
    picker.scan("T-1")
    picker.scan("A-03")
    r = picker.scan(f"010{GTIN['L']}10L-NEW")
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_lot"
    assert r.json["error"]["details"] == {"expected": "L-OLD", "scanned": "L-NEW"}
    r = picker.scan(f"010{GTIN['L']}10L-OLD", qty=2)
    assert r.status_code == 422 and r.json["error"]["code"] == "over_quantity"
    assert picker.scan(f"010{GTIN['L']}10L-OLD").json["task"]["status"] == "done"


def test_short_over_http(client, floor):
    picker = Picker(client, pick_task([order(floor, "W-1", [("A", 3)])]))
    picker.scan("T-1")
    picker.scan("A-01")
    r = picker.short(3)
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"
    r = picker.short(-1)
    assert r.status_code == 422
    r = picker.client.post(f"/api/v1/tasks/{picker.task_id}/short", json={"qty_found": 1}, headers=picker.headers)
    assert r.status_code == 422  # no client id
    r = picker.short(1)
    assert r.status_code == 200 and r.json["ok"] is True
    assert [(line["bin"], line.get("short", 0)) for line in r.json["task"]["lines"]] == [("A-01", 2), ("B-01", 0)]
    assert picker.short(1).json == r.json  # the retry answers the first answer
    counts = client.get("/api/v1/tasks?kind=count", headers=picker.headers).json["tasks"]
    assert [t["reference"]["bin"] for t in counts] == ["A-01"]
    assert check_stock() == []


def test_short_of_a_putaway_is_invalid_state(client, floor):
    from wms.tasks.service import receive

    receive("WH1", "DOCK", "PO-1", [{"sku": "A", "qty": 1}])
    [task] = client.get("/api/v1/tasks?kind=putaway", headers=auth("piotr")).json["tasks"]
    r = Picker(client, task["id"]).short(0)
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"


def test_another_locations_picker_gets_404_and_a_held_task_409(client, floor):
    picker = Picker(client, pick_task([order(floor, "W-1", [("A", 1)])]))
    assert Picker(client, picker.task_id, "olaf").scan("T-1").status_code == 404
    assert Picker(client, picker.task_id, "olaf").short(0).status_code == 404
    assert picker.scan("T-1").status_code == 200
    for step in ("T-1", "A-01"):  # a new scan, and one whose client id the holder used: both refused
        r = Picker(client, picker.task_id, "anna").scan(step)
        assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"
