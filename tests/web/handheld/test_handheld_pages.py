"""The handheld pages (/hh) through the test client: sign-in first, every screen for a picker in Polish and in
English and for a manager, another location's task 404, and the receive screen's JSON endpoints (scan resolve
with GS1 lot and expiry, the receipt that opens a put-away), which need the CSRF header like the staff API."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from tests.factories import gtin13, make_bin, make_product
from tests.web.staff import (  # noqa: F401
    cheap_hashes_fixture,
    client_fixture,
    make_shop,
    new_client,
    shop_fixture,
    sign_in,
)
from wms.auth.service import set_user_language
from wms.extensions import db
from wms.stock.models import Lot, Receipt
from wms.tasks.models import Task
from wms.tasks.service import receive

LOT_GTIN = gtin13(7301)


@pytest.fixture
def floor(app, shop):
    make_product("GLUE", "Klej", barcodes=[LOT_GTIN], track_lots=True)
    make_bin("WH1", "DOCK-2", "dock", 5)
    make_bin("ST1", "S-DOCK", "dock", 0)
    return shop


@pytest.fixture
def both(any_app, cheap_hashes, tmp_path, monkeypatch):
    """The floor on SQLite and on PostgreSQL (receipts insert-or-nothing and read JSON references), and a client."""
    monkeypatch.setitem(any_app.config, "PRINTER_DIR_ROOT", str(tmp_path))
    make_shop(tmp_path)
    make_product("GLUE", "Klej", barcodes=[LOT_GTIN], track_lots=True)
    make_bin("WH1", "DOCK-2", "dock", 5)
    make_bin("ST1", "S-DOCK", "dock", 0)
    return new_client(any_app)


def _task(location: str = "WH1", bin_code: str = "DOCK", reference: str = "PO-1") -> int:
    receive(location, bin_code, reference, [{"sku": "KT-1", "qty": 2}], actor="test")
    return db.session.execute(select(Task.id).order_by(Task.id.desc())).scalars().first()


def _receipts(reference: str) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(Receipt.id)).where(Receipt.reference == reference)).scalar_one()


def _page_data(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="hh-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(block)


def _csrf(client) -> str:
    html = client.get("/hh").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def _post(client, path: str, body: dict, csrf: str | None):
    headers = {"Accept": "application/json"}
    if csrf:
        headers["X-CSRFToken"] = csrf
    return client.post(path, json=body, headers=headers)


def test_the_pages_need_a_sign_in_and_come_back_after_it(client, floor):
    for path in ("/hh", "/hh/receive", "/hh/move", "/hh/tasks?kind=putaway", "/hh/tasks/1"):
        r = client.get(path)
        assert r.status_code == 302 and "/login?next=" in r.headers["Location"], path
    r = client.post("/login?next=/hh", data={"username": "piotr", "password": "sekret-123"})
    assert r.status_code == 303 and r.headers["Location"] == "/hh"


@pytest.mark.parametrize(
    ("language", "words", "prompt"),
    [
        ("pl", ["Rozlokuj", "Przyjmij", "Przenieś", "Wyloguj"], "Zeskanuj lokację {bin}"),
        ("en", ["Put away", "Receive", "Move", "Sign out"], "Scan bin {bin}"),
    ],
)
def test_every_screen_renders_for_a_picker_in_their_language(client, floor, language, words, prompt):
    set_user_language("piotr", language, actor="test")
    task_id = _task()
    sign_in(client, "piotr")
    home = client.get("/hh")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert all(word in html for word in words)
    assert f'lang="{language}"' in html
    assert 'href="/hh/tasks?kind=putaway"' in html and ">1</span>" in html  # one open put-away
    listing = client.get("/hh/tasks?kind=putaway").get_data(as_text=True)
    assert f'data-claim="{task_id}"' in listing and "PO-1" in listing
    work = client.get(f"/hh/tasks/{task_id}")
    assert work.status_code == 200
    data = _page_data(work.get_data(as_text=True))
    assert data["task"]["id"] == task_id and data["task"]["next"]["expect"] == "product"
    assert data["text"]["expect_bin"] == prompt  # the script's words, in the user's language
    for path in ("/hh/receive", "/hh/move", "/hh/tasks?kind=pick", "/hh/tasks?kind=pack", "/hh/tasks?kind=count"):
        assert client.get(path).status_code == 200, path
    assert client.get("/hh/tasks?kind=stage").status_code == 200  # a store's pickups to prepare
    assert client.get("/hh/tasks?kind=transfer_receive").status_code == 200  # transfers to receive
    assert client.get("/hh/counter").status_code == 403  # the pickup counter is a clerk's
    # The script and its styles are served by the app (no CDN), and the page allows no inline script.
    assert client.get("/static/hh/hh.js").status_code == 200
    policy = work.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe" not in policy


def test_a_manager_opens_them_too_and_chooses_the_location(client, floor):
    task_id = _task()
    sign_in(client, "boss")
    assert client.get(f"/hh/tasks/{task_id}").status_code == 200
    receive_page = client.get("/hh/receive").get_data(as_text=True)
    assert 'id="hh-location"' in receive_page  # every location: the manager picks one
    data = _page_data(receive_page)
    wh1 = next(loc for loc in data["locations"] if loc["code"] == "WH1")
    assert wh1["docks"] == ["DOCK", "DOCK-2"]  # by sequence: DOCK (0) first


def test_another_locations_task_is_not_found(client, floor):
    theirs = _task("ST1", "S-DOCK", "PO-ST")
    sign_in(client, "piotr")
    assert client.get(f"/hh/tasks/{theirs}").status_code == 404
    assert f'data-claim="{theirs}"' not in client.get("/hh/tasks?kind=putaway").get_data(as_text=True)
    kasia = new_client(client.application)
    sign_in(kasia, "kasia")
    assert kasia.get(f"/hh/tasks/{theirs}").status_code == 200


def test_resolve_says_what_a_scan_is_with_lot_and_expiry(both):
    client = both
    sign_in(client, "piotr")
    csrf = _csrf(client)
    r = _post(client, "/hh/api/resolve", {"code": "5901234123457"}, csrf)
    assert r.status_code == 200 and r.json["kind"] == "product" and r.json["sku"] == "KT-1"
    assert r.json["track_lots"] is False
    gs1 = f"010{LOT_GTIN}17271231" + "10LOT-9"
    r = _post(client, "/hh/api/resolve", {"code": gs1}, csrf)
    assert r.status_code == 200
    found = (r.json["sku"], r.json["lot"], r.json["expiry"], r.json["track_lots"])
    assert found == ("GLUE", "LOT-9", "2027-12-31", True)
    r = _post(client, "/hh/api/resolve", {"code": "DOCK-2"}, csrf)
    assert (r.json["kind"], r.json["bin"], r.json["bin_kind"]) == ("bin", "DOCK-2", "dock")
    r = _post(client, "/hh/api/resolve", {"code": "S-DOCK"}, csrf)  # a bin of ST1 names nothing at WH1
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_code"


def test_the_json_endpoints_need_the_csrf_header_and_a_sign_in(client, floor):
    r = _post(client, "/hh/api/resolve", {"code": "5901234123457"}, None)
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    sign_in(client, "piotr")
    _csrf(client)
    body = {"reference": "PO-X", "lines": [{"sku": "KT-1", "qty": 1}]}
    for path, payload in (("/hh/api/resolve", {"code": "5901234123457"}), ("/hh/api/receive", body)):
        r = _post(client, path, payload, None)
        assert r.status_code == 403 and r.json["error"]["code"] == "forbidden", path
        r = _post(client, path, payload, "not-the-token")
        assert r.status_code == 403, path
    assert _receipts("PO-X") == 0


def test_receive_books_the_delivery_into_the_first_dock_and_opens_the_putaway(both):
    client = both
    sign_in(client, "piotr")
    csrf = _csrf(client)
    body = {
        "reference": "PO-77",
        "lines": [{"sku": "KT-1", "qty": 3}, {"sku": "GLUE", "qty": 2, "lot": "LOT-9", "expiry": "2027-12-31"}],
    }
    r = _post(client, "/hh/api/receive", body, csrf)
    assert r.status_code == 201, r.json
    assert r.json["created"] is True and r.json["receipt"]["bin"] == "DOCK"
    task_id = r.json["task"]
    assert r.json["task_url"] == f"/hh/tasks/{task_id}"
    db.session.rollback()
    task = db.session.get(Task, task_id)
    assert task.kind == "putaway" and task.reference["delivery"] == "PO-77"
    assert [(line.qty, line.lot) for line in task.lines] == [(3, ""), (2, "LOT-9")]
    lot = db.session.execute(select(Lot).where(Lot.code == "LOT-9")).scalar_one()
    assert lot.expiry.isoformat() == "2027-12-31"
    # A second tap: the same receipt and task, nothing booked twice.
    again = _post(client, "/hh/api/receive", body, csrf)
    assert again.status_code == 200 and again.json["created"] is False and again.json["task"] == task_id
    assert db.session.execute(select(func.count(Task.id))).scalar_one() == 1


def test_receive_refuses_what_it_cannot_book_and_books_nothing(both):
    client = both
    sign_in(client, "piotr")
    csrf = _csrf(client)
    no_lot = {"reference": "PO-8", "lines": [{"sku": "GLUE", "qty": 1}]}
    r = _post(client, "/hh/api/receive", no_lot, csrf)
    assert r.status_code == 422 and "lot" in r.json["error"]["details"][0]["message"]
    not_dock = {"reference": "PO-8", "bin": "A-01", "lines": [{"sku": "KT-1", "qty": 1}]}
    r = _post(client, "/hh/api/receive", not_dock, csrf)
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "bin"
    other = {"reference": "PO-8", "location": "ST1", "lines": [{"sku": "KT-1", "qty": 1}]}
    r = _post(client, "/hh/api/receive", other, csrf)
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "location"
    empty = {"reference": "PO-8", "lines": []}
    assert _post(client, "/hh/api/receive", empty, csrf).status_code == 422
    assert _receipts("PO-8") == 0
    assert db.session.execute(select(func.count(Task.id))).scalar_one() == 0
    # Into the second dock, when it is scanned.
    ok = {"reference": "PO-8", "bin": "DOCK-2", "lines": [{"sku": "KT-1", "qty": 1}]}
    r = _post(client, "/hh/api/receive", ok, csrf)
    assert r.status_code == 201 and r.json["receipt"]["bin"] == "DOCK-2"


def test_a_manager_must_name_the_location(client, floor):
    sign_in(client, "boss")
    csrf = _csrf(client)
    body = {"reference": "PO-9", "lines": [{"sku": "KT-1", "qty": 1}]}
    r = _post(client, "/hh/api/receive", body, csrf)
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "location"
    r = _post(client, "/hh/api/receive", body | {"location": "WH1"}, csrf)
    assert r.status_code == 201


def test_floor_roles_find_the_handheld_in_the_menu(client, floor):
    sign_in(client, "piotr")
    assert 'href="/hh"' in client.get("/").get_data(as_text=True)
    boss = new_client(client.application)
    sign_in(boss, "boss")
    assert 'href="/hh"' not in boss.get("/").get_data(as_text=True)


def test_the_language_switch_on_the_handheld_comes_back_to_it(client, floor):
    set_user_language("piotr", "en", actor="test")
    sign_in(client, "piotr")
    _task()
    _task("ST1", "S-DOCK", "PO-ST")  # another location's: not counted for a picker at WH1
    html = client.get("/hh").get_data(as_text=True)
    assert "Put away" in html and 'aria-label="1 open"' in html
    r = client.post("/account/language?next=/hh", data={"language": "pl"})
    assert r.status_code == 303 and r.headers["Location"] == "/hh"
    html = client.get("/hh").get_data(as_text=True)
    assert "Rozlokuj" in html and 'lang="pl"' in html
