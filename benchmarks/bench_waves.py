"""Benchmark: wave building (``wms.picking.rules.build_waves``) for 5,000 due order lines, no database.

Figure: the median time of ``build_waves`` over 5,000 lines (1,500 orders of 1-6 lines, one location, 4 zones,
a mix of urgent, waiting-store and cut-off orders), clusters of 8 orders and at most 40 lines per task.
Ceiling: ``sorted()`` of the same 5,000 lines as plain tuples by (location, zone, walk sequence), measured in the
same run; the ratio says how far the rule is from one bare sort of its input. Target: under 1 s (issue 8).

And the release a manager waits for, on SQLite and PostgreSQL: ``wms.picking.service.release_wave`` of 5,000 due
order lines (reserved through the order service), timed once: locks, due lines, free units in bins, the rule,
5,000 task lines, orders to ``picking``. Ceiling: one SELECT of the reservation rows and one INSERT of as many rows
into a scratch table, on the same database in the same run.

    python benchmarks/bench_waves.py            # prints the figure
    python benchmarks/run.py --only waves       # the same, as a row of the table
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Row, Settings, database, log, wms_app  # noqa: E402
from wms.picking.rules import DueLine, WaveOptions, build_waves  # noqa: E402

NAME = "waves"
DATABASES = ("sqlite", "postgres")  # pure: runs once whatever the database (see run())
LINES = 5_000
TARGET_S = 1.0
ROUNDS = 7
#: products of the database release figure, spread over 500 bins in 4 zones
PRODUCTS = 2_000


def make_lines(count: int = LINES, seed: int = 8) -> list[DueLine]:
    rnd = random.Random(seed)
    t0 = datetime(2026, 12, 1, 6, 0)
    lines: list[DueLine] = []
    order_id = 0
    while len(lines) < count:
        order_id += 1
        kind = rnd.random()
        created = t0 + timedelta(minutes=rnd.randrange(600))
        ship_by = t0 + timedelta(hours=rnd.randrange(4, 30)) if kind < 0.6 else None
        pickup = 0.6 <= kind < 0.8
        for _ in range(min(rnd.randint(1, 6), count - len(lines))):
            zone = rnd.choice("ABCD")
            aisle, level = rnd.randrange(1, 40), rnd.randrange(1, 5)
            lines.append(
                DueLine(
                    order_id=order_id,
                    line_id=len(lines) + 1,
                    product_id=rnd.randrange(1, 2_000),
                    qty=rnd.randint(1, 3),
                    location_id=1,
                    bin_code=f"{zone}-{aisle:02}-{level}",
                    walk_seq="ABCD".index(zone) * 1000 + aisle * 10 + level,
                    order_created_at=created,
                    fulfilment="pickup" if pickup else "ship",
                    store_waiting=pickup and rnd.random() < 0.5,
                    ship_by=ship_by,
                    urgent=kind > 0.97,
                )
            )
    return lines


def _median_time(fn, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure() -> dict[str, float]:
    lines = make_lines()
    options = WaveOptions(max_orders=8, max_lines=40)
    tuples = [(d.location_id, d.zone, d.walk_seq, d.bin_code, d.order_id, d.line_id) for d in lines]
    build_waves(lines, options)  # warm
    figure = _median_time(lambda: build_waves(lines, options))
    ceiling = _median_time(lambda: sorted(tuples))
    tasks = build_waves(lines, options)
    return {"figure_s": figure, "ceiling_s": ceiling, "tasks": len(tasks), "orders": len({d.order_id for d in lines})}


# --- the release on a database: what a manager waits for ------------------------------------------------


def _seed_due(url: str, lines: int) -> Any:
    """WH1 with 4 zones of 125 pick bins, 2,000 products spread over them with stock, and reserved ship orders of
    1-6 lines (1-3 units) until ``lines`` order lines are due; placed through the order service."""
    from sqlalchemy import select

    from benchmarks import seed
    from wms.channels.service import create_channel
    from wms.extensions import db
    from wms.locations.service import upsert_location
    from wms.orders.service import place_order
    from wms.stock.bins import upsert_bin
    from wms.stock.service import receive

    rnd = random.Random(9)
    app = wms_app(url)
    with app.app_context():
        upsert_location("WH1", {"name": "WH1", "kind": "warehouse", "ships": True, "pickup": False, "priority": 1})
        bins = [f"{zone}-{aisle:02}-{level}" for zone in "ABCD" for aisle in range(1, 26) for level in range(1, 6)]
        for seq, code in enumerate(bins, start=1):
            upsert_bin("WH1", code, {"kind": "pick", "sequence": seq})
        skus = [f"WV-{i:05d}" for i in range(PRODUCTS)]
        seed.make_products(skus, first_gtin=60_000)
        for i, sku in enumerate(skus):
            receive("WH1", bins[i % len(bins)], f"WV-SEED-{i}", [{"sku": sku, "qty": 40}], actor="bench")
        channel, _ = create_channel("WAVES", ship_from=["WH1"])
        placed = n = 0
        while placed < lines:
            n += 1
            count = min(rnd.randint(1, 6), lines - placed)
            chosen = rnd.sample(skus, count)
            body = {
                "external_id": f"WV-{n:06d}",
                "fulfilment": "ship",
                "customer": {"name": "Anna Nowak", "email": "anna@example.com"},
                "ship_to": {"line1": "ul. Długa 1", "city": "Kraków", "postcode": "31-001", "country": "PL"},
                "lines": [{"sku": sku, "qty": rnd.randint(1, 3)} for sku in chosen],
            }
            place_order(channel.id, body, actor="bench")
            placed += count
        db.session.execute(select(1))
        db.session.remove()
    return app


def measure_release(kind: str) -> dict[str, Any]:
    """Release every due line (``LINES``) as one wave on a ``kind`` database, timed once (a release uses its due
    lines up). Ceiling, same database, same run: one SELECT of the due reservation rows joined to their order lines
    and one INSERT of as many task-line-sized rows into a scratch table: the least any release reads and writes."""
    from sqlalchemy import text

    from wms.extensions import db
    from wms.picking.service import release_wave

    with database(kind, "waves") as dbase:
        log(f"waves/{kind}: placing orders until {LINES:,} order lines are due")
        app = _seed_due(dbase.url, LINES)
        with app.app_context():
            t0 = time.perf_counter()
            wave = release_wave("WH1", max_orders=8, actor="bench")
            figure = time.perf_counter() - t0
            db.session.remove()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("CREATE TABLE bench_wave_line (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)")
            t0 = time.perf_counter()
            with db.engine.begin() as conn:
                rows = conn.execute(
                    text(
                        "SELECT r.id, r.product_id, r.open_qty, l.order_id FROM reservation r "
                        "JOIN order_line l ON l.id = r.order_line_id"
                    )
                ).all()
                conn.execute(
                    text("INSERT INTO bench_wave_line (id, a, b) VALUES (:id, :a, :b)"),
                    [{"id": i, "a": row[1], "b": row[2]} for i, row in enumerate(rows, start=1)],
                )
            ceiling = time.perf_counter() - t0
            db.session.remove()
            db.engine.dispose()
    return {"figure_s": figure, "ceiling_s": ceiling, "orders": len(wave["orders"]), "tasks": len(wave["tasks"])}


def run(kind: str, settings: Settings) -> list[Row]:
    release = measure_release(kind)
    rows = [
        Row(
            f"{NAME}: release_wave, {LINES:,} due lines (database)",
            kind,
            f"{release['figure_s'] * 1000:,.0f} ms",
            ceiling=f"{release['ceiling_s'] * 1000:,.1f} ms (read the lines + insert as many rows)",
            ratio=f"{release['figure_s'] / release['ceiling_s']:,.1f}x",
            target=f"< {TARGET_S:.0f} s",
            passed=release["figure_s"] < TARGET_S,
            notes=[
                f"{release['orders']:,} orders into {release['tasks']:,} pick tasks (8 orders a task), in one release"
            ],
            data=release,
        )
    ]
    if kind != "sqlite":
        return rows
    m = measure()
    return rows + [
        Row(
            f"{NAME}: build_waves, {LINES:,} lines",
            "none",
            f"{m['figure_s'] * 1000:,.1f} ms",
            ceiling=f"{m['ceiling_s'] * 1000:,.2f} ms (sorted tuples)",
            ratio=f"{m['figure_s'] / m['ceiling_s']:,.0f}x",
            target=f"< {TARGET_S:.0f} s",
            passed=m["figure_s"] < TARGET_S,
            notes=[f"{m['orders']:,} orders into {m['tasks']:,} tasks (8 orders, 40 lines a task at most)"],
            data=m,
        )
    ]


def main() -> int:
    m = measure()
    verdict = "PASS" if m["figure_s"] < TARGET_S else "FAIL"
    print(
        f"build_waves, {LINES:,} lines ({m['orders']:,} orders -> {m['tasks']:,} tasks): "
        f"{m['figure_s'] * 1000:,.1f} ms (median of {ROUNDS}); ceiling sorted() of the same lines as tuples: "
        f"{m['ceiling_s'] * 1000:,.2f} ms; ratio {m['figure_s'] / m['ceiling_s']:,.0f}x; "
        f"target < {TARGET_S:.0f} s: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
