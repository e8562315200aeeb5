"""Order intake (place_order) on SQLite and PostgreSQL: all or nothing, idempotent by (channel, external id),
and a failure anywhere inside the reservation transaction leaves no trace."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

import wms.orders.service as orders_service
from tests.factories import Api, add_stock, make_channel, make_world, order_body, stock_snapshot
from wms.channels.models import Channel, OutboxEvent
from wms.errors import IdempotencyConflict, InsufficientStock, ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order, OrderEvent, OrderLine
from wms.orders.service import place_order
from wms.stock.models import Reservation, StockChange
from wms.stock.service import check_stock


def counts() -> dict[str, int]:
    """Rows of every table an order writes."""
    result = {
        model.__tablename__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Order, OrderLine, OrderEvent, Reservation, OutboxEvent, StockChange)
    }
    db.session.rollback()
    return result


def nothing_changed(before: tuple[dict, dict]) -> bool:
    return (stock_snapshot(), counts()) == before


def state() -> tuple[dict, dict]:
    return stock_snapshot(), counts()


@pytest.fixture
def web(any_app) -> int:
    """WH1 holds 10 A and 5 B, WH2 3 A; returns the WEB channel's id (ships from WH1, WH2, ST2)."""
    make_world(stock_a=10, stock_b=5)
    add_stock("WH2", "A-01", "A", 3)
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    db.session.rollback()
    return channel_id


def test_an_order_writes_lines_reservations_history_change_log_and_outbox(web):
    before = counts()
    order, created = place_order(web, order_body("WEB-1", lines=[("A", 2), ("B", 1)]), actor="WEB")
    assert created and order.status == "reserved"
    after = counts()
    assert {k: after[k] - before[k] for k in after} == {
        "order": 1,
        "order_line": 2,
        "order_event": 1,
        "reservation": 2,
        "outbox_event": 1,
        "stock_change": 2,  # one per level whose availability moved
    }
    event_row = db.session.execute(select(OutboxEvent)).scalar_one()
    assert (event_row.event, event_row.subject_id, event_row.channel_id) == ("order.updated", order.id, web)
    assert check_stock() == []


def test_replay_returns_the_same_order_and_reserves_nothing(web):
    body = order_body("WEB-1", lines=[("A", 4)])
    first, created = place_order(web, body)
    before = state()
    again, created_again = place_order(web, body)
    assert created and not created_again and again.id == first.id
    assert nothing_changed(before)


def test_other_content_under_the_same_external_id_is_a_conflict(web):
    place_order(web, order_body("WEB-1", lines=[("A", 4)]))
    before = state()
    for body in (
        order_body("WEB-1", lines=[("A", 5)]),
        order_body("WEB-1", lines=[("A", 4)], fulfilment="pickup", pickup_location="ST1", ship_to=None),
        order_body("WEB-1", lines=[("A", 4), ("B", 1)]),
    ):
        with pytest.raises(IdempotencyConflict):
            place_order(web, body)
    assert nothing_changed(before)


def test_short_lines_reserve_nothing(web):
    before = state()
    with pytest.raises(InsufficientStock) as exc:
        place_order(web, order_body("WEB-1", lines=[("B", 2), ("A", 14), ("B", 4)]))
    # 13 A over WH1 and WH2; B 2 + 4 wanted, 5 there: both B lines are listed
    assert exc.value.details == [
        {"sku": "B", "requested": 2, "available": 5},
        {"sku": "A", "requested": 14, "available": 13},
        {"sku": "B", "requested": 4, "available": 5},
    ]
    assert nothing_changed(before)


def test_unknown_names_are_validation_errors(web):
    before = state()
    with pytest.raises(ValidationError) as exc:
        place_order(web, order_body("WEB-1", lines=[("NOPE", 1), ("A", 1)], fulfilment="pickup", pickup_location="WH1"))
    assert [e["field"] for e in exc.value.details] == ["lines[0].sku", "pickup_location"]
    assert nothing_changed(before)


# --- a failure in the middle of the reservation transaction ---------------------------------------------------


def fail_on_nth(engine, n: int, marker: str = "UPDATE stock_level"):
    """A listener that raises a database error instead of running the ``n``-th statement starting ``marker``."""
    seen = {"count": 0}

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(marker.upper()):
            seen["count"] += 1
            if seen["count"] == n:
                raise OperationalError(statement, parameters, Exception("injected: server closed the connection"))

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    return before_cursor_execute, seen


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_a_database_error_between_reservations_leaves_nothing(any_app, web, nth):
    """Three levels to reserve (A at WH1 and WH2, B at WH1): the error hits the first, second or third
    conditional UPDATE, so zero, one or two reservations have already been written in the transaction."""
    body = order_body("WEB-1", lines=[("A", 12), ("B", 1)])  # A: 10 from WH1 + 2 from WH2
    before = state()
    listener, seen = fail_on_nth(db.engine, nth)
    try:
        with pytest.raises(OperationalError):
            place_order(web, body)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert seen["count"] == nth
    assert nothing_changed(before)
    assert check_stock() == []
    # nothing of the failed attempt blocks the same order afterwards
    order, created = place_order(web, body)
    assert created and sorted((r.location_id, r.qty) for line in order.lines for r in line.reservations)
    assert check_stock() == []


@pytest.mark.parametrize("table", ["stock_change", "outbox_event"])
def test_a_failure_writing_the_change_log_or_the_outbox_leaves_nothing(any_app, web, table):
    """The statement that writes the change log or the outbox fails (on PostgreSQL it is the one statement that
    writes every row of the order; on SQLite a statement of its own)."""

    def refuse(conn, cursor, statement, parameters, context, executemany):
        if f"INSERT INTO {table}" in statement:
            raise OperationalError(statement, {}, Exception(f"injected: {table} failed"))

    before = state()
    event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        with pytest.raises(OperationalError):
            place_order(web, order_body("WEB-1", lines=[("A", 2), ("B", 1)]))
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse)
    assert nothing_changed(before)
    order, created = place_order(web, order_body("WEB-1", lines=[("A", 2), ("B", 1)]))
    assert created and check_stock() == []


def test_a_failed_commit_leaves_nothing(any_app, web):
    """The commit itself fails after every statement of the order ran."""
    reserved = {"seen": False}

    def note_reservation(conn, cursor, statement, parameters, context, executemany):
        reserved["seen"] = reserved["seen"] or statement.lstrip().upper().startswith("UPDATE STOCK_LEVEL")

    def refuse(session):
        if reserved["seen"]:
            raise OperationalError("COMMIT", {}, Exception("injected: disk full"))

    before = state()
    session = db.session()
    event.listen(db.engine, "before_cursor_execute", note_reservation)
    event.listen(session, "before_commit", refuse)
    try:
        with pytest.raises(OperationalError):
            place_order(web, order_body("WEB-1", lines=[("A", 2), ("B", 1)]))
    finally:
        event.remove(session, "before_commit", refuse)
        event.remove(db.engine, "before_cursor_execute", note_reservation)
    assert reserved["seen"]
    assert nothing_changed(before)


def test_over_http_a_database_error_is_a_500_and_leaves_nothing(any_app, web):
    api = Api(any_app.test_client(), make_channel("SHOP", ship_from=["WH1", "WH2"]))
    body = order_body("SHOP-1", lines=[("A", 12), ("B", 1)])
    before = state()
    listener, _seen = fail_on_nth(db.engine, 2)
    try:
        r = api.post("/api/v1/orders", body)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert r.status_code == 500
    assert r.json == {"error": {"code": "internal_error", "message": "internal error", "details": None}}
    assert nothing_changed(before)
    assert api.post("/api/v1/orders", body).status_code == 201


# --- routing again when another order took the stock between the read and the reservation --------------------


def test_a_stale_read_routes_again_with_fresh_figures(web, monkeypatch):
    """The first read claims WH1 has 20 A more than it has (as if read just before another order took them):
    the conditional UPDATE finds less, nothing is kept from that attempt, and the order is routed again."""
    real_first = orders_service._products_and_levels
    real = orders_service._available
    wh1 = db.session.execute(select(Location.id).where(Location.code == "WH1")).scalar_one()
    calls = {"n": 0}

    def stale_first_read(session, skus):
        products, figures = real_first(session, skus)
        return products, {key: value + 20 if key[1] == wh1 else value for key, value in figures.items()}

    def counted(session, product_ids, location_ids):
        calls["n"] += 1
        return real(session, product_ids, location_ids)

    monkeypatch.setattr(orders_service, "_products_and_levels", stale_first_read)
    monkeypatch.setattr(orders_service, "_available", counted)
    order, created = place_order(web, order_body("WEB-1", lines=[("A", 12)]))
    assert created and calls["n"] == 1  # one fresh read after the lost attempt
    assert sorted(r.qty for r in order.lines[0].reservations) == [2, 10]  # WH1 10 + WH2 2, not 12 from WH1
    assert check_stock() == []


def test_reads_that_stay_stale_end_in_409_with_the_real_figures(web, monkeypatch):
    real_first = orders_service._products_and_levels
    real = orders_service._available
    calls = {"n": 0}

    def stale_first_read(session, skus):
        products, figures = real_first(session, skus)
        return products, {key: value + 20 for key, value in figures.items()}

    def stale_while_routing(session, product_ids, location_ids):
        calls["n"] += 1
        figures = real(session, product_ids, location_ids)
        if calls["n"] < orders_service.ROUTING_ATTEMPTS:
            figures = {key: value + 20 for key, value in figures.items()}
        return figures

    monkeypatch.setattr(orders_service, "_products_and_levels", stale_first_read)
    monkeypatch.setattr(orders_service, "_available", stale_while_routing)
    before = state()
    with pytest.raises(InsufficientStock) as exc:
        place_order(web, order_body("WEB-1", lines=[("A", 12)]))
    assert nothing_changed(before)
    # the first read, ROUTING_ATTEMPTS - 1 stale reads routing again, then the real figures for the answer
    assert calls["n"] == orders_service.ROUTING_ATTEMPTS
    assert exc.value.details == [{"sku": "A", "requested": 12, "available": 13}]
