"""The transfers page: a manager sends stock from one location to another by typing skus and quantities, and sees
every transfer with its status and variance; a typo or a shortage is a clear message and changes nothing; pickers
and clerks may not open it."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from tests.factories import level, stock_snapshot
from tests.integration.transfers.transfer_floor import make_transfer_floor
from tests.web.staff import client_fixture, flashes, sign_in  # noqa: F401
from wms.extensions import db
from wms.transfers.models import Transfer
from wms.transfers.service import create_transfer


@pytest.fixture
def floor(app, monkeypatch):
    return make_transfer_floor(monkeypatch)


def transfers() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(Transfer.id))).scalar_one()


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_pickers_and_clerks_may_not_open_it(client, floor, who):
    sign_in(client, who)
    assert client.get("/transfers").status_code == 403
    assert client.post("/transfers", data={"from": "WH1", "to": "ST1", "lines": "A 1"}).status_code == 403
    assert transfers() == 0


def test_a_manager_requests_a_transfer_and_sees_it_listed(client, floor):
    sign_in(client, "boss")
    page = client.get("/transfers").get_data(as_text=True)
    assert 'id="new-transfer"' in page and "No transfer yet." in page
    r = client.post("/transfers", data={"from": "WH1", "to": "ST1", "lines": "A 3\n\nB\n"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/transfers")
    html = client.get("/transfers").get_data(as_text=True)
    (transfer_id,) = db.session.execute(select(Transfer.id)).scalars()
    assert flashes(html) == [f"Transfer {transfer_id} requested: reserved at WH1, picked with the next wave."]
    row = html.split(f'id="transfer-{transfer_id}"', 1)[1].split("</tr>", 1)[0]
    assert "WH1" in row and "ST1" in row and "requested" in row and "replenishment" in row
    assert level("A", "WH1") == (10, 3) and level("B", "WH1") == (5, 1)
    # only open ones: still listed
    assert f'id="transfer-{transfer_id}"' in client.get("/transfers?status=open").get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"from": "WH1", "to": "ST1", "lines": "A two"}, "row 1: 'two' is not a quantity of at least 1"),
        ({"from": "WH1", "to": "ST1", "lines": "   "}, "Name at least one product"),
        ({"from": "WH1", "to": "WH1", "lines": "A 1"}, "to: a transfer goes to another location"),
        ({"from": "WH1", "to": "ST1", "lines": "NOPE 1"}, "lines[0].sku: unknown sku 'NOPE'"),
        ({"from": "WH1", "to": "ST1", "lines": "A 50"}, "A: 50 asked, 10 available at WH1"),
    ],
)
def test_mistakes_are_said_and_change_nothing(client, floor, form, said):
    sign_in(client, "boss")
    before = stock_snapshot()
    r = client.post("/transfers", data=form)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert any(said in unescape(message) for message in flashes(html)), flashes(html)
    assert form["lines"].strip() in html  # what was typed is kept to correct it
    assert transfers() == 0 and stock_snapshot() == before


def test_the_variance_of_a_received_transfer_shows(client, floor):
    transfer = create_transfer("WH1", "ST1", [{"sku": "A", "qty": 1}])
    db.session.execute(select(Transfer).where(Transfer.id == transfer.id)).scalar_one().variance = "short 1 x A"
    db.session.commit()
    sign_in(client, "boss")
    html = client.get("/transfers").get_data(as_text=True)
    assert "short 1 x A" in html
