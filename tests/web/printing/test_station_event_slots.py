"""The station page's event stream with bounded long polling (wms.longpoll): a stream that gets a slot stays open,
one that gets none sends what is new and ends at once; every stream says when to come back and where to resume."""

from __future__ import annotations

import json
import time

import pytest

from tests.factories import make_location
from tests.web.staff import PASSWORD, cheap_hashes_fixture, new_client  # noqa: F401 (fixture)
from wms import longpoll
from wms.auth.service import create_user
from wms.printing.service import add_printer
from wms.printing.stations import record_scans

EVENTS = "/stations/ST1-C1/events"
SHORT = range(longpoll.SHORT_POLL_EVERY * 800, longpoll.SHORT_POLL_EVERY * 1200 + 1)  # ms, +-20%


@pytest.fixture
def kasia(app, cheap_hashes, monkeypatch):
    """Store ST1 with station ST1-C1, and a signed-in clerk of ST1 (a test client); fresh slots."""
    make_location("ST1", "store")
    add_printer("P1", "zpl+tcp://127.0.0.1:9", "ST1", "ST1-C1")
    create_user("kasia", "clerk", "ST1", PASSWORD)
    stream = {"STATION_EVENTS_SECONDS": 30, "STATION_EVENTS_POLL": 0.05, "STATION_EVENTS_KEEPALIVE": 5}
    for key, value in stream.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.pop("wms_longpoll", None)
    client = new_client(app)
    assert client.post("/login", data={"username": "kasia", "password": PASSWORD}).status_code == 303
    yield client
    app.extensions.pop("wms_longpoll", None)


def scan(client_id: str, code: str = "$B:ST1:A-01") -> None:
    record_scans("ST1-C1", [{"client_id": client_id, "code": code}])


def blocks(body: str) -> list[dict[str, str]]:
    """The stream's blocks (comments left out), each as its fields."""
    out = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if fields:
            out.append(fields)
    return out


def in_use(app) -> int:
    return app.extensions["wms_longpoll"].in_use


def test_without_a_free_slot_the_stream_sends_what_is_new_and_ends_at_once(app, kasia, monkeypatch):
    monkeypatch.setitem(app.config, "LONGPOLL_SLOTS", 0)
    scan("a")
    scan("b")
    started = time.monotonic()
    r = kasia.get(EVENTS + "?after=0")
    body = r.get_data(as_text=True)
    assert time.monotonic() - started < 10  # not the 30 s of a full stream
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    first, *scans, end = blocks(body)
    retry = int(first["retry"])
    assert retry in SHORT  # the short-poll cadence, jittered
    assert [(s["event"], s["id"]) for s in scans] == [("scan", "1"), ("scan", "2")]
    # The end: where to resume, when to come back, and that the end is planned.
    assert (end["event"], end["id"], end["retry"]) == ("end", "2", str(retry))
    assert json.loads(end["data"]) == {"retry": retry, "short": True}
    # The browser comes back with Last-Event-ID and gets only what came after.
    scan("c")
    got = blocks(kasia.get(EVENTS + "?after=0", headers={"Last-Event-ID": end["id"]}).get_data(as_text=True))
    assert [b["id"] for b in got if b.get("event") == "scan"] == ["3"]
    assert got[-1]["event"] == "end" and got[-1]["id"] == "3"


def test_a_stream_with_a_slot_stays_open_and_others_poll_until_it_is_given_back(app, kasia, monkeypatch):
    monkeypatch.setitem(app.config, "LONGPOLL_SLOTS", 1)
    held = kasia.get(EVENTS + "?after=0", buffered=False)
    chunks = iter(held.response)
    assert next(chunks) == b"retry: 1000\n\n"  # it holds the one slot now
    assert in_use(app) == 1
    scan("a")
    # A second page meanwhile: no slot, so an answer at once with the scan, told to come back in a few seconds.
    started = time.monotonic()
    other = blocks(new_client_signed_in(app).get(EVENTS + "?after=0").get_data(as_text=True))
    assert time.monotonic() - started < 10
    assert int(other[0]["retry"]) in SHORT and [b.get("id") for b in other[1:-1]] == ["1"]
    assert json.loads(other[-1]["data"])["short"] is True
    # The held stream delivers the scan live; closing it (the browser went away) gives the slot back.
    received = b""
    for chunk in chunks:
        received += chunk
        if b"event: scan" in received:
            break
    assert b"id: 1\n" in received
    held.close()
    assert in_use(app) == 0
    # The next stream gets the slot: it runs its time, then ends with the short reconnection delay.
    monkeypatch.setitem(app.config, "STATION_EVENTS_SECONDS", 0.3)
    full = blocks(kasia.get(EVENTS + "?after=1").get_data(as_text=True))
    assert full[0]["retry"] == "1000"
    assert full[-1]["event"] == "end" and full[-1]["id"] == "1" and full[-1]["retry"] == "1000"
    assert json.loads(full[-1]["data"]) == {"retry": 1000, "short": False}
    assert in_use(app) == 0


def test_a_stream_opened_without_a_position_ends_with_the_newest_id(app, kasia, monkeypatch):
    """A client that asked for "scans from now on" resumes where that was, so it misses nothing between polls."""
    monkeypatch.setitem(app.config, "LONGPOLL_SLOTS", 0)
    scan("a")
    scan("b")
    got = blocks(kasia.get(EVENTS).get_data(as_text=True))
    assert [b.get("event") for b in got] == [None, "end"] and got[-1]["id"] == "2"


def test_the_page_script_keeps_live_through_planned_ends(app, kasia):
    html = kasia.get("/stations/ST1-C1").get_data(as_text=True)
    assert 'addEventListener("end"' in html and "new EventSource(" in html


def new_client_signed_in(app):
    client = new_client(app)
    assert client.post("/login", data={"username": "kasia", "password": PASSWORD}).status_code == 303
    return client
