"""The handheld's pickup counter and returns intake screens: a clerk opens them from the home screen, in their
language; a picker has no such buttons and is refused. Their work is driven by hh.js over the API (tests/browser)."""

from __future__ import annotations

from tests.web.staff import cheap_hashes_fixture, client_fixture, shop_fixture, sign_in  # noqa: F401
from wms.auth.service import set_user_language


def test_a_clerk_opens_the_counter_from_home(client, shop):
    sign_in(client, "kasia")
    home = client.get("/hh").get_data(as_text=True)
    assert 'href="/hh/counter"' in home
    page = client.get("/hh/counter")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-page="counter"' in html and 'id="hh-handover"' in html and 'id="hh-find"' in html
    assert "Scan the customer" in html  # the script's words travel in the page's JSON block


def test_the_counter_speaks_polish(client, shop):
    set_user_language("kasia", "pl", actor="test")
    sign_in(client, "kasia")
    html = client.get("/hh/counter").get_data(as_text=True)
    assert "Lada odbiorów" in html and "Wydaj" in html and "Zeskanuj kod odbioru" in html


def test_a_picker_has_no_counter(client, shop):
    sign_in(client, "piotr")
    assert 'href="/hh/counter"' not in client.get("/hh").get_data(as_text=True)
    assert client.get("/hh/counter").status_code == 403


def test_a_clerk_opens_returns_intake_from_home(client, shop):
    sign_in(client, "kasia")
    assert 'href="/hh/returns"' in client.get("/hh").get_data(as_text=True)
    html = client.get("/hh/returns").get_data(as_text=True)
    assert 'data-page="returns"' in html and 'id="hh-take-in"' in html
    assert '"here": "ST1"' in html  # the script takes units in at the clerk's own store


def test_a_warehouse_picker_takes_returns_in_a_manager_without_a_home_does_not(client, shop):
    # parcels sent back by customers arrive at the warehouse: its pickers take them in
    sign_in(client, "piotr")
    assert 'href="/hh/returns"' in client.get("/hh").get_data(as_text=True)
    html = client.get("/hh/returns").get_data(as_text=True)
    assert '"here": "WH1"' in html
    client.post("/logout")
    sign_in(client, "boss")
    assert client.get("/hh/returns").status_code == 403
