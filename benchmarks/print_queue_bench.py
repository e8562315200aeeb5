"""Print-queue throughput to the fake ZPL printer, next to a ceiling measured in the same run.

    python benchmarks/print_queue_bench.py [--jobs 200] [--printers 1] [--db sqlite|postgres] [--quick]

- WMS: ``print_label`` for every job (one transaction each: the queue), then ``print_due`` rounds until every job is
  printed (claim, per job: render, commit ``sending_at``, ``~HS`` + send, commit the outcome). Jobs/s from the first
  queued job to the last printed one.
- Ceiling: the same ZPL bytes (rendered beforehand) sent with ``open_printer(url).send`` (connect, ``~HS``, job,
  shutdown) one after the other to the same fake printer: what printing costs with no queue at all.

SQLite: a file in a temp folder. PostgreSQL: a fresh database on ``WMS_BENCH_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1/postgres``), dropped at the end. Prints absolute figures and the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

import labels  # noqa: E402
from devices.printers import open_printer  # noqa: E402
from devices.simulators.fake_printer import FakePrinter  # noqa: E402

PG_ADMIN = os.environ.get("WMS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")


def bin_data(n: int) -> dict[str, str]:
    return {"code": f"A-{n // 100:02d}-{n % 100:02d}", "location": "WH1"}


def run_wms(url: str, printers: list[FakePrinter], jobs: int) -> float:
    from flask_migrate import upgrade

    from wms import create_app
    from wms.extensions import db
    from wms.locations.service import upsert_location
    from wms.printing.service import add_printer, print_label
    from wms.printing.worker import print_due

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        upsert_location("WH1", {"name": "WH1", "kind": "warehouse", "ships": True})
        for number, printer in enumerate(printers):
            add_printer(f"Z{number}", printer.url, "WH1")
        start = time.perf_counter()
        for n in range(jobs):
            print_label(f"Z{n % len(printers)}", "bin", bin_data(n), reference=f"bin:{n}")
        queued = time.perf_counter()
        while print_due():
            pass
        done = time.perf_counter()
        db.session.remove()
        db.engine.dispose()
    printed = sum(len(p.formats) for p in printers)
    if printed != jobs:
        raise SystemExit(f"printed {printed} of {jobs} jobs")
    print(f"  queueing {jobs} jobs: {queued - start:.3f} s; printing: {done - queued:.3f} s", file=sys.stderr)
    return jobs / (done - start)


def run_ceiling(printers: list[FakePrinter], jobs: int) -> float:
    payloads = [labels.render("bin", bin_data(n), "zpl") for n in range(jobs)]
    devices = [open_printer(p.url) for p in printers]
    start = time.perf_counter()
    for n, payload in enumerate(payloads):
        devices[n % len(devices)].send(payload)
    return jobs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--printers", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="50 jobs")
    args = parser.parse_args()
    jobs = 50 if args.quick else args.jobs

    printers = [FakePrinter().start() for _ in range(args.printers)]
    engine = None
    name = f"wms_bench_print_{uuid.uuid4().hex[:8]}"
    try:
        if args.db == "postgres":
            engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
            folder = None
        else:
            folder = tempfile.TemporaryDirectory()
            url = f"sqlite:///{folder.name}/bench.sqlite"
        ceiling = run_ceiling(printers, jobs)
        for p in printers:
            p.clear()
        wms = run_wms(url, printers, jobs)
        for p in printers:
            p.clear()
        ceiling = max(ceiling, run_ceiling(printers, jobs))  # best of two, before and after
        print(
            f"print queue ({args.db}, {args.printers} printer(s), {jobs} jobs)   {wms:8.1f} jobs/s   "
            f"{wms / ceiling:5.2f} x ceiling (raw sends: {ceiling:.1f} jobs/s)"
        )
    finally:
        for p in printers:
            p.stop()
        if engine is not None:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            engine.dispose()
        elif folder is not None:
            folder.cleanup()


if __name__ == "__main__":
    main()
