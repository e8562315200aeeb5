"""Replenishment: min/max per product per location, on the page and through the API; suggestions count what is
available (click & collect reserved included) and what replenishment transfers still bring; the chosen
suggestions become transfers; clerks and pickers reach none of it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import integration_token, level, stock_snapshot
from tests.integration.transfers.transfer_floor import make_transfer_floor, pickup_order
from tests.web.staff import client_fixture, flashes, sign_in  # noqa: F401
from wms.channels.service import create_token
from wms.extensions import db
from wms.transfers.models import Transfer
from wms.transfers.replenishment import set_min_max, suggestions
from wms.transfers.service import create_transfer

API = "/api/v1/min-max"


@pytest.fixture
def floor(app, monkeypatch):
    return make_transfer_floor(monkeypatch)


def suggested():
    db.session.rollback()  # a fresh read, as each request has (SQLite keeps a read transaction's snapshot)
    return suggestions()


def transfers() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(Transfer.id))).scalar_one()


def test_suggestions_count_what_is_there_and_what_is_coming(floor):
    from tests.factories import add_stock

    add_stock("ST1", "S-01", "A", 3)
    set_min_max("ST1", "A", 4, 10)
    set_min_max("ST1", "B", 0, 2)  # min 0: never below
    (s,) = suggested()
    assert (s.location, s.sku, s.source, s.qty, s.projected) == ("ST1", "A", "WH1", 7, 3)
    pickup_order(floor, "WEB-1", [("A", 2)])  # two of the three reserved for a customer
    (s,) = suggested()
    assert (s.qty, s.projected) == (9, 1)
    create_transfer("WH1", "ST1", [{"sku": "A", "qty": 2}])  # on its way: counts
    (s,) = suggested()
    assert (s.qty, s.projected) == (7, 3)
    create_transfer("WH1", "ST1", [{"sku": "A", "qty": 1}])
    assert suggested() == []  # 1 available + 3 coming: at its min


def test_a_manager_keeps_a_product_and_turns_the_suggestion_into_a_transfer(client, floor):
    sign_in(client, "boss")
    r = client.post("/replenishment/rules", data={"location": "ST1", "sku": "A", "min": "2", "max": "6"})
    assert r.status_code == 303
    html = client.get("/replenishment").get_data(as_text=True)
    assert flashes(html) == ["A at ST1: min 2, max 6."]
    row = html.split('id="suggestion-ST1-A"', 1)[1].split("</tr>", 1)[0]
    assert 'value="A|ST1|WH1|6"' in row
    r = client.post("/replenishment/transfers", data={"pick": ["A|ST1|WH1|6"]})
    assert r.status_code == 303 and r.headers["Location"].endswith("/transfers")
    assert transfers() == 1 and level("A", "WH1") == (10, 6)
    html = client.get("/replenishment").get_data(as_text=True)
    assert 'id="no-suggestions"' in html  # what is coming now covers it
    # bad levels are said and change nothing
    client.post("/replenishment/rules", data={"location": "ST1", "sku": "A", "min": "9", "max": "3"})
    assert "at least the min (9)" in " ".join(flashes(client.get("/replenishment").get_data(as_text=True)))
    client.post("/replenishment/rules", data={"location": "ST1", "sku": "A", "remove": "1"})
    assert "No product is kept anywhere yet." in client.get("/replenishment").get_data(as_text=True)


def test_a_stale_suggestion_that_no_longer_fits_is_refused_whole(client, floor):
    sign_in(client, "boss")
    before = stock_snapshot()
    r = client.post("/replenishment/transfers", data={"pick": ["A|ST1|WH1|50"]})
    assert r.status_code == 303
    assert any(
        "not enough stock of A (10 available)" in m
        for m in flashes(client.get("/replenishment").get_data(as_text=True))
    )
    assert transfers() == 0 and stock_snapshot() == before


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_clerks_and_pickers_reach_none_of_it(client, floor, who):
    sign_in(client, who)
    assert client.get("/replenishment").status_code == 403
    token = {"Authorization": "Bearer " + create_token("staff", username=who)}
    assert client.put(f"{API}/ST1/A", json={"min": 1, "max": 2}, headers=token).status_code == 403


def test_the_api_keeps_min_max(client, floor):
    token = {"Authorization": "Bearer " + integration_token()}
    r = client.put(f"{API}/ST1/A", json={"min": 2, "max": 5}, headers=token)
    assert r.status_code == 200
    assert r.json == {
        "location": "ST1",
        "sku": "A",
        "min": 2,
        "max": 5,
        "available": 0,
        "incoming": 0,
        "projected": 0,
        "below": True,
    }
    assert [i["sku"] for i in client.get(f"{API}?location=ST1", headers=token).json["items"]] == ["A"]
    bad = client.put(f"{API}/ST1/A", json={"min": 6, "max": 5}, headers=token)
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["field"] == "max"
    assert client.put(f"{API}/ST9/A", json={"min": 1, "max": 5}, headers=token).status_code == 404
    assert client.put(f"{API}/ST1/NOPE", json={"min": 1, "max": 5}, headers=token).status_code == 404
    assert client.delete(f"{API}/ST1/A", headers=token).status_code == 204
    assert client.delete(f"{API}/ST1/A", headers=token).status_code == 404
    assert client.get(API, headers=token).json["items"] == []
