"""Channel availability, the change feed and the full feed, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.factories import add_stock, make_bin, make_location, make_product, make_world, order_body
from tests.integration.channels.helpers import settle
from wms.channels.availability import availability, changes, feed
from wms.channels.service import create_channel
from wms.errors import InsufficientStock
from wms.extensions import db
from wms.orders.service import cancel_order, place_order
from wms.stock.service import adjust, bump_on_hand


def _channel(code: str, ship_from: list[str] | None = None, buffer: int = 0) -> int:
    return create_channel(code, ship_from=ship_from, buffer=buffer)[0].id


def _loc(code: str, available: int, pickup: bool) -> dict:
    return {"location": code, "available": available, "pickup": pickup}


def _all_skus() -> list[str]:
    return list(db.session.execute(text("SELECT sku FROM product ORDER BY id")).scalars())


# --- the item -------------------------------------------------------------------------------------------------


def test_available_is_ship_from_stock_minus_reserved_minus_buffer(any_app):
    make_world(stock_a=10)
    add_stock("WH2", "A-01", "A", 4)
    add_stock("ST1", "S-01", "A", 3)  # a pickup store the channel does not ship from
    add_stock("ST2", "S-01", "A", 2)
    channel = _channel("MKT", ship_from=["WH1", "ST2"], buffer=3)
    [item] = availability(channel, 3, ["A"])
    assert item == {
        "sku": "A",
        "available": 10 + 2 - 3,
        "known": True,
        "locations": [_loc("WH1", 10, False), _loc("WH2", 4, False), _loc("ST1", 3, True), _loc("ST2", 2, True)],
    }
    place_order(channel, order_body("MKT-1", lines=[("A", 4)]))  # reserved at WH1, its first ship-from location
    [item] = availability(channel, 3, ["A"])
    assert item["available"] == 10 - 4 + 2 - 3
    assert item["locations"][0] == _loc("WH1", 6, False)


def test_buffer_never_makes_availability_negative(any_app):
    make_world(stock_a=2)
    channel = _channel("TIGHT", ship_from=["WH1"], buffer=5)
    [item] = availability(channel, 5, ["A"])
    assert item["available"] == 0
    assert item["locations"] == [_loc("WH1", 2, False)]


def test_without_a_list_a_channel_ships_from_every_location_that_ships(any_app):
    make_world(stock_a=10)
    add_stock("WH2", "A-01", "A", 4)
    add_stock("ST1", "S-01", "A", 3)  # does not ship
    add_stock("ST2", "S-01", "A", 2)  # ships
    channel = _channel("ALL")
    assert availability(channel, 0, ["A"])[0]["available"] == 10 + 4 + 2


def test_unknown_and_repeated_skus_keep_request_order(any_app):
    make_world(stock_a=10, stock_b=5)
    make_product("C")  # known, never stocked
    channel = _channel("MKT", ship_from=["WH1"])
    items = availability(channel, 0, ["B", "NOPE", "A", "B", "C"])
    assert [(i["sku"], i["known"], i["available"]) for i in items] == [
        ("B", True, 5),
        ("NOPE", False, 0),
        ("A", True, 10),
        ("C", True, 0),
    ]
    assert items[1] == {"sku": "NOPE", "available": 0, "known": False, "locations": []}
    assert items[3]["locations"] == []


def test_stock_outside_sellable_bins_is_not_available(any_app):
    make_world(stock_a=0, stock_b=0)
    add_stock("WH1", "DOCK", "A", 7)  # received to the dock: on hand, not sellable
    channel = _channel("MKT", ship_from=["WH1"])
    assert availability(channel, 0, ["A"])[0]["available"] == 0


# --- the change feed ------------------------------------------------------------------------------------------


def _drain(channel: int, cursor: str | None, limit: int) -> tuple[list[list[dict]], str]:
    settle()
    pages = []
    while True:
        page = changes(channel, 0, cursor, limit)
        assert page["next"], "every page carries next"
        if not page["changes"]:
            assert page["next"] == (cursor or "0.0")
            return pages, page["next"]
        skus = [i["sku"] for i in page["changes"]]
        assert len(skus) == len(set(skus)), "a sku at most once per page"
        assert len(skus) <= limit
        pages.append(page["changes"])
        cursor = page["next"]


def test_empty_log_gives_an_empty_page_with_a_cursor(any_app):
    channel = _channel("MKT")
    assert changes(channel, 0, None, 100) == {"changes": [], "next": "0.0"}


def test_pages_hold_each_sku_once_and_end_with_an_empty_page(any_app):
    make_world(stock_a=10, stock_b=5)
    for sku in ("C", "D", "E"):
        make_product(sku)
        add_stock("WH1", "A-01", sku, 1)
    for _ in range(3):  # the same skus again and again: one entry per page each
        add_stock("WH1", "A-01", "A", 1)
        add_stock("WH1", "A-01", "C", 1)
    channel = _channel("MKT", ship_from=["WH1"])
    pages, cursor = _drain(channel, None, limit=2)
    seen = [i["sku"] for page in pages for i in page]
    assert set(seen) == {"A", "B", "C", "D", "E"}
    assert all(len(page) <= 2 for page in pages)
    # figures are current, not as of the change
    last = {i["sku"]: i["available"] for page in pages for i in page}
    assert last["A"] == 13 and last["C"] == 4
    # nothing new: an empty page that keeps the cursor
    assert changes(channel, 0, cursor, 2) == {"changes": [], "next": cursor}
    adjust("WH1", "A-02", "B", -1, "broken")
    settle()
    page = changes(channel, 0, cursor, 2)
    assert [i["sku"] for i in page["changes"]] == ["B"] and page["changes"][0]["available"] == 4
    assert page["next"] != cursor


def test_polling_with_next_never_misses_a_change(any_app):
    """A consumer that applies every page to its own copy always ends up with the true figures."""
    rng = random.Random(20240611)
    make_world(stock_a=30, stock_b=30)
    skus = ["A", "B", "C", "D", "E", "F"]
    for sku in skus[2:]:
        make_product(sku)
        add_stock("WH1", "A-01", sku, 20)
    channel = _channel("MKT", ship_from=["WH1", "ST2"])
    replica: dict[str, int] = {}
    cursor = None
    orders: list[int] = []
    for step in range(40):
        action = rng.choice(["receive", "adjust", "order", "cancel", "poll", "poll"])
        sku = rng.choice(skus)
        try:
            if action == "receive":
                if rng.random() < 0.3:
                    add_stock("ST2", "S-01", sku, 2)
                else:
                    add_stock("WH1", "A-01", sku, rng.randint(1, 3))
            elif action == "adjust":
                adjust("WH1", "A-01", sku, -1, "count")
            elif action == "order":
                order, _ = place_order(channel, order_body(f"P-{step}", lines=[(sku, rng.randint(1, 4))]))
                orders.append(order.id)
            elif action == "cancel" and orders:
                cancel_order(orders.pop(rng.randrange(len(orders))))
        except InsufficientStock:
            pass  # refused: changes nothing
        if action == "poll":
            page = changes(channel, 0, cursor, rng.randint(1, 3))
            replica.update({i["sku"]: i["available"] for i in page["changes"]})
            cursor = page["next"]
    pages, cursor = _drain(channel, cursor, limit=2)
    for page in pages:
        replica.update({i["sku"]: i["available"] for i in page})
    truth = {i["sku"]: i["available"] for i in availability(channel, 0, skus)}
    assert replica == truth


@pytest.mark.postgres
def test_late_commit_with_a_lower_sequence_number_is_not_skipped(pg_app):
    """T1 writes a change first (lower seq) and commits last; the feed must wait for it, not jump past it."""
    make_world(stock_a=10, stock_b=5)
    channel = _channel("MKT", ship_from=["WH1"])
    _pages, cursor = _drain(channel, None, limit=100)
    ids = dict(db.session.execute(text("SELECT sku, id FROM product")).all())
    wh1 = db.session.execute(text("SELECT id FROM location WHERE code = 'WH1'")).scalar_one()
    db.session.rollback()

    t1_conn = db.engine.connect()
    t1 = Session(bind=t1_conn)
    try:
        bump_on_hand(t1, ids["A"], wh1, 5, "A")  # T1: a change of A, still uncommitted
        t1_seq = t1.execute(text("SELECT max(seq) FROM stock_change")).scalar_one()

        adjust("WH1", "A-02", "B", 2, "found")  # T2: a change of B, committed, with a later seq and txid
        t2_seq = db.session.execute(text("SELECT max(seq) FROM stock_change")).scalar_one()
        db.session.rollback()
        assert t2_seq > t1_seq

        page = changes(channel, 0, cursor, 100)
        assert page == {"changes": [], "next": cursor}, "T2 is held back while the older T1 runs"

        t1.commit()
    finally:
        t1.close()
        t1_conn.close()

    settle()
    page = changes(channel, 0, cursor, 100)
    assert {i["sku"]: i["available"] for i in page["changes"]} == {"A": 15, "B": 7}
    assert changes(channel, 0, page["next"], 100)["changes"] == []


# --- the full feed --------------------------------------------------------------------------------------------


def test_feed_ndjson_lists_every_product_as_the_item(any_app):
    make_world(stock_a=10, stock_b=5)
    add_stock("ST1", "S-01", "A", 3)
    make_product("C")  # no stock at all
    odd = 'Q"uote\\back,slash Żółć'
    make_product(odd)
    add_stock("WH2", "A-01", odd, 4)
    channel = _channel("MKT", ship_from=["WH1", "WH2"], buffer=1)
    body = b"".join(feed(channel, 1, "ndjson"))
    assert body.endswith(b"\n")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert lines == availability(channel, 1, _all_skus())
    assert [i["sku"] for i in lines] == ["A", "B", "C", odd]
    assert lines[0]["available"] == 9 and lines[2] == {"sku": "C", "available": 0, "known": True, "locations": []}
    assert lines[3]["available"] == 3


def test_feed_csv_starts_with_sku_and_available(any_app):
    make_world(stock_a=10, stock_b=5)
    add_stock("ST1", "S-01", "A", 3)
    make_product('C,"x"')
    channel = _channel("MKT", ship_from=["WH1"], buffer=2)
    body = b"".join(feed(channel, 2, "csv")).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows == [
        ["sku", "available", "locations", "pickup"],
        ["A", "8", "WH1:10;ST1:3", "ST1:3"],
        ["B", "3", "WH1:5", ""],
        ['C,"x"', "0", "", ""],
    ]


def test_feed_streams_in_chunks(any_app, monkeypatch):
    import wms.channels.availability as availability_module

    monkeypatch.setattr(availability_module, "FEED_ROWS_PER_CHUNK", 2)
    make_world(stock_a=1, stock_b=1)
    for sku in ("C", "D", "E"):
        make_product(sku)
    channel = _channel("MKT")
    chunks = list(feed(channel, 0, "ndjson"))
    assert len(chunks) == 3  # 5 products, 2 per chunk
    assert sum(c.count(b"\n") for c in chunks) == 5


def test_feed_after_other_locations_appear(any_app):
    make_world(stock_a=10, stock_b=0)
    make_location("ST9", "store", ships=True)
    make_bin("ST9", "S-01")
    add_stock("ST9", "S-01", "B", 6)
    channel = _channel("ALL")  # every location that ships, ST9 included
    lines = [json.loads(line) for line in b"".join(feed(channel, 0, "ndjson")).splitlines()]
    assert lines[1] == {"sku": "B", "available": 6, "known": True, "locations": [_loc("ST9", 6, True)]}


def test_feed_in_slices_keeps_product_order(any_app, monkeypatch):
    import wms.channels.availability as availability_module

    monkeypatch.setattr(availability_module, "FEED_SLICE_PRODUCTS", 2)  # PostgreSQL: 4 slices, 2 at a time
    make_world(stock_a=3, stock_b=4)
    for sku in ("C", "D", "E", "F", "G"):
        make_product(sku)
        add_stock("WH1", "A-01", sku, 1)
    channel = _channel("MKT", ship_from=["WH1"])
    for fmt in ("ndjson", "csv"):
        body = b"".join(feed(channel, 0, fmt)).decode()
        lines = body.splitlines()[1:] if fmt == "csv" else body.splitlines()
        assert [line.split(",")[0] if fmt == "csv" else json.loads(line)["sku"] for line in lines] == list("ABCDEFG")


def test_feed_closed_early_gives_its_connections_back(any_app, monkeypatch):
    import time

    import wms.channels.availability as availability_module

    monkeypatch.setattr(availability_module, "FEED_SLICE_PRODUCTS", 1)
    monkeypatch.setattr(availability_module, "FEED_ROWS_PER_CHUNK", 1)
    make_world(stock_a=3, stock_b=4)
    for sku in ("C", "D", "E", "F"):
        make_product(sku)
    db.session.remove()
    chunks = feed(_channel("MKT"), 0, "ndjson")
    assert json.loads(next(chunks))["sku"] == "A"
    chunks.close()  # the client went away
    db.session.remove()
    deadline = time.monotonic() + 5
    while db.engine.pool.checkedout() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert db.engine.pool.checkedout() == 0


def test_the_feed_records_what_each_channel_consumed_and_counts_what_it_has_not(any_app, monkeypatch):
    """The position a channel sends is recorded (for the managers' feed-lag exception); what follows it is counted
    with the time of the first unread change, on both databases' log orders."""
    from wms.channels import availability as module
    from wms.channels.availability import decode_cursor, unread_changes
    from wms.channels.models import ChannelFeedRead

    monkeypatch.setattr(module, "_feed_read_recorded", {})
    monkeypatch.setattr(module, "FEED_READ_EVERY", 0.0)
    make_world(stock_a=5, stock_b=5)
    channel = _channel("MKT", ship_from=["WH1"])
    settle()
    logged = db.session.execute(text("SELECT count(*) FROM stock_change")).scalar_one()
    assert logged >= 2
    db.session.rollback()  # a read snapshot of its own would not see the feed's write
    start = changes(channel, 0, None, 1)
    (row,) = db.session.execute(select(ChannelFeedRead)).scalars()
    assert (row.channel_id, row.txid, row.seq) == (channel, 0, 0)
    unread, oldest = unread_changes((0, 0))
    assert unread == logged and oldest is not None
    # it consumed its first page: what is left is what followed that page's cursor
    db.session.rollback()
    changes(channel, 0, start["next"], 1)
    (row,) = db.session.execute(select(ChannelFeedRead)).scalars()
    assert (row.txid, row.seq) == decode_cursor(start["next"]) != (0, 0)
    left = unread_changes((row.txid, row.seq))[0]
    assert 0 < left < logged
    assert unread_changes((0, 0), cap=1)[0] == 2  # more than the cap reads as cap + 1
