"""The pickup counter over HTTP, SQLite and PostgreSQL: a clerk finds the order by its code (or its QR) and hands
it over; the channel sees ready_for_pickup with the pickup block (code, store, shelf, hold date, QR link) and then
collected; the QR link serves the code's QR; every error answers its code and changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import stock_snapshot
from tests.integration.pickups.pickup_floor import make_pickup_floor, order_code, pickup_order, staged
from tests.web.staff import new_client
from wms.channels.service import create_token


@pytest.fixture
def floor(any_app, monkeypatch):
    return make_pickup_floor(monkeypatch)


@pytest.fixture
def client(any_app, floor):
    return new_client(any_app)


def staff(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token('staff', username=username)}"}


def test_find_and_hand_over_at_the_counter(client, floor):
    order_id = staged(floor, "WEB-1", (("A", 2), ("B", 1)))
    code = order_code(order_id)
    web = {"Authorization": f"Bearer {floor['token']}"}
    shown = client.get(f"/api/v1/orders/{order_id}", headers=web).json
    assert shown["status"] == "ready_for_pickup"
    assert set(shown["pickup"]) == {"code", "store", "shelf", "hold_until", "qr_url", "reminded_at"}
    assert (shown["pickup"]["code"], shown["pickup"]["store"], shown["pickup"]["shelf"]) == (code, "ST1", "PU-01")
    qr = client.get(shown["pickup"]["qr_url"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data

    kasia = staff("kasia")
    found = client.get(f"/api/v1/pickups?code={code}", headers=kasia)
    assert found.status_code == 200 and found.json["id"] == order_id and found.json["pickup"]["shelf"] == "PU-01"
    body = {
        "id": "h-1",
        "lines": [
            {"sku": "A", "collected": 2},
            {"sku": "B", "collected": 0, "declined": 1, "reason": "changed mind", "condition": "sellable"},
        ],
    }
    r = client.post(f"/api/v1/orders/{order_id}/handover", json=body, headers=kasia)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "partially_collected"
    assert [(ln["sku"], ln["collected"], ln["declined"]) for ln in r.json["lines"]] == [("A", 2, 0), ("B", 0, 1)]
    again = client.post(f"/api/v1/orders/{order_id}/handover", json=body, headers=kasia)
    assert again.status_code == 200 and again.json["status"] == "partially_collected"
    second = client.post(f"/api/v1/orders/{order_id}/handover", json={**body, "id": "h-2"}, headers=kasia)
    assert second.status_code == 409 and second.json["error"]["code"] == "invalid_state"
    assert client.get(f"/api/v1/orders/{order_id}", headers=web).json["status"] == "partially_collected"


def test_counter_errors_answer_their_codes_and_change_nothing(client, floor):
    waiting = pickup_order(floor, "WEB-9", (("A", 1),))
    order_id = staged(floor, "WEB-1", (("A", 2),))
    kasia = staff("kasia")
    snap = stock_snapshot()
    assert client.get("/api/v1/pickups?code=ZZZZZZZZ", headers=kasia).status_code == 404
    assert client.get("/api/v1/pickups", headers=kasia).status_code == 422
    assert client.get(f"/api/v1/pickups?code={order_code(order_id)}", headers=staff("ewa")).status_code == 404
    assert client.get(f"/api/v1/pickups?code={order_code(order_id)}", headers=staff("piotr")).status_code == 403
    cases = [
        (waiting, {"id": "x", "lines": [{"sku": "A", "collected": 1}]}, 409, "invalid_state"),
        (order_id, {"id": "x", "lines": [{"sku": "A", "collected": 1}]}, 422, "validation_error"),
        (
            order_id,
            {"id": "x", "lines": [{"sku": "A", "collected": 2, "condition": "broken"}]},
            422,
            "validation_error",
        ),
        (order_id, {"id": "x", "lines": []}, 422, "validation_error"),
        (999_999, {"id": "x", "lines": [{"sku": "A", "collected": 1}]}, 404, "not_found"),
    ]
    for target, body, status, code in cases:
        r = client.post(f"/api/v1/orders/{target}/handover", json=body, headers=kasia)
        assert (r.status_code, r.json["error"]["code"]) == (status, code), (body, r.json)
    r = client.post(
        f"/api/v1/orders/{order_id}/handover",
        json={"id": "x", "lines": [{"sku": "A", "collected": 2}]},
        headers=staff("ewa"),
    )
    assert r.status_code == 404
    assert stock_snapshot() == snap
