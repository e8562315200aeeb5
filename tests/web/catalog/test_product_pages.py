"""Staff product pages: search, stock by visible location, and printing a product's label from its page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import update

from tests.factories import make_product
from tests.web.staff import (  # noqa: F401 (fixtures)
    cheap_hashes_fixture,
    client_fixture,
    flashes,
    form_key,
    job_count,
    jobs,
    make_shop,
    new_client,
    shop_fixture,
    sign_in,
)
from wms.extensions import db
from wms.printing.models import Printer


def skus(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a class="code strong" href="/products/[^"]+">([^<]+)</a>', body)


def test_products_need_a_signed_in_user(client):
    r = client.get("/products")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert client.get("/products/KT-1").status_code == 302


@pytest.mark.parametrize("username", ["boss", "root", "piotr", "kasia"])
def test_every_role_can_search_products(client, shop, username):
    sign_in(client, username)
    html = client.get("/products").get_data(as_text=True)
    assert skus(html) == ["KT-1", "KT-2", "NOCODE"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kt-", ["KT-1", "KT-2"]),  # part of the sku, any case
        ("patelnia", ["KT-1"]),  # part of the name
        ("łopata", ["KT-2"]),  # Polish letters in another case (SQLite folds ASCII only)
        ("5901234123457", ["KT-1"]),  # the barcode
        ("05901234123457", ["KT-1"]),  # the same GTIN in 14 digits
        ("41234", ["KT-1"]),  # part of the barcode's digits
        ("100%_", []),  # LIKE wildcards are text
    ],
)
def test_search_by_sku_name_and_barcode(client, shop, query, expected):
    sign_in(client, "boss")
    html = client.get("/products", query_string={"q": query}).get_data(as_text=True)
    assert (skus(html) if expected else []) == expected
    if not expected:
        assert "No product matches" in html


def test_products_are_paginated(client, shop, monkeypatch):
    from wms.catalog import queries

    for n in range(7):
        make_product(f"ZZ-{n}")
    sign_in(client, "boss")
    monkeypatch.setattr(queries, "PRODUCTS_PER_PAGE", 4)
    first = client.get("/products").get_data(as_text=True)
    assert skus(first) == ["KT-1", "KT-2", "NOCODE", "ZZ-0"] and "page 1 of 3" in first
    third = client.get("/products?page=3").get_data(as_text=True)
    assert skus(third) == ["ZZ-5", "ZZ-6"] and 'rel="next"' not in third
    assert skus(client.get("/products?page=99").get_data(as_text=True)) == ["ZZ-5", "ZZ-6"]  # past the end: last


def stock_chips(html: str, sku: str) -> dict[str, str]:
    row = re.search(rf'href="/products/{sku}">{sku}</a>.*?</tr>', html, re.S).group(0)
    return {loc: qty.strip() for loc, qty in re.findall(r'<span class="chip-key">([^<]+)</span>\s*(\d+)', row)}


def test_stock_shows_only_the_locations_the_user_may_see(client, shop):
    sign_in(client, "boss")
    assert stock_chips(client.get("/products").get_data(as_text=True), "KT-1") == {"WH1": "12", "ST1": "3", "ST2": "7"}
    client.post("/logout")
    sign_in(client, "kasia")  # clerk at ST1
    html = client.get("/products").get_data(as_text=True)
    assert stock_chips(html, "KT-1") == {"ST1": "3"}
    detail = client.get("/products/KT-1").get_data(as_text=True)
    assert "S-01" in detail and "ST1" in detail
    for elsewhere in ("WH1", "ST2", "A-01", "DOCK", "Magazyn"):
        assert elsewhere not in detail


def test_product_page_shows_barcodes_and_units_by_bin(client, shop):
    sign_in(client, "piotr")  # picker at WH1
    html = client.get("/products/KT-1").get_data(as_text=True)
    assert "Patelnia żeliwna" in html and "5901234123457" in html
    assert "A-01" in html and "DOCK" in html  # the dock's units are listed by bin, though not sellable
    assert "ST1" not in html
    assert client.get("/products/NOPE").status_code == 404


def test_print_form_lists_only_printers_of_visible_locations(client, shop):
    sign_in(client, "kasia")
    html = client.get("/products/KT-1").get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html)
    assert [label.split(" · ")[0] for _v, label in options] == ["ST1-pdf"]
    assert 'name="key"' in html and 'name="copies"' in html


def test_a_printer_in_trouble_is_not_the_first_choice(client, shop):
    """WH1-zebra (a label printer) would come first, but it is out of paper: the form offers the one that can
    print first, and still lists the other with its state."""
    db.session.execute(update(Printer).where(Printer.name == "WH1-zebra").values(last_state="paper out"))
    db.session.commit()
    sign_in(client, "piotr")
    html = client.get("/products/KT-1").get_data(as_text=True)
    labels = [label for _v, label in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html)]
    assert [label.split(" · ")[0] for label in labels] == ["WH1-pdf", "WH1-zebra"]
    assert labels[1].endswith("paper out")


def test_print_from_product_page_creates_one_job_and_a_double_submit_none_more(client, shop):
    sign_in(client, "kasia")
    key = form_key(client.get("/products/KT-1").get_data(as_text=True))
    form = {"printer": shop["ST1-pdf"], "copies": 2, "key": key}
    r = client.post("/products/KT-1/print", data=form)
    assert r.status_code == 303 and r.headers["Location"] == "/products/KT-1"
    [job] = jobs()
    assert (job.kind, job.copies, job.status, job.reference) == ("product", 2, "queued", "product:KT-1")
    assert job.data == {"sku": "KT-1", "name": "Patelnia żeliwna", "gtin": "5901234123457"}
    assert job.requested_by.username == "kasia"
    page = client.get("/products/KT-1").get_data(as_text=True)
    assert f"job #{job.id}" in " ".join(flashes(page)) and f'href="/print-jobs/{job.id}"' in page

    # The same form sent again (a double click, a browser resending it): the same job, no second label.
    assert client.post("/products/KT-1/print", data=form).status_code == 303
    assert job_count() == 1
    # A form shown again has a new key: that one is a new request.
    key2 = form_key(client.get("/products/KT-1").get_data(as_text=True))
    assert key2 != key
    client.post("/products/KT-1/print", data=form | {"key": key2})
    assert job_count() == 2


def test_two_users_with_the_same_form_key_get_their_own_jobs(client, app, shop):
    sign_in(client, "boss")
    client.post("/products/KT-1/print", data={"printer": shop["WH1-pdf"], "copies": 1, "key": "same"})
    other = new_client(app)
    sign_in(other, "root")
    other.post("/products/KT-1/print", data={"printer": shop["WH1-pdf"], "copies": 1, "key": "same"})
    assert [j.requested_by.username for j in jobs()] == ["boss", "root"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"printer": "ST2-pdf", "copies": 1}, "Choose one of your printers."),  # another store's printer
        ({"printer": 999, "copies": 1}, "Choose one of your printers."),
        ({"printer": "ST1-pdf", "copies": 0}, "Copies: 1 to 100."),
        ({"printer": "ST1-pdf", "copies": 101}, "Copies: 1 to 100."),
        ({"printer": "ST1-pdf", "copies": "two"}, ""),
    ],
)
def test_bad_print_forms_print_nothing(client, shop, form, message):
    sign_in(client, "kasia")
    if isinstance(form["printer"], str):
        form = form | {"printer": shop[form["printer"]]}
    r = client.post("/products/KT-1/print", data=form | {"key": "k"}, headers={"Referer": "/products/KT-1"})
    assert r.status_code == 303
    assert job_count() == 0
    shown = flashes(client.get("/products/KT-1").get_data(as_text=True))
    assert shown and message in shown[0]


def test_product_without_a_barcode_says_why_it_cannot_print(client, shop):
    sign_in(client, "boss")
    r = client.post(
        "/products/NOCODE/print",
        data={"printer": shop["WH1-pdf"], "copies": 1, "key": "k"},
        headers={"Referer": "/products/NOCODE"},
    )
    assert r.status_code == 303 and job_count() == 0
    assert "has no barcode" in " ".join(flashes(client.get("/products/NOCODE").get_data(as_text=True)))
    assert client.post("/products/NOPE/print", data={"printer": shop["WH1-pdf"], "copies": 1}).status_code in (
        303,
        404,
    )
    assert job_count() == 0


def test_print_form_needs_its_csrf_token(client, app, shop, monkeypatch):
    sign_in(client, "kasia")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    html = client.get("/products/KT-1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    form = {"printer": shop["ST1-pdf"], "copies": 1, "key": form_key(html)}
    assert client.post("/products/KT-1/print", data=form).status_code == 400  # no token: nothing printed
    assert job_count() == 0
    assert client.post("/products/KT-1/print", data=form | {"csrf_token": token}).status_code == 303
    assert job_count() == 1


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["KT-1", "KT-2", "NOCODE"]),
        ("-sku", ["NOCODE", "KT-2", "KT-1"]),
        ("name", None),  # by the database's collation (where Ł sorts differs): checked below
        ("-on_hand", ["KT-1", "KT-2", "NOCODE"]),  # 22 sellable (the dock is not), then two of none: by sku
        ("on_hand", ["KT-2", "NOCODE", "KT-1"]),
        ("nonsense", ["KT-1", "KT-2", "NOCODE"]),  # an unknown order is the default, not an error
    ],
)
def test_the_list_sorts_by_its_headers(client, shop, sort, expected):
    make_product("ZZ-0", "Aaa")  # a name first in every collation
    sign_in(client, "boss")
    html = client.get("/products", query_string={"sort": sort} if sort else {}).get_data(as_text=True)
    shown = [sku for sku in skus(html) if sku != "ZZ-0"]
    if sort == "name":
        assert skus(html)[0] == "ZZ-0"  # Aaa
        assert shown.index("NOCODE") < shown.index("KT-1")  # Bez kodu, then Patelnia żeliwna
    else:
        assert shown == expected


def test_a_header_link_flips_the_order_and_the_pager_keeps_it(client, shop, monkeypatch):
    from wms.catalog import queries

    for n in range(5):
        make_product(f"ZZ-{n}")
    monkeypatch.setattr(queries, "PRODUCTS_PER_PAGE", 3)
    sign_in(client, "boss")
    html = client.get("/products?sort=on_hand").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html and 'href="/products?sort=-on_hand"' in html  # a second click: descending
    assert 'href="/products?sort=on_hand&amp;page=2"' in html
    assert 'href="/products?sort=on_hand&amp;csv=products"' in html
    assert 'name="sort" value="on_hand"' in html  # a new search keeps the order


@pytest.fixture
def any_client(any_app, cheap_hashes, tmp_path, monkeypatch):
    """A signed-out client of a shop on SQLite and on PostgreSQL (the export streams through a server-side cursor
    there)."""
    monkeypatch.setitem(any_app.config, "PRINTER_DIR_ROOT", str(tmp_path))
    make_shop(tmp_path)
    return new_client(any_app)


def test_the_list_exports_as_csv_whole_in_its_order_and_safe_for_spreadsheets(any_client, monkeypatch):
    from wms.catalog import queries

    client = any_client
    make_product("=CMD", "+SUM(A1)")
    for n in range(7):
        make_product(f"ZZ-{n}", f"Zestaw {n}")
    monkeypatch.setattr(queries, "PRODUCTS_PER_PAGE", 2)  # the export is not one page
    monkeypatch.setattr(queries, "EXPORT_BATCH", 3)  # nor one batch
    sign_in(client, "kasia")  # a clerk at ST1: the stock of ST1 only
    r = client.get("/products?sort=-on_hand&csv=products")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="products.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0] == ["SKU", "Name", "Barcodes", "On hand", "Reserved", "Available", "Stock by location"]
    assert rows[1] == ["KT-1", "Patelnia żeliwna", "5901234123457", "3", "0", "3", "ST1:3"]
    assert len(rows) == 1 + 11
    assert ["'=CMD", "'+SUM(A1)"] in [row[:2] for row in rows]
    searched = list(csv.reader(io.StringIO(client.get("/products?q=zestaw&csv=products").get_data(as_text=True))))
    assert [row[0] for row in searched[1:]] == [f"ZZ-{n}" for n in range(7)]
