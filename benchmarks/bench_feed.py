"""Benchmark 3: the full availability feed and the incremental change read, on a large catalogue.

Data: 100,000 skus x 20 locations = 2,000,000 stock levels (``--quick``: 10,000 skus), bulk-inserted with SQL,
plus one change-log row per level; a channel that ships from 6 of the locations, with a buffer of 2.

Full feed: ``GET /api/v1/availability/feed`` (NDJSON) and ``?format=csv`` downloaded over loopback from a gunicorn
server with ONE worker (gthread, 4 threads). Figure: skus per second, from sending the request to the last byte.
Ceiling: the same rows (sku, location, available) read out of the database in the same run with nothing else
(PostgreSQL: ``COPY (SELECT ...) TO STDOUT`` through psycopg; SQLite: the SELECT through sqlite3).
Ceiling, NDJSON and CSV are measured in turn, 3 rounds (``--quick``: 1), and the medians reported. Target:
>= 50,000 skus/s. Memory: the worker's RSS is read before each download and polled during it (/proc/<pid>/status
VmRSS every 5 ms, and VmHWM); target: the largest peak growth < 100 MB.

Change read: 1,000 stock changes on distinct skus are made through ``wms.stock.service.bump_on_hand`` (which
records them in the change log) after a cursor at the end of the log; then
``GET /api/v1/availability/changes?after=<cursor>&limit=1000`` must return those 1,000 skus. Figure: median of 5
reads; ceiling: the changed skus' stock rows read by the same log index with bare SQL. Target: < 0.5 s.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from http.client import HTTPConnection

import sqlalchemy as sa
from sqlalchemy import select

from benchmarks import seed
from benchmarks.common import (
    HOST,
    MB,
    WMS_APP,
    Row,
    Server,
    Settings,
    database,
    http_json,
    log,
    median,
    proc_memory,
    wms_app,
)

NAME = "feed"
DATABASES = ("postgres", "sqlite")
RATE_TARGET = 50_000
MEMORY_TARGET = 100 * MB
CHANGES = 1000
CHANGES_TARGET = 0.5
SHIP_FROM = ["WH01", "WH02", "WH03", "WH04", "ST05", "ST06"]
BUFFER = 2

CEILING_SQL = (
    "SELECT p.sku, sl.location_id, sl.on_hand_sellable - sl.reserved "
    "FROM product p JOIN stock_level sl ON sl.product_id = p.id"
)
#: the changed skus' stock rows by the log index: PostgreSQL by (txid, seq); SQLite by seq alone (txid is always 0
#: there, and SQLite searches a (txid, seq) row-value range on txid only)
_CHANGED_ROWS = """SELECT c.product_id, sl.location_id, sl.on_hand_sellable - sl.reserved
FROM (SELECT DISTINCT product_id FROM (
        SELECT product_id FROM stock_change WHERE {after} ORDER BY {order} LIMIT {n}
     ) x) c
JOIN stock_level sl ON sl.product_id = c.product_id"""


# --- data ---------------------------------------------------------------------------------------------------


def _seed(url: str, products: int) -> str:
    app = wms_app(url)
    with app.app_context():
        from wms.extensions import db

        seed.bulk_catalogue(db.engine, products)
        token = seed.channel("FEED", SHIP_FROM, BUFFER)
        db.session.remove()
        db.engine.dispose()
    return token


def _make_changes(url: str, count: int) -> tuple[str, set[str], tuple[int, int]]:
    """``count`` stock changes on distinct skus, spread over the catalogue and the locations, in units of work of
    100; returns the cursor before them, their skus, and the log position before them."""
    app = wms_app(url)
    with app.app_context():
        from wms.catalog.models import Product
        from wms.channels.availability import encode_cursor, log_end
        from wms.extensions import db
        from wms.locations.models import Location
        from wms.stock.service import bump_on_hand
        from wms.uow import unit_of_work

        with db.engine.connect() as conn:
            position = log_end(conn)
        products = db.session.execute(select(Product.id, Product.sku).order_by(Product.id)).all()
        locations = list(db.session.execute(select(Location.id).order_by(Location.id)).scalars())
        db.session.remove()
        step = max(1, len(products) // count)
        chosen = products[::step][:count]
        for start in range(0, len(chosen), 100):
            with unit_of_work() as session:
                for product_id, _sku in chosen[start : start + 100]:
                    bump_on_hand(session, product_id, locations[product_id % len(locations)], 1)
        db.session.remove()
        db.engine.dispose()
    return encode_cursor(position), {sku for _id, sku in chosen}, position


def _driver_url(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> str:
    return sa.make_url(url).database


def _ceiling_feed(kind: str, url: str) -> tuple[float, int]:
    """Seconds to read every (sku, location, available) row out of the database with nothing else, and the bytes
    (PostgreSQL) or rows (SQLite) read."""
    amount = 0
    if kind == "postgres":
        import psycopg

        with psycopg.connect(_driver_url(url)) as conn:
            started = time.perf_counter()
            with conn.cursor().copy(f"COPY ({CEILING_SQL}) TO STDOUT") as copy:
                for data in copy:
                    amount += len(data)
            return time.perf_counter() - started, amount
    conn = sqlite3.connect(_sqlite_path(url))
    try:
        started = time.perf_counter()
        cursor = conn.execute(CEILING_SQL)
        while rows := cursor.fetchmany(5000):
            amount += len(rows)
        return time.perf_counter() - started, amount
    finally:
        conn.close()


def _ceiling_changes(kind: str, url: str, position: tuple[int, int]) -> tuple[float, int]:
    """Median seconds of reading the changed skus' stock rows by the log index with bare SQL, and the rows."""
    txid, seq = int(position[0]), int(position[1])
    if kind == "postgres":
        sql = _CHANGED_ROWS.format(after=f"(txid, seq) > ({txid}, {seq})", order="txid, seq", n=CHANGES)
    else:
        sql = _CHANGED_ROWS.format(after=f"seq > {seq}", order="seq", n=CHANGES)
    times, rows = [], 0
    if kind == "postgres":
        import psycopg

        with psycopg.connect(_driver_url(url), autocommit=True) as conn:
            for _ in range(5):
                started = time.perf_counter()
                rows = len(conn.execute(sql).fetchall())
                times.append(time.perf_counter() - started)
    else:
        conn = sqlite3.connect(_sqlite_path(url))
        try:
            for _ in range(5):
                started = time.perf_counter()
                rows = len(conn.execute(sql).fetchall())
                times.append(time.perf_counter() - started)
        finally:
            conn.close()
    return median(times), rows


# --- the client ---------------------------------------------------------------------------------------------


def download(port: int, path: str, token: str, pid: int) -> dict:
    """Download a streamed answer, counting lines and bytes, while polling the worker's memory every 5 ms."""
    stop = threading.Event()
    peak = [0]

    def sample() -> None:
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], proc_memory(pid)["VmRSS"])
            except OSError:
                return
            stop.wait(0.005)

    before = proc_memory(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    deadline = started + 600
    conn = HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {response.read()[:300]!r}")
        size = lines = 0
        head = b""
        while chunk := response.read(1 << 20):
            size += len(chunk)
            lines += chunk.count(b"\n")
            if len(head) < 4096:
                head += chunk[:4096]
            if time.perf_counter() > deadline:
                raise RuntimeError(f"GET {path} still streaming after 600 s")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
        stop.set()
        sampler.join(5)
    after = proc_memory(pid)
    hwm_growth = after["VmHWM"] - before["VmRSS"] if after["VmHWM"] > before["VmHWM"] else 0
    return {
        "seconds": elapsed,
        "bytes": size,
        "lines": lines,
        "head": head,
        "rss_before": before["VmRSS"],
        "rss_after": after["VmRSS"],
        "peak_growth": max(peak[0] - before["VmRSS"], hwm_growth, 0),
        "content_type": response.getheader("Content-Type"),
    }


def _check_feed(fmt: str, result: dict, products: int, first_item: dict) -> list[str]:
    problems = []
    lines = result["head"].split(b"\n")
    if fmt == "ndjson":
        if result["lines"] != products:
            problems.append(f"ndjson: {result['lines']} lines for {products} products")
        if json.loads(lines[0]) != first_item:
            problems.append(f"ndjson: first line {lines[0][:200]!r} differs from GET /availability {first_item}")
    else:
        if result["lines"] != products + 1:
            problems.append(f"csv: {result['lines']} lines for {products} products and a header")
        if not lines[0].startswith(b"sku,available"):
            problems.append(f"csv: header {lines[0]!r}")
        sku, available = lines[1].split(b",")[:2]
        if sku.decode() != first_item["sku"] or int(available) != first_item["available"]:
            problems.append(f"csv: first row {lines[1][:200]!r} differs from GET /availability {first_item}")
    return problems


# --- the benchmark ------------------------------------------------------------------------------------------


def run(kind: str, settings: Settings) -> list[Row]:
    products = 10_000 if settings.quick else 100_000
    repeats = settings.rounds
    rows: list[Row] = []
    ceiling_name = "COPY TO STDOUT" if kind == "postgres" else "SELECT via sqlite3"
    with database(kind, "feed") as db:
        log(f"feed/{kind}: bulk-inserting {products:,} skus x {seed.FEED_LOCATIONS} locations")
        started = time.monotonic()
        token = _seed(db.url, products)
        log(f"seeded in {time.monotonic() - started:.0f} s")
        _ceiling_feed(kind, db.url)  # warm-up: the data in the caches, for the ceiling and the feed alike
        ceilings: list[float] = []
        results: dict[str, list[dict]] = {"ndjson": [], "csv": []}
        problems: dict[str, list[str]] = {"ndjson": [], "csv": []}
        with Server(WMS_APP, db.url, workers=1) as server:
            [pid] = server.worker_pids()
            status, body = http_json(server.port, "/api/v1/availability?sku=SKU-0000001", token)
            if status != 200:
                raise RuntimeError(f"availability answered {status}: {body}")
            first_item = body["items"][0]
            # Rounds of ceiling, NDJSON, CSV: a change in the machine's other load falls on all three.
            for round_no in range(1, repeats + 1):
                seconds, amount = _ceiling_feed(kind, db.url)
                ceilings.append(seconds)
                unit = "bytes" if kind == "postgres" else "rows"
                log(f"round {round_no} ceiling {ceiling_name}: {seconds:.2f} s ({amount:,} {unit})")
                for fmt in ("ndjson", "csv"):
                    path = "/api/v1/availability/feed" + ("?format=csv" if fmt == "csv" else "")
                    result = download(server.port, path, token, pid)
                    results[fmt].append(result)
                    problems[fmt] += _check_feed(fmt, result, products, first_item)
                    log(
                        f"round {round_no} {fmt}: {result['seconds']:.2f} s, {result['bytes'] / MB:.1f} MB, "
                        f"{result['lines']:,} lines, RSS {result['rss_before'] / MB:.1f} -> "
                        f"{result['rss_after'] / MB:.1f} MB, peak +{result['peak_growth'] / MB:.1f} MB"
                    )
            ceiling_seconds = median(ceilings)
            ceiling_rate = products / ceiling_seconds
            for fmt in ("ndjson", "csv"):
                seconds = median([r["seconds"] for r in results[fmt]])
                rate = products / seconds
                growth = max(r["peak_growth"] for r in results[fmt])
                size = results[fmt][0]["bytes"]
                rows.append(
                    Row(
                        f"full feed {fmt}: skus/s",
                        kind,
                        f"{rate:,.0f} skus/s ({seconds:.2f} s)",
                        f"{ceiling_rate:,.0f} skus/s ({ceiling_name})",
                        f"{rate / ceiling_rate:.2f}x",
                        f">= {RATE_TARGET:,} skus/s",
                        rate >= RATE_TARGET and not problems[fmt],
                        [
                            f"{products:,} skus x {seed.FEED_LOCATIONS} locations, {size / MB:.1f} MB sent; median of "
                            f"{repeats}: "
                            + ", ".join(f"{r['seconds']:.2f}" for r in results[fmt])
                            + " s; ceiling "
                            + ", ".join(f"{c:.2f}" for c in ceilings)
                            + " s",
                            *problems[fmt],
                        ],
                        {"seconds": seconds, "ceiling_seconds": ceiling_seconds, "bytes": size},
                    )
                )
                rows.append(
                    Row(
                        f"full feed {fmt}: worker memory",
                        kind,
                        f"+{growth / MB:.1f} MB peak",
                        f"{size / MB:.0f} MB streamed",
                        f"{growth / size:.2f}x",
                        f"< {MEMORY_TARGET // MB} MB",
                        growth < MEMORY_TARGET,
                        [
                            f"largest peak growth of {repeats} download(s) over the worker's RSS before each; RSS "
                            + ", ".join(f"{r['rss_before'] / MB:.0f}->{r['rss_after'] / MB:.0f}" for r in results[fmt])
                            + " MB"
                        ],
                        {"peak_growth": growth, "rss_before": results[fmt][0]["rss_before"]},
                    )
                )
            log(f"changes: recording {CHANGES} stock changes on distinct skus")
            cursor, skus, position = _make_changes(db.url, CHANGES)
            times, problems = [], []
            for _ in range(5):
                started = time.perf_counter()
                status, page = http_json(
                    server.port, f"/api/v1/availability/changes?after={cursor}&limit={CHANGES}", token
                )
                times.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"changes answered {status}: {page}")
                got = {item["sku"] for item in page["changes"]}
                if got != skus or len(page["changes"]) != CHANGES:
                    problems.append(f"changes: {len(page['changes'])} items, {len(got ^ skus)} skus differ")
                    break
            ceiling_changes, ceiling_rows = _ceiling_changes(kind, db.url, position)
            figure = median(times)
            log(f"changes: {[round(t * 1000) for t in times]} ms; bare SQL {ceiling_changes * 1000:.1f} ms")
            rows.append(
                Row(
                    f"changes: {CHANGES:,} skus after a cursor",
                    kind,
                    f"{figure * 1000:,.0f} ms",
                    f"{ceiling_changes * 1000:,.1f} ms (bare SQL)",
                    f"{figure / ceiling_changes:.1f}x",
                    f"< {CHANGES_TARGET * 1000:.0f} ms",
                    figure < CHANGES_TARGET and not problems,
                    [
                        f"median of {len(times)} reads (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f} ms) "
                        f"of {CHANGES} changes after a log of {products * seed.FEED_LOCATIONS:,} rows; "
                        f"bare SQL reads {ceiling_rows:,} stock rows",
                        *problems,
                        *server.errors_in_log(),
                    ],
                    {"seconds": figure, "ceiling_seconds": ceiling_changes},
                )
            )
    return rows
