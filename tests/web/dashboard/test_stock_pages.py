"""The managers' stock pages: the search box (sku, name, a scanned barcode or GS1 code with its lot), a product's
stock everywhere (by location and bin, per channel, open orders and transfers) and its stock card (filters, pages,
CSV without formula injection); clerks and pickers reach none of it."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import add_stock, make_channel, order_body
from tests.integration.transfers.transfer_floor import GTINS, make_transfer_floor
from tests.web.staff import client_fixture, sign_in  # noqa: F401
from wms.channels.models import Channel
from wms.extensions import db
from wms.orders.service import place_order
from wms.stock.service import adjust
from wms.transfers.service import create_transfer


@pytest.fixture
def floor(app, monkeypatch):
    return make_transfer_floor(monkeypatch)


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_clerks_and_pickers_reach_none_of_it(client, floor, who):
    sign_in(client, who)
    for path in ("/stock", "/stock?q=A", "/stock/search.json?q=A", "/stock/A", "/stock/A/card.csv"):
        assert client.get(path).status_code == 403, path


def test_search_by_sku_name_and_barcode(client, floor):
    sign_in(client, "boss")
    found = client.get("/stock/search.json?q=product").json["items"]
    assert [(i["sku"], i["on_hand"], i["available"]) for i in found] == [("A", 10, 10), ("B", 8, 8)]
    # a scanned EAN opens its product at once
    r = client.get(f"/stock?q={GTINS['B']}")
    assert r.status_code == 303 and r.headers["Location"].endswith("/stock/B")
    # a GS1 code with a lot names the product and the lot
    (hit,) = client.get(f"/stock/search.json?q=01{GTINS['A'].zfill(14)}10LOT7").json["items"]
    assert hit["sku"] == "A" and hit["lot"] == "LOT7" and hit["url"].endswith("/stock/A?lot=LOT7")
    assert client.get("/stock/search.json?q=nothing-like-it").json["items"] == []
    page = client.get("/stock?q=zzz").get_data(as_text=True)
    assert "No product matches zzz." in page


def test_a_products_page_shows_where_it_is_who_may_sell_it_and_what_waits_for_it(client, floor):
    web = db.session.get(Channel, floor["channel"])
    place_order(web.id, order_body("WEB-9", [("A", 2)]))
    transfer = create_transfer("WH1", "ST1", [{"sku": "A", "qty": 3}])
    make_channel("SHOP", ship_from=["WH1"], buffer=4)
    sign_in(client, "boss")
    html = client.get("/stock/A").get_data(as_text=True)
    where = html.split('id="loc-WH1"', 1)[1].split("</tr>", 1)[0]
    # sellable 10, reserved 2 (the order) + 3 (the transfer), available 5; in bin A-01
    assert [c.split(">")[-1] for c in where.split("</td>")[:3]] == ["10", "5", "5"]
    assert "A-01" in where
    channels = html.split('class="list stock-channels"', 1)[1].split("</table>", 1)[0]
    assert "WEB" in channels and "SHOP" in channels and ">1<" in channels  # SHOP: 5 available less its buffer 4
    opened = html.split('class="list stock-open"', 1)[1].split("</table>", 1)[0]
    assert "WEB-9" in opened and f"#{transfer.id}" in opened


def test_the_stock_card_filters_pages_and_exports_safe_csv(client, floor):
    # a movement whose note a spreadsheet would run as a formula
    adjust("WH1", "A-01", "A", -1, reason='=HYPERLINK("http://evil")', actor="@boss")
    for _ in range(60):
        add_stock("WH1", "A-01", "A", 1, lot=None)
    sign_in(client, "boss")
    html = client.get("/stock/A").get_data(as_text=True)
    assert "62 rows" in html and "page 1 of 2" in html
    only = client.get("/stock/A?reason=adjustment").get_data(as_text=True)
    assert "1 rows" in only
    bad = client.get("/stock/A?since=yesterday").get_data(as_text=True)
    assert "since: &#39;yesterday&#39; is not a date" in bad
    r = client.get("/stock/A/card.csv?reason=adjustment")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0][:3] == ["id", "at", "qty"] and len(rows) == 2
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["note"].startswith("'=") and cells["actor"] == "'@boss" and cells["qty"] == "1"
    everything = list(csv.reader(io.StringIO(client.get("/stock/A/card.csv").get_data(as_text=True))))
    assert len(everything) == 1 + 62
    assert client.get("/stock/NOPE").status_code == 404 and client.get("/stock/NOPE/card.csv").status_code == 404
