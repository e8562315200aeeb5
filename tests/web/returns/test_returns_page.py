"""The returns page: a manager sees the units waiting in quarantine and restocks or scraps them there (the stock
follows through the ledger), and the newest returns with what came in; pickers and clerks may not open it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import level
from tests.integration.returns.returns_floor import make_returns_floor, shipped, users
from tests.web.staff import client_fixture, flashes, sign_in  # noqa: F401
from wms.channels.models import Channel
from wms.extensions import db
from wms.returns.service import quarantined, receive_return, request_return
from wms.stock.service import check_stock


@pytest.fixture
def floor(app, monkeypatch, tmp_path):
    make_returns_floor(monkeypatch, app, tmp_path)
    return users()


def quarantined_return(floor, sku: str = "B") -> str:
    order_id = shipped("WEB-1", ((sku, 1),))
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    ret = request_return(order_id, "store", [{"sku": sku, "qty": 1}], store="ST1", channel_id=channel_id)
    receive_return(
        ret.id, "in-1", "ST1", [{"sku": sku, "qty": 1, "grade": "opened", "disposition": "quarantine"}], floor["kasia"]
    )
    db.session.rollback()
    return ret.rma


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_pickers_and_clerks_may_not_open_it(client, floor, who):
    quarantined_return(floor)
    sign_in(client, who)
    assert client.get("/returns").status_code == 403
    (item,) = quarantined()
    assert client.post(f"/returns/items/{item['item']}/decide", data={"decision": "scrap"}).status_code == 403
    assert len(quarantined()) == 1


def test_a_manager_restocks_a_quarantined_unit_from_the_page(client, floor):
    rma = quarantined_return(floor)
    sign_in(client, "boss")
    html = client.get("/returns").get_data(as_text=True)
    assert 'href="/returns"' in html
    waiting = html.split('class="list quarantine"', 1)[1].split("</table>", 1)[0]
    assert rma in waiting and ">B<" in waiting and ">ST1<" in waiting and ">RET<" in waiting and "opened" in waiting
    newest = html.split('class="list returns"', 1)[1].split("</table>", 1)[0]
    assert rma in newest and "inspected" in newest
    (item,) = quarantined()
    r = client.post(f"/returns/items/{item['item']}/decide", data={"decision": "restock"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/returns")
    html = client.get("/returns").get_data(as_text=True)
    assert flashes(html) == [f"Restocked: the units of {rma} are sellable again."]
    assert "Nothing waits in quarantine." in html
    db.session.rollback()  # the page's request committed in its own session: read what it left
    assert level("B", "ST1") == (1, 0)
    assert check_stock() == []


def test_a_manager_scraps_one_and_a_second_decision_is_refused(client, floor):
    rma = quarantined_return(floor)
    sign_in(client, "boss")
    (item,) = quarantined()
    client.post(f"/returns/items/{item['item']}/decide", data={"decision": "scrap"})
    assert flashes(client.get("/returns").get_data(as_text=True)) == [f"Scrapped: the units of {rma} left stock."]
    db.session.rollback()
    assert quarantined() == [] and level("B", "ST1") == (0, 0)
    again = client.post(f"/returns/items/{item['item']}/decide", data={"decision": "restock"})
    assert again.status_code == 409
    assert client.post(f"/returns/items/{item['item']}/decide", data={"decision": "keep"}).status_code in (409, 422)
    assert check_stock() == []
