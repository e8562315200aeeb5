"""Helpers for the staff page tests: a small retailer with printers, users of every role, signing in.

Test modules import the fixtures by their function names (``client_fixture``, ``shop_fixture``,
``cheap_hashes_fixture``); pytest knows them as ``client``, ``shop`` and ``cheap_hashes``."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.factories import add_stock, fast_password_hashing, make_bin, make_location, make_product
from wms.auth.service import create_user
from wms.extensions import db
from wms.printing.models import PrintJob
from wms.printing.service import add_printer

PASSWORD = "sekret-123"


class StaffClient(FlaskClient):
    """A test client whose every request runs in an app context of its own. The tests hold an app context open,
    and a request reuses it: Flask-Login's user cached in ``g`` would then follow one client's requests into
    another's (and the next request of the same client would not load the user again)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def new_client(app) -> StaffClient:
    return StaffClient(app, app.response_class, use_cookies=True)


@pytest.fixture(name="client")
def client_fixture(app) -> StaffClient:
    return new_client(app)


@pytest.fixture(name="cheap_hashes")
def cheap_hashes_fixture(monkeypatch):
    # Real hashes, but cheap ones: the default scrypt costs ~0.1 s per user.
    fast_password_hashing(monkeypatch)


def make_shop(tmp_path) -> dict[str, int]:
    """WH1 (aisles A and B, a dock), stores ST1 and ST2, three products with stock, a printer at each location
    (PDF hot folders under ``tmp_path``; a ZPL file printer at WH1), and users of every role. Returns printer ids
    by name."""
    make_location("WH1", "warehouse", name="Magazyn Łódź")
    make_location("ST1", "store", name="Sklep Kraków")
    make_location("ST2", "store", name="Sklep Warszawa")
    for code, kind, seq in [("A-01", "pick", 1), ("A-02", "pick", 2), ("B-01", "pick", 3), ("DOCK", "dock", 0)]:
        make_bin("WH1", code, kind, seq)
    make_bin("ST1", "S-01", "pick", 1)
    make_bin("ST2", "S-01", "pick", 1)
    make_product("KT-1", "Patelnia żeliwna", barcodes=["5901234123457"])
    make_product("KT-2", "Łopata ostra")
    make_product("NOCODE", "Bez kodu", barcodes=[])
    add_stock("WH1", "A-01", "KT-1", 12)
    add_stock("WH1", "DOCK", "KT-1", 5)
    add_stock("ST1", "S-01", "KT-1", 3)
    add_stock("ST2", "S-01", "KT-1", 7)
    printers = {}
    for name, url, loc in [
        ("WH1-pdf", f"pdf+dir://{tmp_path}", "WH1"),
        ("WH1-zebra", f"zpl+file://{tmp_path}/zebra.zpl", "WH1"),
        ("ST1-pdf", f"pdf+dir://{tmp_path}", "ST1"),
        ("ST2-pdf", f"pdf+dir://{tmp_path}", "ST2"),
    ]:
        printers[name] = add_printer(name, url, loc).id
    for username, role, loc in [
        ("boss", "manager", None),
        ("root", "admin", None),
        ("piotr", "picker", "WH1"),
        ("kasia", "clerk", "ST1"),
        ("ola", "clerk", "ST2"),
    ]:
        create_user(username, role, loc, PASSWORD)
    return printers


@pytest.fixture(name="shop")
def shop_fixture(app, cheap_hashes, tmp_path, monkeypatch) -> dict[str, int]:
    # The shop's hot folders and ZPL file are under tmp_path: the folder printer URLs may point into.
    monkeypatch.setitem(app.config, "PRINTER_DIR_ROOT", str(tmp_path))
    return make_shop(tmp_path)


def sign_in(client, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 303, r.status_code


def jobs() -> list[PrintJob]:
    db.session.rollback()
    return list(db.session.execute(select(PrintJob).order_by(PrintJob.id)).scalars())


def job_count() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(PrintJob)).scalar_one()


def flashes(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html, re.S)]


def form_key(html: str) -> str:
    """The idempotency key of the (first) print form on a page."""
    return re.search(r'<input[^>]*name="key"[^>]*value="([0-9a-f]+)"', html).group(1)
