"""Run the benchmarks and print one table: benchmark, db, figure, ceiling, ratio, target, PASS/FAIL.

    python benchmarks/run.py [--only NAME[,NAME]] [--db sqlite|postgres|both] [--quick] [--strict]

Targets are reported, not asserted: the exit status is 0 unless a benchmark crashed (2), or, with ``--strict``,
a target was missed (1). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository root importable (for `benchmarks` and `wms`).
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (  # noqa: E402
    bench_availability,
    bench_counter,
    bench_dashboards,
    bench_feed,
    bench_long_requests,
    bench_orders,
    bench_scans,
    bench_waves,
)
from benchmarks.common import Row, Settings  # noqa: E402

BENCHMARKS = {
    module.NAME: module
    for module in (
        bench_availability,
        bench_orders,
        bench_feed,
        bench_long_requests,
        bench_waves,
        bench_scans,
        bench_counter,
        bench_dashboards,
    )
}
COLUMNS = ("benchmark", "db", "figure", "ceiling", "ratio", "target", "result")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[], help=f"benchmark(s) to run: {', '.join(BENCHMARKS)}")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="smaller data and shorter runs (a smoke run)")
    parser.add_argument("--duration", type=int, help="seconds of each measured load run (default 15, quick 8)")
    parser.add_argument("--rounds", type=int, help="bare/WMS alternations per load benchmark (default 3, quick 1)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", type=Path, help="also write the rows to this file as JSON")
    args = parser.parse_args(argv)
    names = [n.strip() for value in args.only for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    args.names = names or list(BENCHMARKS)
    return args


def print_table(rows: list[Row]) -> None:
    cells = [COLUMNS] + [(r.benchmark, r.db, r.figure, r.ceiling, r.ratio, r.target, r.verdict) for r in rows]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(COLUMNS))]
    line = "  ".join("-" * w for w in widths)
    print()
    for i, row in enumerate(cells):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print(line)
    notes = [(r, n) for r in rows for n in r.notes]
    if notes:
        print("\nnotes:")
        for r, n in notes:
            print(f"  [{r.benchmark} / {r.db}] {n}")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    settings = Settings.make(args.quick, args.duration, args.rounds)
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    rows: list[Row] = []
    crashed = False
    started = time.monotonic()
    load_before = os.getloadavg()
    for name in args.names:
        module = BENCHMARKS[name]
        for kind in kinds:
            if kind not in module.DATABASES:
                rows.append(Row(name, kind, f"skipped: runs on {', '.join(module.DATABASES)} only"))
                continue
            print(f"== {name} on {kind}{' (quick)' if settings.quick else ''}", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            try:
                rows += module.run(kind, settings)
            except Exception as exc:  # noqa: BLE001 - report it, run the others, exit 2 at the end
                crashed = True
                traceback.print_exc()
                message = f"{type(exc).__name__}: {str(exc)[:500]}"
                rows.append(Row(name, kind, "CRASHED (see notes)", notes=[message]))
            print(f"== {name} on {kind}: {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    print_table(rows)
    load_after = os.getloadavg()
    print(
        f"\n{time.monotonic() - started:.0f} s in all{'; quick run (smaller data)' if settings.quick else ''}; "
        f"machine load average (1 min) {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end "
        f"({os.cpu_count()} cores): other work on the machine moves the absolute figures"
    )
    if args.json:
        fields = ("benchmark", "db", "figure", "ceiling", "ratio", "target", "notes", "data")
        dump = [{f: getattr(r, f) for f in fields} | {"result": r.verdict} for r in rows]
        args.json.write_text(json.dumps(dump, indent=2, default=str))
    if crashed:
        return 2
    if args.strict and any(r.passed is False for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
