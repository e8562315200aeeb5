"""Speed of the devices library, as ratios to bare ceilings measured in the same run.

1. ``parse_scan`` over a realistic mix of scans, against a bare ``str.isdigit()`` + ``int()`` loop over the same
   strings (what "no parsing at all" costs).
2. One label printed on the fake ZPL printer through ``open_printer(...).send`` (connect, ``~HS`` and its answer,
   the job, shutdown; until the printer has it), against a bare loopback TCP connect + send + close until a sink
   has read it.

Run: ``python benchmarks/devices_bench.py [--seconds 2]``. Prints absolute figures and ratios (medians of 3).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.printers import open_printer  # noqa: E402
from devices.scan import ScanError, parse_scan  # noqa: E402
from devices.simulators.fake_printer import FakePrinter  # noqa: E402

SCANS = [
    "5901234123457",  # EAN-13
    "96385074",  # EAN-8
    "425261",  # UPC-E
    "]C1010590123412345710ABC123|17250131",  # GS1-128 with lot and expiry
    "]d2010590123412345721SN-000017",  # GS1 DataMatrix with serial
    "00376130321109103420",  # SSCC
    "https://id.gs1.org/01/05901234123457/10/ABC?17=250131",  # digital link
    "$B:WH1:A-01-02",  # bin
    "$O:12345",  # order
    "AC3KXT7Q",  # bare pickup code
    "5901234123458",  # bad check digit
]
LABEL = b"^XA^CI28^PW812^LL1218^FO50,50^A0N,60,60^FDBin A-01-02^FS^FO50,150^BCN,120,Y,N,N^FD$B:WH1:A-01-02^FS^XZ"


def rate(func: Callable[[], int], seconds: float) -> float:
    """Operations per second of ``func`` (which returns how many it did), run for about ``seconds``."""
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        done += func()
    return done / elapsed


def median_of_3(func: Callable[[], int], seconds: float) -> float:
    return statistics.median(rate(func, seconds) for _ in range(3))


def parse_batch() -> int:
    for scan in SCANS:
        _try_parse(scan)
    return len(SCANS)


def bare_batch() -> int:
    for scan in SCANS:
        if scan.isdigit():
            int(scan)
    return len(SCANS)


class Sink:
    """Loopback TCP server that reads each connection to EOF and counts completed ones."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.done = 0
        self.cond = threading.Condition()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                while conn.recv(65536):
                    pass
            with self.cond:
                self.done += 1
                self.cond.notify_all()

    def close(self) -> None:
        self.server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="duration of each measurement")
    args = parser.parse_args()

    bare = median_of_3(bare_batch, args.seconds)
    parsed = median_of_3(parse_batch, args.seconds)
    print(f"parse_scan:        {parsed:12,.0f} scans/s  ({1e6 / parsed:8.1f} us/scan)")
    print(f"bare isdigit+int:  {bare:12,.0f} scans/s  ({1e6 / bare:8.3f} us/scan)")
    print(f"  ratio parse_scan / bare: {bare / parsed:,.0f}x slower")
    for scan in SCANS:
        one = rate(lambda s=scan: (_try_parse(s), 1)[1], args.seconds / 4)
        print(f"    {1e6 / one:7.1f} us  {scan!r}")

    sink = Sink()

    def bare_send() -> int:
        with socket.create_connection(("127.0.0.1", sink.port)) as sock:
            sock.sendall(LABEL)
            sock.shutdown(socket.SHUT_WR)
        with sink.cond:
            target = bare_send.count = getattr(bare_send, "count", 0) + 1
            sink.cond.wait_for(lambda: sink.done >= target, 5)
        return 1

    with FakePrinter() as fake:
        printer = open_printer(fake.url, timeout=5)

        def printed() -> int:
            before = len(fake.formats)
            printer.send(LABEL)
            if not fake.wait_for_labels(before + 1, 5):
                raise RuntimeError("label not printed")
            return 1

        tcp = median_of_3(bare_send, args.seconds)
        labels = median_of_3(printed, args.seconds)
    sink.close()
    print(f"fake printer send: {labels:12,.0f} labels/s ({1e3 / labels:8.3f} ms/label, ~HS asked each time)")
    print(f"bare TCP send:     {tcp:12,.0f} sends/s  ({1e3 / tcp:8.3f} ms/send)")
    print(f"  ratio printer / bare: {tcp / labels:.1f}x slower")
    return 0


def _try_parse(scan: str) -> None:
    # try/except rather than contextlib.suppress: the benchmark should not time a context manager
    try:
        parse_scan(scan)
    except ScanError:
        return


if __name__ == "__main__":
    raise SystemExit(main())
