"""The channel's order list (wms.orders.queries): by external id, and paged by change with a cursor that never
misses an order, on SQLite and PostgreSQL (where a late commit must not be skipped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tests.factories import make_channel, make_world, order_body
from tests.integration.channels.helpers import settle as settle_log
from wms.channels.models import Channel
from wms.errors import ValidationError
from wms.extensions import db
from wms.orders.models import Order, OrderEvent
from wms.orders.queries import changed_orders, find_by_external_id
from wms.orders.service import cancel_order, place_order


def settle() -> None:
    """PostgreSQL: wait until every order event written so far is final for readers of the order list."""
    settle_log(table="order_event")


def channel_id(code: str) -> int:
    found = db.session.execute(select(Channel.id).where(Channel.code == code)).scalar_one()
    db.session.rollback()
    return found


@pytest.fixture
def web(any_app) -> int:
    make_world(stock_a=100, stock_b=100)
    return channel_id("WEB")


def place(channel: int, external_id: str, qty: int = 1) -> int:
    order, created = place_order(channel, order_body(external_id, lines=[("A", qty)]))
    assert created
    return order.id


def page(channel: int, **kwargs) -> tuple[list[str], str]:
    orders, cursor = changed_orders(channel, **kwargs)
    return [o.external_id for o in orders], cursor


def drain(channel: int, cursor: str | None, limit: int, **filters) -> tuple[list[list[str]], str]:
    """Every page from ``cursor`` until an empty one; checks what every page must hold."""
    settle()
    pages = []
    while True:
        ids, following = page(channel, after=cursor, limit=limit, **filters)
        assert following, "every page carries next"
        assert len(ids) == len(set(ids)) and len(ids) <= limit
        if not ids:
            return pages, following
        pages.append(ids)
        cursor = following


def test_find_by_external_id_only_in_this_channel(web):
    other = channel_id_of_new_channel("SHOP")
    place(web, "WEB-1")
    place(other, "WEB-1")
    found = find_by_external_id(web, "WEB-1")
    assert [(o.external_id, o.channel_id) for o in found] == [("WEB-1", web)]
    assert find_by_external_id(web, "WEB-404") == []


def channel_id_of_new_channel(code: str) -> int:
    make_channel(code, ship_from=["WH1"])
    return channel_id(code)


def test_empty_list_has_a_cursor(web):
    assert page(web) == ([], "0.0")


def test_walking_every_page_lists_every_order_once_oldest_change_first(web):
    ids = [f"WEB-{i}" for i in range(7)]
    for external_id in ids:
        place(web, external_id)
    pages, cursor = drain(web, None, limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == ids
    assert page(web, after=cursor) == ([], cursor), "nothing new: an empty page, the same cursor"


def test_an_order_changed_after_its_page_was_read_comes_again(web):
    first = place(web, "WEB-1")
    place(web, "WEB-2")
    settle()
    ids, cursor = page(web, limit=1)
    assert ids == ["WEB-1"]
    cancel_order(first)
    pages, _ = drain(web, cursor, limit=1)
    assert pages == [["WEB-2"], ["WEB-1"]]
    orders, _ = changed_orders(web, after=cursor, limit=10)
    assert [(o.external_id, o.status) for o in orders] == [("WEB-2", "reserved"), ("WEB-1", "cancelled")]


def test_an_order_changed_twice_inside_one_page_is_listed_once(web):
    first = place(web, "WEB-1")
    place(web, "WEB-2")
    cancel_order(first)
    pages, _ = drain(web, None, limit=10)
    assert pages == [["WEB-1", "WEB-2"]]


def test_another_channels_orders_never_appear(web):
    other = channel_id_of_new_channel("SHOP")
    place(other, "SHOP-1")
    place(web, "WEB-1")
    place(other, "SHOP-2")
    assert drain(web, None, limit=1)[0] == [["WEB-1"]]
    assert drain(other, None, limit=1)[0] == [["SHOP-1"], ["SHOP-2"]]


def test_status_filter_takes_the_orders_status_as_it_is_now(web):
    first = place(web, "WEB-1")
    place(web, "WEB-2")
    cancel_order(first)
    assert drain(web, None, limit=10, status="cancelled")[0] == [["WEB-1"]]
    assert drain(web, None, limit=10, status="reserved")[0] == [["WEB-2"]]
    assert drain(web, None, limit=10, status="shipped")[0] == []


def test_filters_consume_what_they_leave_out(web):
    """A page of a rare status still moves the cursor over the orders it skipped."""
    for i in range(5):
        place(web, f"WEB-{i}")
    settle()
    ids, cursor = page(web, status="cancelled")
    assert ids == [] and cursor != "0.0"
    assert page(web, status="cancelled", after=cursor) == ([], cursor)


def test_updated_after(web):
    old = place(web, "WEB-OLD")
    place(web, "WEB-NEW")
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    db.session.execute(update(Order).where(Order.id == old).values(updated_at=long_ago))
    db.session.commit()
    assert drain(web, None, limit=10, updated_after="2025-01-01T00:00:00Z")[0] == [["WEB-NEW"]]
    assert drain(web, None, limit=10, updated_after="2019-12-31T23:00:00")[0] == [["WEB-OLD", "WEB-NEW"]]
    assert drain(web, None, limit=10, updated_after="2024-12-31t23:00:00+01:00")[0] == [["WEB-NEW"]]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert drain(web, None, limit=10, updated_after=future)[0] == []


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"status": "lost"}, ["status"]),
        ({"updated_after": "yesterday"}, ["updated_after"]),
        ({"updated_after": "２０２６-01-01T00:00:00"}, ["updated_after"]),
        ({"limit": 0}, ["limit"]),
        ({"limit": "1001"}, ["limit"]),
        ({"limit": "²"}, ["limit"]),
        ({"after": "x"}, ["after"]),
        ({"after": "99999999999999999999.1"}, ["after"]),
        ({"status": "lost", "limit": "-1", "after": "1"}, ["status", "limit", "after"]),
    ],
)
def test_bad_arguments_name_every_field(web, kwargs, fields):
    with pytest.raises(ValidationError) as raised:
        changed_orders(web, **kwargs)
    assert [d["field"] for d in raised.value.details] == fields


@pytest.mark.postgres
def test_late_commit_with_a_lower_event_id_is_not_skipped(pg_app):
    """T1 writes an order event first (lower id) and commits last: the list waits for it, never jumps past."""
    make_world(stock_a=100, stock_b=100)
    web = channel_id("WEB")
    first = place(web, "WEB-1")
    _, cursor = drain(web, None, limit=100)

    t1_conn = db.engine.connect()
    t1 = Session(bind=t1_conn)
    try:
        t1.add(OrderEvent(order_id=first, status="reserved", actor="late"))  # T1: uncommitted, the lower id
        t1.flush()
        t1_event = t1.execute(text("SELECT max(id) FROM order_event")).scalar_one()

        place(web, "WEB-2")  # T2: committed, a later id and txid
        t2_event = db.session.execute(text("SELECT max(id) FROM order_event")).scalar_one()
        db.session.rollback()
        assert t2_event > t1_event

        assert page(web, after=cursor) == ([], cursor), "T2 is held back while the older T1 runs"
        t1.commit()
    finally:
        t1.close()
        t1_conn.close()

    pages, _ = drain(web, cursor, limit=100)
    assert pages == [["WEB-1", "WEB-2"]]
