"""Benchmark 2: order intake, 32 concurrent clients on one hot sku, PostgreSQL.

Throughput: wrk posts orders of 1 unit of the hot sku (on hand 1,000,000, one location), each with a new
external id, to ``POST /api/v1/orders``, against the bare app's ``POST /bare/orders/<level>`` (the same body; one
conditional UPDATE plus one INSERT in one transaction). Both: gunicorn gthread 2 workers x 4 threads, 32
connections. Target: WMS orders/s (201 answers per second) >= 40% of the bare orders/s.

Integrity, after the runs: no 5xx; sum of open reservations == stock_level.reserved <= on_hand_sellable; the
orders recorded == units reserved, and they match the 201 answers (wrk drops the requests in flight when it
stops, so up to one per connection may be recorded without the client seeing its 201); ``check_stock`` clean and
``wms check`` exits 0.

Exhaustion: a second hot sku with on hand 500, a few thousand requests from 32 threads (Python, keep-alive,
every answer awaited): exactly 500 answers 201, every other one 409 ``insufficient_stock``, reserved == 500.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from http.client import HTTPConnection

from sqlalchemy import create_engine, func, select, text

from benchmarks import seed
from benchmarks.bare_app import create_bench_tables
from benchmarks.common import (
    BARE_APP,
    HOST,
    WMS_APP,
    Row,
    Server,
    Settings,
    WrkResult,
    cpu_summary,
    database,
    fmt_rate,
    log,
    median,
    run_wrk,
    wms_app,
    wms_command,
)

NAME = "orders"
DATABASES = ("postgres",)
CONNECTIONS = 32
RATE_TARGET = 0.40
HOT, HOT_STOCK = "HOT", 1_000_000
SMALL, SMALL_STOCK = "HOT500", 500
BARE_LEVEL = 1


def order_body(external_id: str, sku: str, qty: int = 1) -> dict:
    """An order as in API.md."""
    return {
        "external_id": external_id,
        "fulfilment": "ship",
        "customer": {"name": "Anna Nowak", "email": "anna@example.com", "phone": "+48600100200"},
        "ship_to": {"line1": "ul. Długa 1", "city": "Kraków", "postcode": "31-001", "country": "PL"},
        "lines": [{"sku": sku, "qty": qty}],
    }


def _seed(url: str) -> str:
    app = wms_app(url)
    with app.app_context():
        from wms.extensions import db

        seed.make_locations()
        seed.make_products([HOT, SMALL, "COLD-1", "COLD-2"])
        seed.stock("WH1", [(HOT, HOT_STOCK), (SMALL, SMALL_STOCK), ("COLD-1", 50), ("COLD-2", 50)], "SEED-WH1")
        seed.stock("WH2", [("COLD-1", 20)], "SEED-WH2")
        token = seed.channel("BENCH", ["WH1", "WH2"])
        db.session.remove()
        db.engine.dispose()
    engine = create_engine(url)
    create_bench_tables(engine, {BARE_LEVEL: HOT_STOCK})
    engine.dispose()
    return token


def hammer(port: int, token: str, sku: str, total: int, clients: int, prefix: str) -> tuple[Counter, float]:
    """Post ``total`` orders from ``clients`` threads on keep-alive connections, awaiting every answer.

    Returns a Counter of (status, error code) and the seconds taken. Bounded: each request takes one number of
    ``total``; sockets time out after 60 s; the threads are joined with a deadline.
    """
    numbers = itertools.count()
    lock = threading.Lock()
    results: Counter = Counter()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def client() -> None:
        conn = HTTPConnection(HOST, port, timeout=60)
        try:
            while True:
                with lock:
                    n = next(numbers)
                if n >= total:
                    return
                body = json.dumps(order_body(f"{prefix}-{n}", sku)).encode()
                try:
                    conn.request("POST", "/api/v1/orders", body, headers)
                    response = conn.getresponse()
                    data = response.read()
                except OSError as exc:
                    outcome = ("socket error", type(exc).__name__)
                    conn.close()
                    conn = HTTPConnection(HOST, port, timeout=60)
                else:
                    code = None
                    if response.status >= 400:
                        try:
                            code = json.loads(data)["error"]["code"]
                        except (ValueError, KeyError, TypeError):
                            code = data[:60].decode(errors="replace")
                    outcome = (response.status, code)
                with lock:
                    results[outcome] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    deadline = started + 600
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise RuntimeError("order clients still running after 600 s")
    return results, time.monotonic() - started


def _level_facts(url: str, sku: str) -> dict:
    """Stock level, reservations and orders of ``sku`` as stored, and the ledger check."""
    app = wms_app(url)
    with app.app_context():
        from wms.catalog.models import Product
        from wms.extensions import db
        from wms.orders.models import OrderLine
        from wms.stock.models import Reservation, StockLevel
        from wms.stock.service import check_stock

        session = db.session
        product_id = session.execute(select(Product.id).where(Product.sku == sku)).scalar_one()
        levels = session.execute(
            select(StockLevel.on_hand_sellable, StockLevel.reserved).where(StockLevel.product_id == product_id)
        ).all()
        open_qty = session.execute(
            select(func.coalesce(func.sum(Reservation.open_qty), 0)).where(Reservation.product_id == product_id)
        ).scalar_one()
        lines, units = session.execute(
            select(func.count(), func.coalesce(func.sum(OrderLine.qty), 0)).where(OrderLine.product_id == product_id)
        ).one()
        problems = check_stock(session)
        db.session.remove()
        db.engine.dispose()
    return {
        "on_hand": sum(lv[0] for lv in levels),
        "reserved": sum(lv[1] for lv in levels),
        "open_qty": int(open_qty),
        "orders": int(lines),
        "units": int(units),
        "check": problems,
    }


def _bare_facts(url: str) -> tuple[int, int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        on_hand, reserved = conn.execute(
            text("SELECT on_hand_sellable, reserved FROM bench_level WHERE id = :id"), {"id": BARE_LEVEL}
        ).one()
        orders = conn.execute(text("SELECT count(*) FROM bench_order")).scalar_one()
    engine.dispose()
    return on_hand, reserved, orders


def run(kind: str, settings: Settings) -> list[Row]:
    rounds = settings.rounds
    exhaust_requests = 1000 if settings.quick else 3000
    bare: list[WrkResult] = []
    real: list[WrkResult] = []
    real_all: list[WrkResult] = []  # warm-ups too: every 201 and every 5xx counts for the integrity check
    problems: list[str] = []
    with database(kind, "orders") as db:
        log(f"orders/{kind}: seeding the hot sku ({HOT_STOCK:,} units at WH1) and {SMALL} ({SMALL_STOCK} units)")
        token = _seed(db.url)
        bare_args = [f"/bare/orders/{BARE_LEVEL}", token, HOT]
        wms_args = ["/api/v1/orders", token, HOT]
        for round_no in range(1, rounds + 1):
            with Server(BARE_APP, db.url) as server:
                run_wrk(server, "post_order", [*bare_args, f"BW{round_no}"], settings.warmup, CONNECTIONS)
                bare.append(
                    run_wrk(server, "post_order", [*bare_args, f"BR{round_no}"], settings.duration, CONNECTIONS)
                )
                log(f"round {round_no} bare UPDATE + INSERT: {bare[-1].describe()}")
            with Server(WMS_APP, db.url) as server:
                real_all.append(
                    run_wrk(server, "post_order", [*wms_args, f"WW{round_no}"], settings.warmup, CONNECTIONS)
                )
                real.append(run_wrk(server, "post_order", [*wms_args, f"WR{round_no}"], settings.duration, CONNECTIONS))
                real_all.append(real[-1])
                log(f"round {round_no} WMS POST /orders: {real[-1].describe()}")
                if round_no == rounds:
                    log(f"exhaustion: {exhaust_requests} orders of {SMALL} (on hand {SMALL_STOCK}), 32 threads")
                    outcomes, seconds = hammer(server.port, token, SMALL, exhaust_requests, CONNECTIONS, "EX")
                    log(f"exhaustion: {dict(outcomes)} in {seconds:.1f} s")
                problems += server.errors_in_log()
        hot = _level_facts(db.url, HOT)
        small = _level_facts(db.url, SMALL)
        bare_on_hand, bare_reserved, bare_orders = _bare_facts(db.url)
        wms_check = wms_command(db.url, "check")

    # --- throughput
    bare_rate = median([r.rate_of(201) for r in bare])
    real_rate = median([r.rate_of(201) for r in real])
    real_p99 = median([r.p99 for r in real])
    bare_p99 = median([r.p99 for r in bare])
    unexpected = Counter()
    for r in real_all:
        for status, n in r.statuses.items():
            if status != 201:
                unexpected[status] += n
    socket_errors = sum(sum(v for k, v in r.errors.items() if k != "status_errors") for r in real_all)
    notes = [
        f"{rounds} round(s) of {settings.duration} s, {CONNECTIONS} connections, median over rounds; "
        f"p99 WMS {real_p99 * 1000:.0f} ms, bare {bare_p99 * 1000:.0f} ms",
        f"CPU per order: WMS {cpu_summary(real)}, bare {cpu_summary(bare)}",
    ]
    if bare_reserved != bare_orders or bare_reserved > bare_on_hand:
        problems.append(f"bare app: reserved {bare_reserved}, orders {bare_orders}, on hand {bare_on_hand}")
    rate = Row(
        "order intake, 1 hot sku, 32 clients",
        kind,
        fmt_rate(real_rate, "orders/s"),
        fmt_rate(bare_rate, "orders/s") + " (UPDATE+INSERT)",
        f"{real_rate / bare_rate:.2f}x",
        f">= {RATE_TARGET:.2f}x",
        real_rate / bare_rate >= RATE_TARGET,
        notes,
        {"wms_rate": real_rate, "bare_rate": bare_rate, "wms_p99": real_p99, "bare_p99": bare_p99},
    )

    # --- integrity of the throughput runs
    created_seen = sum(r.statuses.get(201, 0) for r in real_all)
    five_xx = sum(n for status, n in unexpected.items() if status >= 500)
    in_flight = hot["orders"] - created_seen
    oversell = max(0, hot["reserved"] - hot["on_hand"]) + abs(hot["open_qty"] - hot["reserved"])
    if wms_check.returncode != 0:
        problems.append(f"`wms check` exited {wms_check.returncode}: {wms_check.stderr.strip()[:300]}")
    integrity_ok = (
        oversell == 0
        and five_xx == 0
        and hot["units"] == hot["reserved"]
        and 0 <= in_flight <= CONNECTIONS * len(real_all)
        and not hot["check"]
    )
    integrity_notes = [
        f"{created_seen:,} answers 201; {hot['orders']:,} orders recorded = {hot['reserved']:,} units reserved = "
        f"{hot['open_qty']:,} open reservation units (on hand {hot['on_hand']:,}); {in_flight} cut off in flight "
        f"by wrk's stop (at most {CONNECTIONS} per run); other statuses {dict(unexpected) or 'none'}; "
        f"socket errors {socket_errors}"
    ]
    if hot["check"]:
        integrity_notes.append("check_stock: " + "; ".join(hot["check"][:5]))
    integrity = Row(
        "order intake: oversell / 5xx / drift",
        kind,
        f"{oversell} / {five_xx} / {len(hot['check'])}",
        target="0 / 0 / 0",
        passed=integrity_ok and not problems,
        notes=integrity_notes + problems,
        data={"hot": hot, "created_seen": created_seen, "unexpected": dict(unexpected)},
    )

    # --- exhaustion
    created = outcomes.get((201, None), 0)
    refused = outcomes.get((409, "insufficient_stock"), 0)
    others = {f"{k[0]} {k[1] or ''}".strip(): v for k, v in outcomes.items() if k not in ((201, None),)}
    others.pop("409 insufficient_stock", None)
    exhaust_ok = (
        created == SMALL_STOCK
        and refused == exhaust_requests - SMALL_STOCK
        and small["reserved"] == SMALL_STOCK == small["open_qty"] == small["units"] == small["orders"]
        and not small["check"]
    )
    exhaustion = Row(
        f"order intake: {exhaust_requests:,} orders for {SMALL_STOCK} units",
        kind,
        f"{created} x 201, {refused:,} x 409",
        target=f"{SMALL_STOCK} x 201, {exhaust_requests - SMALL_STOCK:,} x 409",
        passed=exhaust_ok,
        notes=[
            f"{exhaust_requests / seconds:,.0f} answers/s; reserved {small['reserved']}, open reservation units "
            f"{small['open_qty']}, orders {small['orders']}; other answers {others or 'none'}"
        ],
        data={"small": small, "outcomes": {f"{k[0]} {k[1]}": v for k, v in outcomes.items()}},
    )
    return [rate, integrity, exhaustion]
