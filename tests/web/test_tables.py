"""The managers' tables (``wms.tables``): sorted by any column both ways, paged on the server, exported whole as a
streamed CSV in the order shown with text cells safe for spreadsheets; each table of a page keeps its own state
in the query string. Both sources are covered: SQL (flagged orders on /exceptions) and rows read in Python (the
min/max rules on /replenishment)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import update

from tests.factories import make_product, order_body
from tests.integration.transfers.transfer_floor import make_transfer_floor
from tests.web.staff import client_fixture, sign_in  # noqa: F401
from wms import tables
from wms.extensions import db
from wms.orders.models import Order
from wms.orders.service import place_order
from wms.transfers.replenishment import set_min_max


@pytest.fixture
def floor(app, monkeypatch):
    monkeypatch.setattr(tables, "PAGE_SIZE", 2)
    return make_transfer_floor(monkeypatch)


def body_rows(html: str, cls: str) -> list[str]:
    """The ids (``id="..."``) of the rows of the table with class ``list <cls>``."""
    part = html.split(f'class="list {cls}"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr id="([^"]+)"', part)


def exported(client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def flagged(floor):
    ids = []
    for n in range(5):
        order, _ = place_order(floor["channel"], order_body(f"WEB-{n}", [("A", 1)]))
        ids.append(order.id)
    # the third one's reason starts like a spreadsheet formula
    reasons = {i: f"short pick {n}" for n, i in enumerate(ids)}
    reasons[ids[2]] = '=HYPERLINK("http://evil")'
    for i, why in reasons.items():
        db.session.execute(update(Order).where(Order.id == i).values(attention=why))
    db.session.commit()
    return ids


def test_a_sql_table_sorts_pages_and_exports(client, flagged):
    sign_in(client, "boss")
    first = client.get("/exceptions?orders-sort=-id").get_data(as_text=True)
    assert body_rows(first, "ex-orders") == [f"ex-order-{flagged[4]}", f"ex-order-{flagged[3]}"]
    assert 'aria-sort="descending"' in first and "orders-page=2" in first
    second = client.get("/exceptions?orders-sort=-id&orders-page=2").get_data(as_text=True)
    assert body_rows(second, "ex-orders") == [f"ex-order-{flagged[2]}", f"ex-order-{flagged[1]}"]
    last = client.get("/exceptions?orders-sort=-id&orders-page=3").get_data(as_text=True)
    assert body_rows(last, "ex-orders") == [f"ex-order-{flagged[0]}"]
    assert "orders-page=4" not in last and "orders-page=2" in last  # a way back, none further
    ascending = client.get("/exceptions?orders-sort=id").get_data(as_text=True)
    assert body_rows(ascending, "ex-orders") == [f"ex-order-{flagged[0]}", f"ex-order-{flagged[1]}"]
    # the CSV is the whole table in the order shown, whatever the page
    rows = exported(client, "/exceptions?orders-sort=-id&orders-page=2&csv=orders")
    assert [int(r["Order"]) for r in rows] == list(reversed(flagged))
    (evil,) = [r for r in rows if int(r["Order"]) == flagged[2]]
    assert evil["Why"] == '\'=HYPERLINK("http://evil")'  # escaped: a spreadsheet shows it as text
    assert evil["Status"] == "reserved" and evil["Since"].endswith("Z")


def test_odd_sort_and_page_values_fall_back_to_the_defaults(client, flagged):
    sign_in(client, "boss")
    for query in ("orders-sort=nope", "orders-sort=--id", "orders-page=0", "orders-page=%C2%B2", "orders-page=-3"):
        response = client.get(f"/exceptions?{query}")
        assert response.status_code == 200, query
        assert len(body_rows(response.get_data(as_text=True), "ex-orders")) == 2, query
    assert client.get("/exceptions?csv=nothing-like-it").mimetype == "text/html"


def test_tables_of_one_page_keep_each_others_state(client, flagged, floor):
    sign_in(client, "boss")
    html = client.get("/exceptions?orders-page=2&counts-sort=-id").get_data(as_text=True)
    # the links of one table keep the other tables' state
    links = [h.replace("&amp;", "&") for h in re.findall(r'href="(/exceptions\?[^"]*)"', html)]
    assert any("csv=orders" in h for h in links)
    assert links and all("counts-sort=-id" in h for h in links)


def test_a_python_table_sorts_pages_and_exports(client, floor):
    for n, sku in enumerate(["C", "D", "E"]):
        make_product(sku, f"Product {sku}")
        set_min_max("ST1", sku, n, 10)
    make_product("+F", "+cmd|' /C calc'!A0")
    set_min_max("ST2", "+F", 1, 2)
    sign_in(client, "boss")
    first = client.get("/replenishment?rules-sort=-min").get_data(as_text=True)
    assert body_rows(first, "min-max") == ["rule-ST1-E", "rule-ST1-D"]
    second = client.get("/replenishment?rules-sort=-min&rules-page=2").get_data(as_text=True)
    assert body_rows(second, "min-max") == ["rule-ST2-+F", "rule-ST1-C"]  # min 1 before min 0
    rows = exported(client, "/replenishment?rules-sort=sku&csv=rules")
    assert [r["Product"] for r in rows] == ["'+F", "C", "D", "E"]
    assert rows[0]["Name"] == "'+cmd|' /C calc'!A0" and rows[0]["Below min"] == "yes"
