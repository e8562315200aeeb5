"""Benchmark: wave building (``wms.picking.rules.build_waves``) for 5,000 due order lines, no database.

Figure: the median time of ``build_waves`` over 5,000 lines (1,500 orders of 1-6 lines, one location, 4 zones,
a mix of urgent, waiting-store and cut-off orders), clusters of 8 orders and at most 40 lines per task.
Ceiling: ``sorted()`` of the same 5,000 lines as plain tuples by (location, zone, walk sequence), measured in the
same run; the ratio says how far the rule is from one bare sort of its input. Target: under 1 s (issue 8).

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

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Row, Settings  # noqa: E402
from wms.picking.rules import DueLine, WaveOptions, build_waves  # noqa: E402

NAME = "waves"
DATABASES = ("sqlite", "postgres")  # pure: runs once whatever the database (see run())
LINES = 5_000
TARGET_S = 1.0
ROUNDS = 7


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


def run(kind: str, settings: Settings) -> list[Row]:
    if kind != "sqlite":
        return [Row(NAME, kind, "skipped: pure Python, runs once (the row above)")]
    m = measure()
    return [
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
