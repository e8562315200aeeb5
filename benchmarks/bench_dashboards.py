"""Benchmark: the managers' pages at the scale of a real chain (issue 10).

Data (bulk-inserted with SQL, consistent by construction): 100,000 skus x 20 locations (2,000,000 stock levels and
quants, one pick bin and one reserve bin per location), a barcode per sku, 10,000,000 ledger rows over 60 days
(each quant's receipt, then moves between the two bins of a location that cancel out, so the books still agree),
5,000 open orders, 1,000 min/max rules. ``--quick`` and SQLite: 10,000 skus and 1,000,000 ledger rows. Before the
pages, the summaries' worker stages catch up as ``wms worker`` would (folding the bulk-made ledger into the last
movements, summing the stock totals); the notes say how long that took. ``WMS_BENCH_KEEP=1`` keeps the database
for the next run (see benchmarks/README.md).

Figure: the server time of each page and of the search, p95 over repeated requests (in-process
``app.test_client()`` as a signed-in manager, no network). Target: under 200 ms each. Ceiling, same run: a bare
indexed read (``GET /bare/level/<id>`` of ``benchmarks/bare_app.py``).

    python benchmarks/run.py --only dashboards [--quick] [--db sqlite|postgres]
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

from sqlalchemy import text

from benchmarks import seed
from benchmarks.bench_scans import _cheap_passwords
from benchmarks.common import Row, Settings, database, log, mark_seeded, percentile, seeded, wms_app

NAME = "dashboards"
DATABASES = ("sqlite", "postgres")
TARGET_S = 0.200
REQUESTS = 25
LOCATIONS = seed.FEED_LOCATIONS
DAYS = 60

_PG = [
    # two bins a location: the pick face every product is in, and a reserve bin moves go through
    """INSERT INTO bin (location_id, code, kind, sequence, created_at, updated_at)
       SELECT l.id, b.code, 'pick', b.seq, now(), now() FROM location l
       CROSS JOIN (VALUES ('P-01', 1), ('R-01', 2)) AS b(code, seq)""",
    """INSERT INTO stock_quant (location_id, bin_id, product_id, lot, status, qty)
       SELECT s.location_id, b.id, s.product_id, '', 'sellable', s.on_hand_sellable
       FROM stock_level s JOIN bin b ON b.location_id = s.location_id AND b.code = 'P-01'
       WHERE s.on_hand_sellable > 0""",
    """INSERT INTO stock_movement (product_id, lot, qty, to_bin_id, to_status, reason, reference, actor, created_at)
       SELECT q.product_id, '', q.qty, q.bin_id, 'sellable', 'receipt', 'receipt:' || q.id, 'bench',
              now() - interval '60 days' + (q.id % 1000) * interval '1 minute'
       FROM stock_quant q""",
    # moves out to the reserve bin and back: the ledger grows, the quants stay as they are
    """INSERT INTO stock_movement (product_id, lot, qty, from_bin_id, from_status, to_bin_id, to_status, reason,
                                   reference, actor, device, created_at)
       SELECT 1 + (g::bigint * 7919) % :products, '', 1,
              CASE WHEN h = 0 THEN p.id ELSE r.id END, 'sellable',
              CASE WHEN h = 0 THEN r.id ELSE p.id END, 'sellable', 'move', 'bench:' || g, 'picker' || (g % 40),
              'TC52-' || (g % 12),
              now() - (g % :days) * interval '1 day' - (g % 600) * interval '1 minute' + h * interval '1 minute'
       FROM generate_series(1, :pairs) g CROSS JOIN (VALUES (0), (1)) AS t(h)
       JOIN bin p ON p.location_id = 1 + g % :locations AND p.code = 'P-01'
       JOIN bin r ON r.location_id = p.location_id AND r.code = 'R-01'""",
    """INSERT INTO "order" (channel_id, external_id, fulfilment, status, customer, request_hash, created_at,
                            updated_at, urgent)
       SELECT (SELECT id FROM channel WHERE code = 'BENCH'), 'B-' || g, 'ship',
              CASE WHEN g % 3 = 0 THEN 'picking' ELSE 'reserved' END, '{}', 'x',
              now() - (g % 48) * interval '1 hour', now(), false
       FROM generate_series(1, 5000) g""",
    """INSERT INTO order_line (order_id, line_no, product_id, qty, picked, shipped, collected, declined)
       SELECT o.id, 1, 1 + (o.id * 31) % :products, 1, 0, 0, 0, 0 FROM "order" o""",
    """INSERT INTO reservation (order_line_id, product_id, location_id, qty, open_qty, needs_transfer, created_at)
       SELECT ol.id, ol.product_id, 1 + ol.id % 4, 1, 1, false, now() FROM order_line ol""",
    """INSERT INTO min_max (location_id, product_id, min_qty, max_qty, updated_at)
       SELECT 5 + g % 16, 1 + (g * 97) % :products, 10, 30, now() FROM generate_series(1, 1000) g
       ON CONFLICT DO NOTHING""",
]

# The same data on SQLite: recursive CTEs count instead of generate_series, strftime modifiers instead of intervals
# (times as SQLAlchemy stores them there: UTC text).
_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now'"
_SQLITE = [
    f"""INSERT INTO bin (location_id, code, kind, sequence, created_at, updated_at)
       SELECT l.id, b.code, 'pick', b.seq, {_NOW}), {_NOW}) FROM location l
       CROSS JOIN (SELECT 'P-01' AS code, 1 AS seq UNION ALL SELECT 'R-01', 2) AS b""",
    _PG[1],
    f"""INSERT INTO stock_movement (product_id, lot, qty, to_bin_id, to_status, reason, reference, actor, created_at)
       SELECT q.product_id, '', q.qty, q.bin_id, 'sellable', 'receipt', 'receipt:' || q.id, 'bench',
              {_NOW}, '-60 days', '+' || (q.id % 1000) || ' minutes')
       FROM stock_quant q""",
    f"""WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :pairs)
       INSERT INTO stock_movement (product_id, lot, qty, from_bin_id, from_status, to_bin_id, to_status, reason,
                                   reference, actor, device, created_at)
       SELECT 1 + (g * 7919) % :products, '', 1,
              CASE WHEN h = 0 THEN p.id ELSE r.id END, 'sellable',
              CASE WHEN h = 0 THEN r.id ELSE p.id END, 'sellable', 'move', 'bench:' || g, 'picker' || (g % 40),
              'TC52-' || (g % 12),
              {_NOW}, '-' || (g % :days) || ' days', '-' || (g % 600) || ' minutes', '+' || h || ' minutes')
       FROM s CROSS JOIN (SELECT 0 AS h UNION ALL SELECT 1) AS t
       JOIN bin p ON p.location_id = 1 + g % :locations AND p.code = 'P-01'
       JOIN bin r ON r.location_id = p.location_id AND r.code = 'R-01'""",
    f"""WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 5000)
       INSERT INTO "order" (channel_id, external_id, fulfilment, status, customer, request_hash, created_at,
                            updated_at, urgent)
       SELECT (SELECT id FROM channel WHERE code = 'BENCH'), 'B-' || g, 'ship',
              CASE WHEN g % 3 = 0 THEN 'picking' ELSE 'reserved' END, '{{}}', 'x',
              {_NOW}, '-' || (g % 48) || ' hours'), {_NOW}), 0
       FROM s""",
    _PG[5],
    f"""INSERT INTO reservation (order_line_id, product_id, location_id, qty, open_qty, needs_transfer, created_at)
       SELECT ol.id, ol.product_id, 1 + ol.id % 4, 1, 1, 0, {_NOW}) FROM order_line ol""",
    # WHERE true: without it SQLite would read ON CONFLICT as the ON of a join
    f"""WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 1000)
       INSERT INTO min_max (location_id, product_id, min_qty, max_qty, updated_at)
       SELECT 5 + g % 16, 1 + (g * 97) % :products, 10, 30, {_NOW}) FROM s WHERE true
       ON CONFLICT DO NOTHING""",
]


def _seed(url: str, products: int, ledger: int) -> dict[str, Any]:
    from wms.auth.service import create_user
    from wms.channels.service import create_channel
    from wms.extensions import db

    app = wms_app(url)
    with app.app_context():
        engine = db.engine
        if seeded(engine, _data_name(products)):
            rows = _count(engine)
            log(f"dashboards: the kept database holds {products:,} skus and {rows:,} ledger rows already")
            engine.dispose()
            return {"app": app, "products": products, "ledger": rows}
        log(f"dashboards: bulk-inserting {products:,} skus x {LOCATIONS} locations")
        seed.bulk_catalogue(engine, products)
        create_channel("BENCH", ship_from=["WH01"])
        with _cheap_passwords():
            create_user("boss", "manager", None, "bench-password")
        db.session.remove()
        pairs = max(0, (ledger - 2 * products * LOCATIONS // 3) // 2)
        started = time.monotonic()
        with engine.begin() as conn:
            postgres = engine.dialect.name == "postgresql"
            if postgres:
                # consistent by construction: skip the per-row foreign-key triggers (needs the superuser it runs as)
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for sql in _PG if postgres else _SQLITE:
                conn.execute(text(sql), {"products": products, "pairs": pairs, "days": DAYS, "locations": LOCATIONS})
            # a barcode a sku, with a valid check digit (a scan is checked before it is looked up)
            conn.execute(
                text("INSERT INTO barcode (product_id, code, gtin) VALUES (:p, :c, :g)"),
                [{"p": i, "c": seed.gtin13(i), "g": "0" + seed.gtin13(i)} for i in range(1, products + 1)],
            )
        rows = _count(engine)
        log(f"dashboards: {rows:,} ledger rows in {time.monotonic() - started:.0f} s")
        seed.settle(engine)
        mark_seeded(engine, _data_name(products))
        engine.dispose()
    return {"app": app, "products": products, "ledger": rows}


def _data_name(products: int) -> str:
    return f"dashboards:{products}"


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM stock_movement")).scalar_one()


def _worker_catches_up(app) -> list[str]:
    """What ``wms worker`` does before a manager looks: the summaries' stages fold the ledger (the stage's own
    batches, timed) and sum the locations' stock. A kept database has little or nothing left to fold."""
    from wms.extensions import db
    from wms.summaries.last_movement import catch_up
    from wms.summaries.stock_totals import refresh

    with app.app_context():
        started, folded, batches, slowest = time.monotonic(), 0, 0, 0.0
        while True:
            t0 = time.monotonic()
            done = catch_up()
            if not done:
                break
            folded, batches, slowest = folded + done, batches + 1, max(slowest, time.monotonic() - t0)
        folding = time.monotonic() - started
        t0 = time.monotonic()
        refresh()
        summing = time.monotonic() - t0
        db.session.remove()
    rate = f", {folded / folding:,.0f} rows/s, slowest batch {_ms(slowest)}" if folded else ""
    notes = [
        f"worker before the pages: {folded:,} ledger rows folded into the last movements in {batches} batches"
        f" ({folding:.1f} s{rate}); the stock totals summed in {_ms(summing)} (every minute by default)"
    ]
    log(f"dashboards: {notes[0]}")
    return notes


def _pages(products: int) -> dict[str, list[str]]:
    rnd = random.Random(7)
    skus = [f"SKU-{rnd.randint(1, products):07d}" for _ in range(REQUESTS)]
    return {
        "search as you type (name)": [f"/stock/search.json?q=product%20{rnd.randint(1, 999)}" for _ in range(REQUESTS)],
        "search by barcode scan": [f"/stock?q={seed.gtin13(rnd.randint(1, products))}" for _ in range(REQUESTS)],
        "product page (stock, channels, card page 1)": [f"/stock/{sku}" for sku in skus],
        "stock over time (chart)": [f"/stock/{sku}/history.json" for sku in skus],
        "stock card filtered by reason": [f"/stock/{sku}?reason=move" for sku in skus],
        "flow": ["/flow"] * REQUESTS,
        "exceptions": ["/exceptions"] * REQUESTS,
        "health of a store": [f"/health?location=ST{5 + i % 16:02d}" for i in range(REQUESTS)],
        "replenishment": ["/replenishment"] * REQUESTS,
        "orders per hour (chart)": ["/charts/orders.json"] * REQUESTS,
        "pick lines per hour (chart)": ["/charts/picks.json"] * REQUESTS,
        "home (at a glance)": ["/"] * REQUESTS,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run(kind: str, settings: Settings) -> list[Row]:
    from benchmarks import bare_app

    small = settings.quick or kind == "sqlite"
    products, ledger = (10_000, 1_000_000) if small else (100_000, 10_000_000)
    rows: list[Row] = []
    with database(kind, "dashboards", keep_as=str(products)) as dbase:
        info = _seed(dbase.url, products, ledger)
        app = info["app"]
        worker = _worker_catches_up(app)
        bare = bare_app.create_app(dbase.url)
        client, bare_client = app.test_client(), bare.test_client()
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        form = {"username": "boss", "password": "bench-password", **({"csrf_token": csrf.group(1)} if csrf else {})}
        if client.post("/login", data=form).status_code != 303:
            raise RuntimeError("the benchmark's manager could not sign in")
        for n in range(50):
            bare_client.get(f"/bare/level/{n + 1}")
        try:
            for name, paths in _pages(products).items():
                client.get(paths[0])  # warm: the first request of a page compiles its templates
                times, bare_times, statuses = [], [], set()
                for path in paths:
                    t0 = time.perf_counter()
                    r = client.get(path)
                    t1 = time.perf_counter()
                    bare_client.get(f"/bare/level/{random.randint(1, 1000)}")
                    t2 = time.perf_counter()
                    times.append(t1 - t0)
                    bare_times.append(t2 - t1)
                    statuses.add(r.status_code)
                p95, bare95 = percentile(times, 0.95), percentile(bare_times, 0.95)
                ok = statuses <= {200, 303}  # 303: a barcode scan opens its product
                rows.append(
                    Row(
                        f"dashboards: {name}, p95",
                        kind,
                        f"{p95 * 1000:.1f} ms",
                        f"{bare95 * 1000:.2f} ms (indexed read)",
                        f"{p95 / bare95:.0f}x" if bare95 else "-",
                        "< 200 ms",
                        ok and p95 < TARGET_S,
                        [f"{len(paths)} requests, statuses {sorted(statuses)}, p50 {_ms(percentile(times, 0.5))}"],
                    )
                )
                log(f"dashboards/{kind}: {name}: p95 {p95 * 1000:.1f} ms")
        finally:
            from wms.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            with bare.app_context():
                bare_app.db.session.remove()
                bare_app.db.engine.dispose()
    rows[0].notes.append(
        f"{info['products']:,} skus x {LOCATIONS} locations, {info['ledger']:,} ledger rows over {DAYS} days,"
        " 5,000 open orders, 1,000 min/max rules"
    )
    rows[0].notes.extend(worker)
    return rows
