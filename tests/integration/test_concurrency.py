"""Many clients at once: stock never oversells, orders are all or nothing, nothing escapes as a 5xx.

Each thread has its own Flask test client; every request pushes its own app context (and so gets its own
database session), as under a real server. Reservations are proved against on-hand with the reservation rows
themselves (the sum of ``open_qty``), not only with the ``reserved`` counter, which can look right while rows
oversell.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import Api, add_stock, make_world, order_body
from wms.catalog.models import Product
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order, OrderLine
from wms.stock.models import Reservation, StockLevel
from wms.stock.service import check_stock


@dataclass
class Answer:
    job: Any
    status: int
    body: Any


def hammer(app, token: str, threads: int, jobs: list[tuple[Any, Callable[[Api], Any]]]) -> list[Answer]:
    """Run ``jobs`` ((label, call(api) -> response) pairs) over ``threads`` threads started together."""
    barrier = threading.Barrier(threads)
    answers: list[Answer] = []
    lock = threading.Lock()
    crashed: list[BaseException] = []

    def worker(mine: list[tuple[Any, Callable[[Api], Any]]]) -> None:
        api = Api(app.test_client(), token)
        try:
            barrier.wait(30)
            for label, call in mine:
                r = call(api)
                with lock:
                    answers.append(Answer(label, r.status_code, r.get_json(silent=True)))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            crashed.append(exc)

    pool = [threading.Thread(target=worker, args=(jobs[i::threads],)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(120)
    assert not any(t.is_alive() for t in pool), "a client hung (deadlock?)"
    assert not crashed, crashed
    assert len(answers) == len(jobs)
    # The caller's session may hold a read transaction from before the race; on SQLite (WAL) it would keep
    # reading that old snapshot.
    db.session.rollback()
    return answers


def assert_no_server_errors(answers: list[Answer], allowed: set[int]) -> None:
    bad = [(a.job, a.status, a.body) for a in answers if a.status not in allowed]
    assert not bad, bad[:5]


def reservation_totals() -> dict[tuple[str, str], tuple[int, int, int]]:
    """(sku, location) -> (on hand sellable, reserved counter, sum of open reservation rows)."""
    rows = db.session.execute(
        select(Product.sku, Location.code, StockLevel.on_hand_sellable, StockLevel.reserved)
        .join(Product, Product.id == StockLevel.product_id)
        .join(Location, Location.id == StockLevel.location_id)
    ).all()
    open_rows = dict(
        ((sku, loc), qty)
        for sku, loc, qty in db.session.execute(
            select(Product.sku, Location.code, func.sum(Reservation.open_qty))
            .join(Product, Product.id == Reservation.product_id)
            .join(Location, Location.id == Reservation.location_id)
            .group_by(Product.sku, Location.code)
        )
    )
    db.session.rollback()
    return {(sku, loc): (on_hand, held, open_rows.get((sku, loc), 0)) for sku, loc, on_hand, held in rows}


def threads_for(app) -> int:
    # SQLite serialises writers: fewer clients keep the run short and still race every statement. On PostgreSQL
    # stay below the pool (10 + 20 overflow): a client past it waits for a connection, and on a loaded machine a
    # waiter can starve for the pool's 30 s while the others hand connections back and take them again.
    return 24 if db.engine.dialect.name == "postgresql" else 8


def order_job(external_id: str, lines: list[tuple[str, int]]):
    return external_id, lambda api: api.post("/api/v1/orders", order_body(external_id, lines=lines))


def test_hot_sku_sells_exactly_what_is_on_hand(any_app):
    world = make_world(stock_a=0, stock_b=0)
    on_hand = 50 if db.engine.dialect.name == "postgresql" else 20
    add_stock("WH1", "A-01", "A", on_hand)
    threads = threads_for(any_app)
    jobs = [order_job(f"HOT-{i}", [("A", 1)]) for i in range(on_hand + 2 * threads)]
    answers = hammer(any_app, world.web, threads, jobs)
    assert_no_server_errors(answers, {201, 409})
    statuses = Counter(a.status for a in answers)
    assert statuses == {201: on_hand, 409: len(jobs) - on_hand}, statuses
    assert all(a.body["error"]["code"] == "insufficient_stock" for a in answers if a.status == 409)
    assert reservation_totals()[("A", "WH1")] == (on_hand, on_hand, on_hand)
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == on_hand
    assert check_stock() == []


def test_multi_line_orders_racing_single_line_orders(any_app):
    """Orders of A+B (in both line orders, some split over two warehouses) race orders of A alone and B alone:
    no deadlock, no 5xx, and every order that exists holds all of its lines in full."""
    world = make_world(stock_a=0, stock_b=0)
    pg = db.engine.dialect.name == "postgresql"
    stock = 30 if pg else 12
    add_stock("WH1", "A-01", "A", stock)
    add_stock("WH1", "A-02", "B", stock)
    add_stock("WH2", "A-01", "A", 4)
    add_stock("WH2", "A-01", "B", 4)
    jobs = []
    for i in range(stock + 10):
        jobs.append(order_job(f"AB-{i}", [("A", 1), ("B", 1)] if i % 2 else [("B", 1), ("A", 1)]))
        jobs.append(order_job(f"A-{i}", [("A", 1)]))
        jobs.append(order_job(f"B-{i}", [("B", 1)]))
        if i % 5 == 0:
            jobs.append(order_job(f"BIG-{i}", [("A", 3), ("B", 5)]))  # may need both warehouses
    answers = hammer(any_app, world.web, threads_for(any_app), jobs)
    assert_no_server_errors(answers, {201, 409})
    created = {a.body["id"] for a in answers if a.status == 201}
    assert created, "some orders must get through"
    assert Counter(a.status for a in answers)[409] > 0, "demand exceeds stock: some must be refused"

    # every order that exists has every line reserved in full; none exists for a refused request
    lines = db.session.execute(
        select(OrderLine.order_id, OrderLine.qty, func.coalesce(func.sum(Reservation.open_qty), 0))
        .outerjoin(Reservation, Reservation.order_line_id == OrderLine.id)
        .group_by(OrderLine.id, OrderLine.order_id, OrderLine.qty)
    ).all()
    assert {order_id for order_id, _q, _r in lines} == created
    assert [(o, q, r) for o, q, r in lines if q != r] == []
    external = dict(db.session.execute(select(Order.id, Order.external_id)).all())
    line_counts = Counter(order_id for order_id, _q, _r in lines)
    assert all(line_counts[o] == (2 if external[o].startswith(("AB-", "BIG-")) else 1) for o in created)

    totals = reservation_totals()
    for (sku, loc), (on_hand, held, open_qty) in totals.items():
        assert held == open_qty <= on_hand, (sku, loc, totals)
    # demand was larger than stock everywhere, so every unit is sold and none twice
    assert sum(v[2] for (sku, _l), v in totals.items() if sku == "A") == stock + 4
    assert sum(v[2] for (sku, _l), v in totals.items() if sku == "B") == stock + 4
    assert check_stock() == []


def test_the_same_external_id_from_many_clients_makes_one_order(any_app):
    world = make_world(stock_a=10, stock_b=5)
    jobs = [order_job("DUP-1", [("A", 2), ("B", 1)]) for _ in range(8)]
    answers = hammer(any_app, world.web, 8, jobs)
    assert_no_server_errors(answers, {200, 201})
    assert Counter(a.status for a in answers) == {201: 1, 200: 7}
    assert len({a.body["id"] for a in answers}) == 1
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 1
    assert reservation_totals()[("A", "WH1")] == (10, 2, 2)
    assert check_stock() == []


def test_stock_writers_racing_orders(any_app):
    """Adjustments, moves out to staging and back, and receipts race orders on one sku: the only refusals are
    409s, and the books balance afterwards."""
    world = make_world(stock_a=0, stock_b=0)
    add_stock("WH1", "A-01", "A", 20)
    integration = world.integration
    pg = db.engine.dialect.name == "postgresql"
    n = 40 if pg else 16
    jobs: list[tuple[Any, Callable[[Api], Any]]] = []

    def as_integration(call):
        def run(api: Api):
            return call(Api(api.client, integration))

        return run

    move = {"location": "WH1", "from_bin": "A-01", "to_bin": "STAGE", "sku": "A", "qty": 1}
    back = move | {"from_bin": "STAGE", "to_bin": "A-01"}
    for i in range(n):
        jobs.append(order_job(f"W-{i}", [("A", 1)]))
        kind = i % 4
        if kind == 0:
            body = {"location": "WH1", "bin": "A-01", "sku": "A", "delta": -1, "reason": "count"}
            jobs.append((f"adj-{i}", as_integration(lambda api, b=body: api.post("/api/v1/adjustments", b))))
        elif kind == 1:
            jobs.append((f"out-{i}", as_integration(lambda api: api.post("/api/v1/moves", move))))
        elif kind == 2:
            jobs.append((f"back-{i}", as_integration(lambda api: api.post("/api/v1/moves", back))))
        else:
            body = {"reference": f"R-{i}", "location": "WH1", "bin": "B-01", "lines": [{"sku": "A", "qty": 1}]}
            jobs.append((f"rcv-{i}", as_integration(lambda api, b=body: api.post("/api/v1/receipts", b))))
    answers = hammer(any_app, world.web, 16 if pg else 8, jobs)
    assert_no_server_errors(answers, {201, 409})
    assert {a.body["error"]["code"] for a in answers if a.status == 409} <= {"insufficient_stock"}
    on_hand, held, open_qty = reservation_totals()[("A", "WH1")]
    assert held == open_qty <= on_hand
    assert open_qty == Counter(a.status for a in answers if str(a.job).startswith("W-"))[201]
    assert check_stock() == []


@pytest.mark.parametrize("clients", [4])
def test_racing_cancels_and_replays(any_app, clients):
    """Cancels of one order race replays of its intake: released once, never reserved again."""
    world = make_world(stock_a=10, stock_b=0)
    api = Api(any_app.test_client(), world.web)
    placed = api.post("/api/v1/orders", order_body("C-1", lines=[("A", 6)])).json
    jobs = []
    for i in range(clients):
        jobs.append((f"cancel-{i}", lambda a: a.post(f"/api/v1/orders/{placed['id']}/cancel")))
        jobs.append(order_job("C-1", [("A", 6)]))
    answers = hammer(any_app, world.web, clients * 2, jobs)
    assert_no_server_errors(answers, {200})
    assert reservation_totals()[("A", "WH1")] == (10, 0, 0)
    assert api.get(f"/api/v1/orders/{placed['id']}").json["status"] == "cancelled"
    assert check_stock() == []
