"""Returns over HTTP, SQLite and PostgreSQL: a channel opens and follows a return, gets the return label as a PDF;
a clerk opens one at the counter and takes it in; every status is a signed ``return.updated`` webhook carrying the
return as the API shows it; every error case answers its code and changes nothing."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.factories import stock_snapshot
from tests.integration.channels.conftest import receiver  # noqa: F401 (the fixture)
from tests.integration.returns.returns_floor import make_returns_floor, shipped
from tests.web.staff import new_client
from wms.channels.service import authenticate, create_channel, create_token
from wms.channels.webhooks import register_webhook
from wms.worker import run_worker

SECRET = "returns-secret-1"


@pytest.fixture
def floor(any_app, monkeypatch, tmp_path):
    return {"web": make_returns_floor(monkeypatch, any_app, tmp_path)}


@pytest.fixture
def client(any_app, floor):
    return new_client(any_app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def staff(username: str) -> dict[str, str]:
    return bearer(create_token("staff", username=username))


def test_a_channel_opens_a_return_follows_it_and_gets_its_label(client, floor):
    order_id = shipped("WEB-1", (("A", 2),))
    web = bearer(floor["web"])
    r = client.post(
        "/api/v1/returns",
        json={"order_id": order_id, "method": "ship", "lines": [{"sku": "A", "qty": 1, "reason": "broken zip"}]},
        headers=web,
    )
    assert r.status_code == 201, r.json
    ret = r.json
    assert {"id", "rma", "status", "lines"} <= set(ret) and ret["status"] == "requested"
    assert ret["lines"][0]["sku"] == "A" and ret["lines"][0]["qty"] == 1 and ret["lines"][0]["refund_due"] == 0
    got = client.get(f"/api/v1/returns/{ret['id']}", headers=web)
    assert got.status_code == 200 and got.json["rma"] == ret["rma"]
    label = client.get(ret["label_url"], headers=web)
    assert label.status_code == 200 and label.mimetype == "application/pdf" and label.data.startswith(b"%PDF")

    # another channel sees neither the order nor the return
    _, other = create_channel("SHOP2", ship_from=["WH1"])
    assert client.get(f"/api/v1/returns/{ret['id']}", headers=bearer(other)).status_code == 404
    refused = client.post(
        "/api/v1/returns",
        json={"order_id": order_id, "method": "ship", "lines": [{"sku": "A", "qty": 1}]},
        headers=bearer(other),
    )
    assert refused.status_code == 404

    # received at the warehouse: refund_due and the disposition show
    r = client.post(
        f"/api/v1/returns/{ret['id']}/receive",
        json={
            "id": "in-1",
            "location": "WH1",
            "lines": [{"sku": "A", "qty": 1, "grade": "new", "disposition": "restock"}],
        },
        headers=staff("piotr"),
    )
    assert r.status_code == 200, r.json
    assert r.json["status"] == "closed" and r.json["refund_due"] == 1
    assert r.json["lines"][0]["disposition"] == "restock"
    assert client.get(f"/api/v1/returns/{ret['id']}", headers=web).json["status"] == "closed"


def test_errors_answer_their_codes_and_change_nothing(client, floor):
    order_id = shipped("WEB-1", (("A", 1),))
    web = bearer(floor["web"])
    snap = stock_snapshot()
    cases = [
        ({"order_id": order_id, "method": "ship", "lines": [{"sku": "B", "qty": 1}]}, 422, "validation_error"),
        ({"order_id": order_id, "method": "ship", "lines": [{"sku": "A", "qty": 2}]}, 422, "validation_error"),
        ({"order_id": order_id, "method": "store", "lines": [{"sku": "A", "qty": 1}]}, 422, "validation_error"),
        ({"order_id": order_id, "method": "post", "lines": [{"sku": "A", "qty": 1}]}, 422, "validation_error"),
        ({"order_id": order_id, "method": "ship", "lines": []}, 422, "validation_error"),
        ({"order_id": 999_999, "method": "ship", "lines": [{"sku": "A", "qty": 1}]}, 404, "not_found"),
    ]
    for body, status, code in cases:
        r = client.post("/api/v1/returns", json=body, headers=web)
        assert (r.status_code, r.json["error"]["code"]) == (status, code), (body, r.json)
    assert client.get("/api/v1/returns/12345", headers=web).status_code == 404
    assert client.post("/api/v1/returns", json={}, headers={}).status_code == 401
    # a picker may not open returns; a clerk only at their own store
    body = {"order_id": order_id, "method": "store", "store": "ST1", "lines": [{"sku": "A", "qty": 1}]}
    assert client.post("/api/v1/returns", json=body, headers=staff("piotr")).status_code == 403
    assert client.post("/api/v1/returns", json=body, headers=staff("ewa")).status_code == 403
    assert stock_snapshot() == snap


def test_a_clerk_opens_a_walk_in_return_finds_it_by_rma_and_takes_it_in(client, floor):
    order_id = shipped("WEB-1", (("A", 1),))
    kasia = staff("kasia")
    body = {"order_id": order_id, "method": "store", "store": "ST1", "lines": [{"sku": "A", "qty": 1}]}
    r = client.post("/api/v1/returns", json=body, headers=kasia)
    assert r.status_code == 201 and r.json["store"] == "ST1" and "label_url" not in r.json
    rma = r.json["rma"]
    found = client.get(f"/api/v1/returns?rma=$R:{rma}", headers=kasia)
    assert [item["rma"] for item in found.json["items"]] == [rma]
    assert client.get(f"/api/v1/returns?order_id={order_id}", headers=kasia).json["items"][0]["rma"] == rma
    # a picker at the warehouse does not see a return handed in at a store
    assert client.get(f"/api/v1/returns?rma={rma}", headers=staff("piotr")).json["items"] == []
    intake = {
        "id": "c-1",
        "location": "ST1",
        "lines": [{"sku": "A", "qty": 1, "grade": "opened", "disposition": "quarantine"}],
    }
    r = client.post(f"/api/v1/returns/{r.json['id']}/receive", json=intake, headers=kasia)
    assert r.status_code == 200 and r.json["status"] == "inspected"
    again = client.post(f"/api/v1/returns/{r.json['id']}/receive", json=intake, headers=kasia)
    assert again.status_code == 200 and again.json["lines"][0]["received"] == 1


def test_every_status_is_a_signed_return_updated_webhook(any_app, client, floor, receiver):  # noqa: F811
    channel_id = authenticate(floor["web"]).channel_id
    register_webhook(channel_id, receiver.url, ["return.updated"], SECRET, allow_private=True)
    order_id = shipped("WEB-1", (("A", 2),))
    ret = client.post(
        "/api/v1/returns",
        json={"order_id": order_id, "method": "ship", "lines": [{"sku": "A", "qty": 2}]},
        headers=bearer(floor["web"]),
    ).json
    run_worker(any_app, once=True)
    for qty, disposition in [(1, "restock"), (1, "quarantine")]:
        r = client.post(
            f"/api/v1/returns/{ret['id']}/receive",
            json={
                "id": f"in-{disposition}",
                "location": "WH1",
                "lines": [{"sku": "A", "qty": qty, "grade": "opened", "disposition": disposition}],
            },
            headers=staff("piotr"),
        )
        assert r.status_code == 200
        run_worker(any_app, once=True)
    sent = receiver.of("return.updated")
    statuses = [s.json["data"]["status"] for s in sent]
    assert statuses == ["requested", "received", "inspected"]
    for s in sent:
        expected = "sha256=" + hmac.new(SECRET.encode(), s.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(s.headers["X-WMS-Signature"], expected)
        assert set(s.json) == {"id", "event", "at", "data"} and s.json["event"] == "return.updated"
    last = sent[-1].json["data"]
    assert last["id"] == ret["id"] and last["rma"] == ret["rma"] and last["refund_due"] == 2
    assert last["lines"][0]["dispositions"] == {"restock": 1, "quarantine": 1}
