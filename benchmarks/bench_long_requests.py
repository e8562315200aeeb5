"""Benchmark 4: long requests do not starve the app. ``/healthz`` and an availability read, timed while 200 station
pages keep their live scan feed open (server-sent events) and 50 station agents long-poll their print jobs, against
the same two reads with nothing else open, in the same run on the same server.

The server is ``wms serve`` itself (its own gunicorn settings: threads per worker, keep-alive, and the long-poll slots
of ``wms.longpoll``), 2 workers, on a free loopback port. The pages and agents are simulated by a separate process
(asyncio, one connection each), which behaves as a browser's EventSource (reads each stream as it comes, comes back
after the stream's ``retry:`` delay with ``Last-Event-ID``) and as the station agent (``wait=20``, then the pause the
answer's ``retry_after`` asks for). The probes are two threads of this process, each sending its request over one
keep-alive connection about 40 times a second, so what they measure is the time a request waits for a thread plus
its own work. While loaded, a scan is uploaded through the station API twice a second (rotating over the stations)
and the page processes note how long each took to reach them.

Target (issue 7): p99 of both reads under 100 ms with the 200 pages and 50 agents open. The ratio to the same
read's p99 with nothing open says how much the long requests cost the others.

    python benchmarks/run.py --only long_requests [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from http.client import HTTPConnection, HTTPException
from pathlib import Path

import sqlalchemy as sa

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import seed  # noqa: E402
from benchmarks.common import (  # noqa: E402
    HOST,
    REPO,
    Row,
    Server,
    Settings,
    database,
    fmt_ms,
    log,
    median,
    wms_app,
)

NAME = "long_requests"
DATABASES = ("postgres", "sqlite")
PAGES = 200
AGENTS = 50
STATIONS = 50
P99_TARGET = 0.100
#: seconds between two probe requests on each probe connection
PROBE_EVERY = 0.025
#: seconds the pages and agents run before the probes start: every client connected, slots taken, polls in step
SETTLE = 8
#: the pages are opened and the agents started at random times within this many seconds, as people and PCs do
#: (all at once is the moment after a restart: see the notes in benchmarks/README.md)
OPENED_WITHIN = 5.0
SKUS = 200
PASSWORD = "bench-password-1"


# --- the server -----------------------------------------------------------------------------------------------


class WmsServe(Server):
    """`wms serve --no-worker` (2 workers) on a free loopback port: :class:`benchmarks.common.Server`'s start-up,
    log and CPU figures, with the real command and a quicker stop."""

    def __init__(self, url: str):
        super().__init__("wms serve", url, workers=2)

    @property
    def name(self) -> str:
        return "wms serve"

    def command(self) -> list[str]:
        return [sys.executable, "-c", "from wms.cli import main; main()", "serve", "--port", str(self.port)] + [
            "--workers",
            str(self.workers),
            "--no-worker",
        ]

    def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            # Quick stop, then the group: a worker exits only once its open streams are done (up to 25 s).
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the session created for this server only
                proc.wait(timeout=10)
        super().stop()  # removes the log

    def errors_in_log(self) -> list[str]:
        # `wms serve` logs every request: a 5xx in the access log counts as well as a traceback.
        lines = self.log_text(None).splitlines()
        bad = [line.strip() for line in lines if "Traceback" in line or "[ERROR]" in line or '" 50' in line]
        return [f"server log: {len(bad)} error line(s), first: {bad[0][:200]}"] if bad else []


# --- seeding and signing in -----------------------------------------------------------------------------------


def _seed(url: str) -> dict:
    from wms.auth.service import create_user
    from wms.extensions import db
    from wms.printing.service import add_printer
    from wms.printing.stations import create_station_token

    app = wms_app(url)
    with app.app_context():
        seed.make_locations()
        skus = [f"LR-{i:04d}" for i in range(1, SKUS + 1)]
        seed.make_products(skus)
        for location in seed.SMALL_WORLD:
            seed.stock(location, [(sku, 5) for sku in skus], f"SEED-{location}")
        channel = seed.channel("BENCH", ["WH1", "WH2"])
        stations = {}
        for i in range(1, STATIONS + 1):
            code = f"ST1-C{i:02d}"
            add_printer(f"LR-P{i:02d}", "zpl+tcp://127.0.0.1:9", "ST1", code)
            stations[code] = create_station_token(code)
        create_user("bench-manager", "manager", None, PASSWORD)
        db.session.remove()
        db.engine.dispose()
    return {"channel": channel, "stations": stations}


def _sign_in(port: int) -> str:
    """A manager's session cookie, through the login form as a browser gets it."""
    conn = HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", "/login")
        page = conn.getresponse()
        html = page.read().decode()
        cookies = _cookies(page.headers.get_all("Set-Cookie") or [])
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        body = f"csrf_token={csrf}&username=bench-manager&password={PASSWORD}"
        conn.request(
            "POST",
            "/login",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie_header(cookies)},
        )
        answer = conn.getresponse()
        answer.read()
        if answer.status != 303:
            raise RuntimeError(f"signing in answered {answer.status}")
        return _cookie_header(cookies | _cookies(answer.headers.get_all("Set-Cookie") or []))
    finally:
        conn.close()


def _cookies(headers: list[str]) -> dict[str, str]:
    return dict(header.split(";", 1)[0].split("=", 1) for header in headers)


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# --- probes ---------------------------------------------------------------------------------------------------


class Probe(threading.Thread):
    """GETs ``path`` over one keep-alive connection every :data:`PROBE_EVERY` seconds until stopped; the latency of
    each answer (a 200), and the count of anything else."""

    def __init__(self, port: int, path: str, headers: dict[str, str], stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.path, self.headers, self.stop = port, path, headers, stop
        self.latencies: list[float] = []
        self.failures = 0

    def run(self) -> None:
        conn = HTTPConnection(HOST, self.port, timeout=60)
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", self.path, headers=self.headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    self.latencies.append(time.perf_counter() - started)
                else:
                    self.failures += 1
                if response.will_close:
                    conn.close()
                    conn = HTTPConnection(HOST, self.port, timeout=60)
            except (OSError, HTTPException):
                self.failures += 1
                conn.close()
                conn = HTTPConnection(HOST, self.port, timeout=60)
            self.stop.wait(PROBE_EVERY)
        conn.close()


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def _probe(port: int, channel: str, seconds: float) -> dict[str, Probe]:
    stop = threading.Event()
    probes = {
        "healthz": Probe(port, "/healthz", {}, stop),
        "availability": Probe(port, "/api/v1/availability?sku=LR-0001", {"Authorization": f"Bearer {channel}"}, stop),
    }
    for probe in probes.values():
        probe.start()
    time.sleep(seconds)
    stop.set()
    for probe in probes.values():
        probe.join(70)
    return probes


class Scanner(threading.Thread):
    """Uploads one scan twice a second through the station API, rotating over the stations; its code carries the
    time of the upload, so that the pages can tell how long it took to reach them."""

    def __init__(self, port: int, stations: dict[str, str], stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.stations, self.stop = port, stations, stop
        self.sent = 0
        self.failures = 0

    def run(self) -> None:
        codes = list(self.stations)
        while not self.stop.wait(0.5):
            code = codes[self.sent % len(codes)]
            # a client id of its own: an id sent in an earlier round would be taken as a retry and not stored
            scan = {"client_id": f"lat-{time.time_ns()}", "code": f"LAT-{time.time():.6f}"}
            body = json.dumps({"scans": [scan]})
            headers = {"Authorization": f"Bearer {self.stations[code]}", "Content-Type": "application/json"}
            conn = HTTPConnection(HOST, self.port, timeout=30)
            try:
                conn.request("POST", f"/api/v1/stations/{code}/scans", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                self.sent += 1
                if response.status != 200:
                    self.failures += 1
            except (OSError, HTTPException):
                self.failures += 1
            finally:
                conn.close()


# --- the pages and agents (a separate process) ----------------------------------------------------------------


class _Http:
    """One HTTP/1.1 keep-alive connection for asyncio: just what the pages and agents need (chunked bodies)."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        reused = self.writer is not None
        try:
            return await self._request(path, headers)
        except (ConnectionError, asyncio.IncompleteReadError):
            if not reused:
                raise
            # The server closed the idle connection as the request went out: a browser sends it again on a new one.
            await self.close()
            return await self._request(path, headers)

    async def _request(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{self.port}", *(f"{k}: {v}" for k, v in headers.items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed before an answer")
        status = int(status_line.split()[1])
        answer_headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode().partition(":")
            answer_headers[name.strip().lower()] = value.strip()
        return status, answer_headers

    async def body(self, headers: dict[str, str]):
        """The body's bytes as they come."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunk = await self.reader.readexactly(size)
                await self.reader.readline()
                yield chunk
        elif "content-length" in headers:
            yield await self.reader.readexactly(int(headers["content-length"]))
        else:
            while chunk := await self.reader.read(65536):
                yield chunk
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class _Tally:
    def __init__(self) -> None:
        self.streams = {"full": 0, "short": 0}
        #: full streams are counted when they start (by their ``retry:``), polls when they are asked and answered
        self.polls = {"asked": 0, "told to poll": 0, "waited": 0, "with jobs": 0}
        self.scan_delays: list[float] = []
        self.errors: dict[str, int] = {}

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def _page(port: int, station: str, cookie: str, after: int, tally: _Tally, until: float) -> None:
    await asyncio.sleep(random.uniform(0, OPENED_WITHIN))
    http, last_id = _Http(port), None
    while time.monotonic() < until:
        retry = 1.0
        headers = {"Cookie": cookie, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        try:
            # as the page: its first connection starts after the newest scan it shows
            status, answer = await http.request(f"/stations/{station}/events?after={after}", headers)
            if status != 200:
                tally.error(f"page: status {status}")
                await http.close()
            else:
                buffer = b""
                async for chunk in http.body(answer):
                    buffer += chunk
                    while b"\n\n" in buffer:
                        block, buffer = buffer.split(b"\n\n", 1)
                        fields = dict(
                            line.split(": ", 1)
                            for line in block.decode().splitlines()
                            if ": " in line and line[0] != ":"
                        )
                        if "retry" in fields and not fields.get("event"):  # the first block: a full stream?
                            tally.streams["full" if fields["retry"] == "1000" else "short"] += 1
                        retry = int(fields["retry"]) / 1000 if "retry" in fields else retry
                        last_id = fields.get("id", last_id)
                        if fields.get("event") == "scan":
                            raw = json.loads(fields["data"])["raw"]
                            if raw.startswith("LAT-"):
                                tally.scan_delays.append(time.time() - float(raw[4:]))
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            tally.error(f"page: {type(exc).__name__}")
            await http.close()
        await asyncio.sleep(retry)
    await http.close()


async def _agent(port: int, station: str, token: str, tally: _Tally, until: float) -> None:
    await asyncio.sleep(random.uniform(0, OPENED_WITHIN))
    http = _Http(port)
    while time.monotonic() < until:
        pause = 1.0
        tally.polls["asked"] += 1
        try:
            status, answer = await http.request(
                f"/api/v1/stations/{station}/jobs?wait=20", {"Authorization": f"Bearer {token}"}
            )
            body = b"".join([chunk async for chunk in http.body(answer)])
            if status != 200:
                tally.error(f"agent: status {status}")
            else:
                reply = json.loads(body)
                pause = reply.get("retry_after", 0)
                kind = "with jobs" if reply["jobs"] else ("told to poll" if pause else "waited")
                tally.polls[kind] += 1
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            tally.error(f"agent: {type(exc).__name__}")
            await http.close()
        await asyncio.sleep(pause)
    await http.close()


async def _clients(port: int, cookie: str, stations: dict[str, str], after: int, seconds: float) -> _Tally:
    tally = _Tally()
    until = time.monotonic() + seconds
    codes = list(stations)
    tasks = [_page(port, codes[i % len(codes)], cookie, after, tally, until) for i in range(PAGES)]
    tasks += [_agent(port, code, stations[code], tally, until) for code in codes[:AGENTS]]
    # Streams that hold a slot end up to 25 s after `until`: the figures are taken then, the rest is cancelled.
    done = asyncio.gather(*tasks)
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(done, timeout=seconds + 2)
    return tally


def clients_main(argv: list[str]) -> None:
    """The pages and agents, run as their own process: ``clients PORT SECONDS FILE``, the file holding the cookie
    and the station tokens as JSON; a JSON summary on stdout at the end."""
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("given", type=Path)
    args = parser.parse_args(argv)
    given = json.loads(args.given.read_text())
    tally = asyncio.run(_clients(args.port, given["cookie"], given["stations"], given["after"], args.seconds))
    delays = sorted(tally.scan_delays)
    print(
        json.dumps(
            {
                "streams": tally.streams,
                "polls": tally.polls,
                "scans_seen": len(delays),
                "scan_delay_p50": delays[len(delays) // 2] if delays else None,
                "scan_delay_max": delays[-1] if delays else None,
                "errors": tally.errors,
            }
        )
    )


# --- the benchmark --------------------------------------------------------------------------------------------


def _loaded_round(server: WmsServe, info: dict, cookie: str, seconds: float) -> tuple[dict[str, Probe], dict, float]:
    """Probes while the pages and agents are open; their summary; the server's CPU share (of one core)."""
    with tempfile.NamedTemporaryFile("w", prefix="wms-bench-clients-", suffix=".json", delete=False) as given:
        json.dump({"cookie": cookie, "stations": info["stations"], "after": _newest_scan(server.url)}, given)
    script = str(Path(__file__).resolve())
    clients = subprocess.Popen(
        [sys.executable, script, "clients", str(server.port), str(SETTLE + seconds), given.name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(REPO),
        start_new_session=True,
    )
    try:
        time.sleep(SETTLE)
        stop = threading.Event()
        scanner = Scanner(server.port, info["stations"], stop)
        scanner.start()
        cpu_before, started = server.cpu_seconds(), time.monotonic()
        probes = _probe(server.port, info["channel"], seconds)
        cpu_after, elapsed = server.cpu_seconds(), time.monotonic() - started
        stop.set()
        scanner.join(30)
        out, err = clients.communicate(timeout=SETTLE + seconds + 60)
    finally:
        if clients.poll() is None:
            os.killpg(clients.pid, signal.SIGKILL)  # the group created for the clients only
            clients.wait(10)
        os.unlink(given.name)
    if clients.returncode != 0:
        raise RuntimeError(f"the page and agent clients failed:\n{err[-3000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    summary["scans_sent"], summary["scan_upload_failures"] = scanner.sent, scanner.failures
    return probes, summary, (cpu_after[0] - cpu_before[0]) / elapsed


def _newest_scan(url: str) -> int:
    """The id of the newest scan: the pages of a round open after it, as a page opened now does."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM station_scan")).scalar_one()
    finally:
        engine.dispose()


def _idle_round(server: WmsServe, info: dict, seconds: float) -> tuple[dict[str, Probe], float]:
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    probes = _probe(server.port, info["channel"], seconds)
    return probes, (server.cpu_seconds()[0] - cpu_before[0]) / (time.monotonic() - started)


def run(kind: str, settings: Settings) -> list[Row]:
    seconds = settings.duration
    idle: list[dict[str, Probe]] = []
    loaded: list[dict[str, Probe]] = []
    summaries: list[dict] = []
    cpu = {"idle": [], "loaded": []}
    problems: list[str] = []
    with database(kind, "longreq") as db:
        log(f"long_requests/{kind}: seeding {STATIONS} stations with tokens, {SKUS} skus, a manager")
        info = _seed(db.url)
        with WmsServe(db.url) as server:
            cookie = _sign_in(server.port)
            for round_no in range(1, settings.rounds + 1):
                probes, share = _idle_round(server, info, seconds)
                idle.append(probes)
                cpu["idle"].append(share)
                log(f"round {round_no} nothing open: {_describe(probes)}; server CPU {share:.0%} of a core")
                probes, summary, share = _loaded_round(server, info, cookie, seconds)
                loaded.append(probes)
                summaries.append(summary)
                cpu["loaded"].append(share)
                log(
                    f"round {round_no} {PAGES} pages + {AGENTS} agents: {_describe(probes)}; "
                    f"server CPU {share:.0%} of a core; clients {json.dumps(summary)}"
                )
            problems += server.errors_in_log()
    for label, rounds in (("nothing open", idle), ("loaded", loaded)):
        failures = sum(p.failures for probes in rounds for p in probes.values())
        if failures:
            problems.append(f"{label}: {failures} probe answers other than 200 (or socket errors)")
    for summary in summaries:
        if summary["errors"] or summary["scan_upload_failures"]:
            problems.append(
                f"client errors {summary['errors']}, scan upload failures {summary['scan_upload_failures']}"
            )
    last = summaries[-1]
    notes = [
        f"{settings.rounds} round(s) of {seconds} s each way on one `wms serve` (2 workers x "
        f"{_threads()} threads, {_slots()} long-poll slots each), probes every {PROBE_EVERY * 1000:.0f} ms per "
        f"endpoint over keep-alive, median over rounds",
        f"server CPU: {median(cpu['idle']):.0%} of a core with nothing open, {median(cpu['loaded']):.0%} loaded "
        f"(probes included)",
        f"last round's clients: streams {last['streams']}, job polls {last['polls']}; "
        f"{last['scans_seen']} scan deliveries to pages of {last['scans_sent']} scans uploaded (4 pages a station), "
        f"upload to page p50 {_s(last['scan_delay_p50'])}, max {_s(last['scan_delay_max'])}",
        *problems,
    ]
    rows = []
    for name, label in (("healthz", "/healthz"), ("availability", "availability 1 sku")):
        base = median([_p99(probes[name].latencies) for probes in idle])
        under = median([_p99(probes[name].latencies) for probes in loaded])
        rows.append(
            Row(
                f"long requests: {label} p99, {PAGES} pages + {AGENTS} agents open",
                kind,
                fmt_ms(under),
                fmt_ms(base) + " (nothing open)",
                f"{under / base:.2f}x",
                f"< {P99_TARGET * 1000:.0f} ms",
                under < P99_TARGET and not problems,
                notes if not rows else [],
                {"loaded_p99": under, "idle_p99": base, "clients": summaries, "cpu": cpu},
            )
        )
    return rows


def _describe(probes: dict[str, Probe]) -> str:
    parts = []
    for name, probe in probes.items():
        values = sorted(probe.latencies)
        if values:
            parts.append(
                f"{name} {len(values)} answers, p50 {values[len(values) // 2] * 1000:.1f} ms, "
                f"p99 {_p99(values) * 1000:.1f} ms, max {values[-1] * 1000:.0f} ms, failures {probe.failures}"
            )
    return "; ".join(parts)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _threads() -> int:
    from wms.server import THREADS_PER_WORKER

    return THREADS_PER_WORKER


def _slots() -> int:
    from wms.config import DEFAULTS

    return int(os.environ.get("WMS_LONGPOLL_SLOTS", DEFAULTS.get("LONGPOLL_SLOTS", 0)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["clients"]:
        clients_main(sys.argv[2:])
    else:
        sys.exit("run it through benchmarks/run.py --only long_requests (or: clients PORT SECONDS FILE)")
