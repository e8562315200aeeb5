"""``wms worker`` as real processes: killed in the middle of a print, and two workers side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devices.simulators.fake_printer import FakePrinter
from tests.integration.printing.conftest import make_site, url_of
from wms.extensions import db
from wms.printing.service import add_printer, get_job, print_label

ROOT = Path(__file__).resolve().parents[3]


class HangingPrinter(FakePrinter):
    """A fake printer whose ``hang_on``-th ``~HS`` gets no answer until released (the printer or the network
    stalls right then)."""

    def __init__(self, hang_on: int) -> None:
        super().__init__()
        self.hang_on = hang_on
        self.hanging = threading.Event()
        self.release = threading.Event()
        self._count = 0
        self._count_lock = threading.Lock()

    def host_status(self) -> bytes:
        with self._count_lock:
            self._count += 1
            number = self._count
        if number == self.hang_on:
            self.hanging.set()
            self.release.wait(10)
        return super().host_status()


def start_worker(app) -> subprocess.Popen:
    env = {
        **os.environ,
        "WMS_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "WMS_SECRET_KEY": "test-secret",
        "WMS_PRINT_LEASE_MARGIN": "0.3",
        "WMS_PRINT_RETRY_BASE": "0.05",
        "WMS_PRINT_RETRY_MAX": "0.2",
    }
    env.pop("WMS_TEST_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "wms", "worker", "--poll-interval", "0.05"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def status_of(job_id: int) -> str:
    db.session.rollback()
    return get_job(job_id).status


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("hang_on", [1, 2], ids=["killed-before-sending", "killed-after-sending_at"])
def test_worker_killed_in_the_middle(any_app, hang_on):
    """Killed while asking the printer's status (before ``sending_at``): the next worker prints the label once.
    Killed while sending (after ``sending_at``): the job ends ``unknown`` and is never sent again by itself."""
    make_site()
    printer = HangingPrinter(hang_on).start()
    workers = []
    try:
        add_printer("Z1", url_of(printer, 0.3), "WH1")
        job = print_label("Z1", "bin", {"code": "A-01-01", "location": "WH1"})
        first = start_worker(any_app)
        workers.append(first)
        assert printer.hanging.wait(20), first.stderr.read1().decode() if first.poll() is not None else "no ~HS"
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        assert status_of(job.id) == "sending"
        assert (get_job(job.id).sending_at is not None) is (hang_on == 2)
        printer.release.set()
        workers.append(start_worker(any_app))
        if hang_on == 1:
            assert wait_for(lambda: status_of(job.id) == "printed"), status_of(job.id)
            assert len(printer.formats) == 1
        else:
            assert wait_for(lambda: status_of(job.id) == "unknown"), status_of(job.id)
            time.sleep(0.5)  # a few more rounds of the second worker
            assert status_of(job.id) == "unknown" and printer.formats == [] and printer.pending == []
    finally:
        printer.release.set()
        for worker in workers:
            stop(worker)
        printer.stop()


def test_two_workers_never_print_a_job_twice(pg_app):
    make_site()
    printers = [FakePrinter().start() for _ in range(3)]
    workers = []
    try:
        for number, printer in enumerate(printers):
            add_printer(f"Z{number}", url_of(printer), "WH1")
        jobs = [print_label(f"Z{n % 3}", "bin", {"code": f"B-{n:03d}", "location": "WH1"}).id for n in range(60)]
        workers = [start_worker(pg_app), start_worker(pg_app)]
        assert wait_for(lambda: sum(len(p.formats) for p in printers) >= 60, 30)
        time.sleep(0.3)
        labels = [fmt.zpl for p in printers for fmt in p.formats]
        assert len(labels) == 60
        assert len({next(c for c in [f"B-{n:03d}" for n in range(60)] if c in zpl) for zpl in labels}) == 60
        assert wait_for(lambda: all(status_of(j) == "printed" for j in jobs), 10)
    finally:
        for worker in workers:
            stop(worker)
        for printer in printers:
            printer.stop()


def test_print_rounds_side_by_side_in_threads(pg_app):
    """The same on PostgreSQL inside one process: several threads running print rounds at once."""
    from wms.printing.worker import print_due

    make_site()
    printer = FakePrinter().start()
    try:
        add_printer("Z1", url_of(printer), "WH1")
        for n in range(30):
            print_label("Z1", "bin", {"code": f"C-{n:03d}", "location": "WH1"})
        barrier = threading.Barrier(4)

        def run():
            with pg_app.app_context():
                barrier.wait()
                try:
                    while print_due(limit=3):
                        pass
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        codes = sorted(fmt.zpl.split("C-")[1][:3] for fmt in printer.formats)
        assert codes == [f"{n:03d}" for n in range(30)]
    finally:
        printer.stop()
