"""Staff pages of stations: who may see which station, and the live scan feed (server-sent events)."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from tests.factories import fast_password_hashing, make_bin, make_location, make_product
from wms.auth.service import create_user
from wms.printing.service import add_printer, print_label
from wms.printing.stations import record_scans, touch_station


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def stations(app):
    """Warehouse WH1 and stores ST1, ST2; stations ST1-C1 (printer P1, seen now) and ST2-C1 (never seen)."""
    make_location("WH1", "warehouse")
    make_location("ST1", "store", name="Sklep Kraków")
    make_location("ST2", "store", name="Sklep Warszawa")
    make_product("SKU-1", "Mleko 1L", barcodes=["5901234123457"])
    make_bin("ST1", "A-01")
    add_printer("P1", "zpl+tcp://127.0.0.1:9", "ST1", "ST1-C1")
    add_printer("P2", "zpl+tcp://127.0.0.1:9", "ST2", "ST2-C1")
    from wms.printing.stations import get_station

    touch_station(get_station("ST1-C1").id)
    app.config.update(STATION_EVENTS_SECONDS=0.6, STATION_EVENTS_POLL=0.05, STATION_EVENTS_KEEPALIVE=0.2)
    yield
    for key in ("STATION_EVENTS_SECONDS", "STATION_EVENTS_POLL", "STATION_EVENTS_KEEPALIVE"):
        app.config.pop(key, None)


def sign_in(client, username, role, location=None):
    create_user(username, role, location, "sekret-123")
    assert client.post("/login", data={"username": username, "password": "sekret-123"}).status_code == 303


def scan(station: str, client_id: str, code: str) -> None:
    record_scans(station, [{"client_id": client_id, "code": code}])


def events(body: str) -> list[dict]:
    """The ``scan`` events of an event stream, each as {"id", "data"}."""
    out = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if fields.get("event") == "scan":
            out.append({"id": int(fields["id"]), "data": json.loads(fields["data"])})
    return out


def test_pages_need_a_signed_in_user(client, stations):
    for path in ("/stations", "/stations/ST1-C1", "/stations/ST1-C1/events"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["clerk", "picker"])
def test_clerks_and_pickers_see_only_their_locations_stations(client, stations, role):
    sign_in(client, "kasia", role, "ST1")
    html = client.get("/stations").get_data(as_text=True)
    assert "ST1-C1" in html and "ST2-C1" not in html
    assert client.get("/stations/ST1-C1").status_code == 200
    assert client.get("/stations/ST2-C1").status_code == 403
    assert client.get("/stations/ST2-C1/events").status_code == 403
    assert client.get("/stations/NOPE").status_code == 404


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_see_every_station(client, stations, role):
    sign_in(client, "boss", role)
    html = client.get("/stations").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>", 1)[1], re.S)
    assert len(rows) == 2
    assert "ST1-C1" in rows[0] and "online" in rows[0]
    assert "ST2-C1" in rows[1] and "offline" in rows[1] and "never" in rows[1]
    assert client.get("/stations/ST2-C1").status_code == 200


def test_station_page_shows_scans_printers_and_jobs(client, stations):
    scan("ST1-C1", "a", "]C1010590123412345710LOT-7|17261231")
    scan("ST1-C1", "b", "not a barcode")
    scan("ST1-C1", "c", "<script>alert(1)</script>")
    job = print_label("P1", "product", {"sku": "SKU-1", "name": "Mleko", "gtin": "5901234123457"}, reference="p:1")
    sign_in(client, "kasia", "clerk", "ST1")
    r = client.get("/stations/ST1-C1")
    html = r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    assert "Product GTIN 5901234123457: SKU-1 Mleko 1L" in html and "lot LOT-7" in html
    assert "expiry 2026-12-31" in html
    assert "Barcode not recognised" in html  # the picker-readable message of a code that does not parse
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "P1" in html and "zpl+tcp://127.0.0.1:9" in html
    assert f">{job.id}<" in html and "queued" in html
    # The live feed continues after the newest scan shown.
    assert re.search(r'data-events="/stations/ST1-C1/events\?after=3"', html)
    # The one inline script runs by its nonce.
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in html


def test_event_stream_sends_scans_after_last_event_id(client, stations):
    for i, code in enumerate(["$B:ST1:A-01", "5901234123457", "garbage", "$T:T-42"], 1):
        scan("ST1-C1", f"s{i}", code)
    scan("ST2-C1", "other", "$T:T-1")  # another station's: never in this stream
    sign_in(client, "kasia", "clerk", "ST1")
    started = time.monotonic()
    r = client.get("/stations/ST1-C1/events", headers={"Last-Event-ID": "2"})
    body = r.get_data(as_text=True)
    assert time.monotonic() - started < 5  # the response ends by itself (gunicorn threads are freed)
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    assert r.headers["Cache-Control"] == "no-store"
    assert body.startswith("retry: ")
    got = events(body)
    assert [e["id"] for e in got] == [3, 4]
    # "garbage" could be a code (a plain code), but it names no bin, order or parcel at ST1
    assert got[0]["data"]["kind"] == "error" and got[0]["data"]["meaning"].startswith("garbage is not a bin")
    assert got[1]["data"]["kind"] == "tote" and got[1]["data"]["meaning"] == "Tote T-42"
    assert ": keep-alive" in body
    # ?after= (the page's first connection) works the same; Last-Event-ID wins when both are given.
    assert [e["id"] for e in events(client.get("/stations/ST1-C1/events?after=3").get_data(as_text=True))] == [4]
    r = client.get("/stations/ST1-C1/events?after=0", headers={"Last-Event-ID": "3"})
    assert [e["id"] for e in events(r.get_data(as_text=True))] == [4]
    # Neither: only scans from now on.
    assert events(client.get("/stations/ST1-C1/events").get_data(as_text=True)) == []


def test_event_stream_delivers_a_scan_made_while_it_is_open(client, stations, app):
    app.config["STATION_EVENTS_SECONDS"] = 3
    sign_in(client, "kasia", "clerk", "ST1")
    r = client.get("/stations/ST1-C1/events?after=0", buffered=False)
    chunks = iter(r.response)
    assert next(chunks).startswith(b"retry:")

    def later():
        time.sleep(0.2)
        with app.app_context():
            scan("ST1-C1", "live-1", "$B:ST1:A-01")

    thread = threading.Thread(target=later)
    started = time.monotonic()
    thread.start()
    received = b""
    for chunk in chunks:
        received += chunk
        if b"event: scan" in received:
            break
    thread.join(5)
    r.close()
    assert time.monotonic() - started < 2
    (event,) = events(received.decode())
    assert event["data"]["raw"] == "$B:ST1:A-01" and event["data"]["meaning"] == "Bin A-01 at ST1 (pick)"
