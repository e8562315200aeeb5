"""The signed-in home page: who and where you are, and the stock of what you may see."""

import re

import pytest

from tests.factories import add_stock, fast_password_hashing, make_bin, make_location, make_product
from wms.auth.service import create_user
from wms.channels.service import create_channel
from wms.orders.service import place_order
from wms.summaries.stock_totals import refresh


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    # Real hashes, but cheap ones: the default scrypt costs ~0.1 s per user.
    fast_password_hashing(monkeypatch)


@pytest.fixture
def shops(app):
    """A warehouse and two stores with stock; one order reserves 3 units at the warehouse."""
    make_location("WH1", "warehouse", name="Magazyn Łódź")
    make_location("ST-KRK", "store", name="Sklep Kraków")
    make_location("ST-WAW", "store", name="Sklep Warszawa", ships=True)
    for loc in ("WH1", "ST-KRK", "ST-WAW"):
        make_bin(loc, "P-1", "pick")
    make_bin("WH1", "DOCK", "dock")
    for sku in ("A", "B", "C"):
        make_product(sku)
    add_stock("WH1", "P-1", "A", 1200)
    add_stock("WH1", "P-1", "B", 30)
    add_stock("WH1", "DOCK", "C", 99)  # on the dock: on hand, but not sellable yet
    add_stock("ST-KRK", "P-1", "A", 4)
    add_stock("ST-WAW", "P-1", "B", 7)
    channel, _token = create_channel("WEB", ship_from=["WH1"])
    place_order(
        channel.id,
        {
            "external_id": "W-1",
            "fulfilment": "ship",
            "customer": {"name": "Anna"},
            "ship_to": {"line1": "ul. Długa 1", "city": "Kraków", "postcode": "31-001", "country": "PL"},
            "lines": [{"sku": "A", "qty": 3}],
        },
    )


def sign_in(client, username, role, location=None):
    create_user(username, role, location, "sekret-123")
    r = client.post("/login", data={"username": username, "password": "sekret-123"})
    assert r.status_code == 303


def rows(html: str) -> dict[str, list[str]]:
    """The stock table's rows: location code -> the figures of its cells."""
    body = html.split('<table class="stock">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        code = re.search(r'<span class="code">([^<]+)</span>', row).group(1)
        out[code] = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return out


def test_home_needs_a_signed_in_user(client):
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"] == "/login"


def test_manager_sees_every_location_with_its_figures(client, shops):
    sign_in(client, "boss", "manager")
    html = client.get("/").get_data(as_text=True)
    assert "boss" in html and "manager" in html
    assert "none: you see every location" in html
    table = rows(html)
    assert list(table) == ["WH1", "ST-KRK", "ST-WAW"]
    # skus in stock, on hand (sellable), reserved, available
    assert table["WH1"] == ["2", "1,230", "3", "1,227"]
    assert table["ST-KRK"] == ["1", "4", "0", "4"]
    assert table["ST-WAW"] == ["1", "7", "0", "7"]
    totals = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    figures = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", totals, re.S)]
    assert figures == ["2", "1,241", "3", "1,238"]  # A and B: two distinct skus over three locations


def test_clerk_sees_only_their_own_store(client, shops):
    sign_in(client, "kasia", "clerk", "ST-KRK")
    html = client.get("/").get_data(as_text=True)
    assert "Sklep Kraków" in html and "ST-KRK" in html and "store" in html
    assert rows(html) == {"ST-KRK": ["1", "4", "0", "4"]}
    for elsewhere in ("WH1", "Magazyn", "ST-WAW", "Warszawa"):
        assert elsewhere not in html
    assert "<tfoot>" not in html


def test_picker_sees_their_location(client, shops):
    sign_in(client, "piotr", "picker", "WH1")
    html = client.get("/").get_data(as_text=True)
    assert "Magazyn Łódź" in html and "warehouse" in html
    assert list(rows(html)) == ["WH1"]


def test_home_is_not_cached_and_escapes_names(client, app):
    make_location("ST-X", "store", name="<script>alert(1)</script>")
    sign_in(client, "kasia", "clerk", "ST-X")
    r = client.get("/")
    assert r.headers["Cache-Control"] == "no-store"
    html = r.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_manager_without_locations_is_told_what_to_do(client, app):
    sign_in(client, "boss", "admin")
    html = client.get("/").get_data(as_text=True)
    assert "No locations to show yet." in html and "wms demo" in html


def test_a_manager_lands_on_the_network_at_a_glance(client, shops):
    sign_in(client, "boss", "manager")
    html = client.get("/").get_data(as_text=True)
    glance = html.split('id="glance"', 1)[1].split("</section>", 1)[0]
    assert 'id="stock-search"' in glance and 'id="glance-exceptions"' in glance and "glance-orders-chart" in glance
    client.post("/logout")
    sign_in(client, "kasia", "clerk", "ST-KRK")
    assert 'id="glance"' not in client.get("/").get_data(as_text=True)


def test_figures_as_of_the_workers_last_summary(client, shops):
    """The figures are the worker's summary, said to be as of its time; a location it has not summed yet (a new
    one) is summed from its levels, and then the network's distinct products are counted now too."""
    sign_in(client, "boss", "manager")
    html = client.get("/").get_data(as_text=True)
    assert 'id="stock-as-of"' not in html  # no summary yet: every figure read now
    refresh()
    html = client.get("/").get_data(as_text=True)
    assert 'id="stock-as-of"' in html and "Figures as of" in html
    assert rows(html)["WH1"] == ["2", "1,230", "3", "1,227"]
    add_stock("WH1", "P-1", "C", 5)
    assert rows(client.get("/").get_data(as_text=True))["WH1"] == ["2", "1,230", "3", "1,227"]  # as of then
    refresh()
    assert rows(client.get("/").get_data(as_text=True))["WH1"] == ["3", "1,235", "3", "1,232"]
    make_location("ST-NEW", "store", name="Sklep nowy")
    make_bin("ST-NEW", "P-1", "pick")
    make_product("D")
    add_stock("ST-NEW", "P-1", "D", 2)
    html = client.get("/").get_data(as_text=True)
    assert rows(html)["ST-NEW"] == ["1", "2", "0", "2"]
    totals = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    figures = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", totals, re.S)]
    assert figures == ["4", "1,248", "3", "1,245"]  # A, B, C and the new store's D


def test_the_glance_counts_speak_polish_plurals(client, shops):
    from sqlalchemy import update

    from wms.auth.service import set_user_language
    from wms.extensions import db
    from wms.orders.models import Order

    sign_in(client, "szef", "manager")
    set_user_language("szef", "pl", actor="test")
    glance = client.get("/").get_data(as_text=True).split('id="glance"', 1)[1].split("</ul>", 1)[0]
    assert "wyjątków czeka" in glance and "zamówień oznaczonych" in glance  # 0: the "many" form
    db.session.execute(update(Order).values(attention="short pick"))
    db.session.commit()
    glance = client.get("/").get_data(as_text=True).split('id="glance"', 1)[1].split("</ul>", 1)[0]
    assert "wyjątek czeka" in glance and "zamówienie oznaczone" in glance  # 1: the singular
