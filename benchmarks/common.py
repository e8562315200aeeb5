"""What every benchmark shares: throwaway databases, gunicorn servers, wrk runs, result rows, process memory.

Everything here is bounded: servers are stopped by the process that started them (by pid), wrk runs for a fixed
time, every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
LUA_DIR = BENCH_DIR / "wrk"

#: the server where each benchmark creates (and drops) its own database
PG_ADMIN_URL = os.environ.get("WMS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
HOST = "127.0.0.1"  # loopback only

#: one server setting for the bare app and the WMS: 2 cores, so 2 gthread workers x 4 threads (as `wms serve`)
WORKERS = 2
THREADS = 4
WORKER_CLASS = "gthread"

SECRET = "benchmark-secret-not-for-production"


# --- settings and results -----------------------------------------------------------------------------------


@dataclass
class Settings:
    quick: bool = False
    #: seconds of each measured wrk run, and of the warm-up before it
    duration: int = 15
    warmup: int = 3
    #: load benchmarks alternate bare and WMS servers this many times and report medians: the machine's other load
    #: moves, and alternating spreads it over both sides
    rounds: int = 3

    @classmethod
    def make(cls, quick: bool, duration: int | None = None, rounds: int | None = None) -> Settings:
        if quick:
            return cls(quick=True, duration=duration or 8, warmup=2, rounds=rounds or 1)
        return cls(quick=False, duration=duration or 15, warmup=3, rounds=rounds or 3)


@dataclass
class Row:
    """One line of the result table. ``passed`` is None for a figure that has no target."""

    benchmark: str
    db: str
    figure: str
    ceiling: str = "-"
    ratio: str = "-"
    target: str = "-"
    passed: bool | None = None
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "-" if self.passed is None else ("PASS" if self.passed else "FAIL")


def log(message: str) -> None:
    print(f"  . {message}", file=sys.stderr, flush=True)


def fmt_rate(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- databases ----------------------------------------------------------------------------------------------


@dataclass
class Database:
    kind: str  # "postgres" or "sqlite"
    url: str
    #: a database kept from an earlier run (``WMS_BENCH_KEEP``): it may hold the data of that run already
    kept: bool = False

    @property
    def label(self) -> str:
        return "postgres" if self.kind == "postgres" else "sqlite"


def _admin_url() -> sa.URL:
    url = sa.make_url(PG_ADMIN_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


#: ``WMS_BENCH_KEEP=1``: the benchmarks that pass ``keep_as`` to :func:`database` keep their database after the run
#: and use it again the next time (a 10M-row ledger takes minutes to generate; see README)
KEEP = os.environ.get("WMS_BENCH_KEEP", "") == "1"


@contextmanager
def database(kind: str, purpose: str, keep_as: str | None = None) -> Iterator[Database]:
    """A new, empty database of ``kind`` with the schema built by the migrations; dropped afterwards.

    With ``keep_as`` and ``WMS_BENCH_KEEP=1``: the database named after ``purpose`` and ``keep_as`` is made once,
    brought up to date by the migrations on every run and not dropped (``Database.kept``); the caller decides
    whether it holds its data already (see :func:`seeded`, :func:`mark_seeded`)."""
    if keep_as and KEEP:
        yield _kept_database(kind, f"{purpose}_{keep_as}")
        return
    if kind == "postgres":
        admin = _admin_url()
        name = f"wms_bench_{purpose}_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            db = Database("postgres", admin.set(database=name).render_as_string(hide_password=False))
            migrate(db.url)
            yield db
        finally:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            engine.dispose()
    elif kind == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"wms-bench-{purpose}-")
        try:
            db = Database("sqlite", f"sqlite:///{folder}/wms.sqlite")
            migrate(db.url)
            yield db
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        raise ValueError(kind)


def _kept_database(kind: str, name: str) -> Database:
    if kind == "postgres":
        admin = _admin_url()
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            if (
                conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (f"wms_kept_{name}",)).first()
                is None
            ):
                conn.exec_driver_sql(f'CREATE DATABASE "wms_kept_{name}"')
        engine.dispose()
        db = Database("postgres", admin.set(database=f"wms_kept_{name}").render_as_string(hide_password=False), True)
    elif kind == "sqlite":
        folder = Path(tempfile.gettempdir()) / "wms-bench-kept"
        folder.mkdir(exist_ok=True)
        db = Database("sqlite", f"sqlite:///{folder}/{name}.sqlite", True)
    else:
        raise ValueError(kind)
    log(f"kept database (WMS_BENCH_KEEP=1): {db.url}")
    migrate(db.url)
    return db


_SEEDED = "CREATE TABLE IF NOT EXISTS bench_seeded (what VARCHAR(200) PRIMARY KEY)"


def seeded(engine: sa.Engine, what: str) -> bool:
    """Whether a kept database holds the data ``what`` (a name the benchmark gives its data set) in full."""
    with engine.begin() as conn:
        conn.exec_driver_sql(_SEEDED)
        return conn.execute(sa.text("SELECT 1 FROM bench_seeded WHERE what = :w"), {"w": what}).first() is not None


def mark_seeded(engine: sa.Engine, what: str) -> None:
    """Record that the data ``what`` is in place (only once it all is: a run stopped half-way seeds again)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(_SEEDED)
        conn.execute(sa.text("INSERT INTO bench_seeded (what) VALUES (:w)"), {"w": what})


def server_env(url: str) -> dict[str, str]:
    """The environment of a server process (and of `wms db upgrade`): the database and a fixed secret."""
    env = dict(os.environ)
    env["WMS_DATABASE_URL"] = url
    env["WMS_SECRET_KEY"] = SECRET
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def wms_command(url: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the `wms` command on ``url`` (from another directory: it must work from anywhere)."""
    return subprocess.run(
        [sys.executable, "-c", "from wms.cli import main; main()", *args],
        env=server_env(url),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def migrate(url: str) -> None:
    """Build the schema the way an operator does: `wms db upgrade`."""
    result = wms_command(url, "db", "upgrade")
    if result.returncode != 0:
        raise RuntimeError(f"wms db upgrade failed:\n{result.stdout}\n{result.stderr}")


def wms_app(url: str):
    """The WMS app on ``url`` for seeding and checks inside this process."""
    from wms import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})


# --- servers ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


WMS_APP = "wms:create_app()"
BARE_APP = "benchmarks.bare_app:create_app()"


class Server:
    """A gunicorn server of ``app`` (a gunicorn app spec) on a free loopback port, with the common settings.

    Use as a context manager: it waits until ``ready_path`` answers 200 and stops the master it started (SIGTERM,
    then SIGKILL to the process group it created) on the way out.
    """

    def __init__(self, app: str, url: str, workers: int = WORKERS, ready_path: str = "/healthz"):
        self.app = app
        self.url = url
        self.workers = workers
        self.ready_path = ready_path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        handle, path = tempfile.mkstemp(prefix="wms-bench-gunicorn-", suffix=".log")
        os.close(handle)
        self._log = Path(path)

    @property
    def name(self) -> str:
        return "bare" if self.app == BARE_APP else "wms"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            WORKER_CLASS,
            "--threads",
            str(THREADS),
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
            "--no-control-socket",  # a fixed per-user path: two servers at once would collide
            "--chdir",
            str(REPO),
            "--log-level",
            "warning",
            self.app,
        ]

    def __enter__(self) -> Server:
        with self._log.open("wb") as log_file:
            self.proc = subprocess.Popen(
                self.command(),
                env=server_env(self.url),
                cwd=str(REPO),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited at start:\n{self.log_text()}")
            try:
                status, _ = http_get(self.port, self.ready_path, timeout=2)
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} server not ready within 60 s:\n{self.log_text()}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # gunicorn's graceful stop of the master we started
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the session (process group) created for this server only
                proc.wait(timeout=10)
        with suppress(OSError):
            self._log.unlink()

    def log_text(self, tail: int | None = 4000) -> str:
        with suppress(OSError):
            text = self._log.read_text(errors="replace")
            return text[-tail:] if tail else text
        return ""

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user + system) used so far by the master and its workers, and by the PostgreSQL backends
        serving this database (0 on SQLite, which runs inside the workers). Per request, these are figures that
        other load on the machine moves much less than throughput."""
        app = sum(_cpu_of(pid) for pid in ([self.proc.pid, *self.worker_pids()] if self.proc else []))
        return app, sum(_cpu_of(pid) for pid in _pg_backends(self.url))

    def errors_in_log(self) -> list[str]:
        """Errors the server logged (the log level is warning, so anything here is worth a look): each distinct
        line once, at most 3, prefixed with how often it came."""
        text = self.log_text(None)
        lines = [line.strip() for line in text.splitlines() if "Error" in line and "Traceback" not in line]
        counts: dict[str, int] = {}
        for line in lines:
            counts[line] = counts.get(line, 0) + 1
        return [f"server log ({n}x): {line[:200]}" for line, n in list(counts.items())[:3]]


def _cpu_of(pid: int) -> float:
    with suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime (fields 14, 15)
    return 0.0


def _pg_backends(url: str) -> list[int]:
    parsed = sa.make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return []
    import psycopg

    admin = _admin_url().set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (parsed.database,)).fetchall()
    return [pid for (pid,) in rows]


# --- HTTP ---------------------------------------------------------------------------------------------------


def http_get(port: int, path: str, token: str | None = None, timeout: float = 30) -> tuple[int, bytes]:
    conn = HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_json(port: int, path: str, token: str | None = None, timeout: float = 30) -> tuple[int, Any]:
    status, body = http_get(port, path, token, timeout)
    return status, json.loads(body) if body else None


# --- wrk ----------------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    duration: float
    p50: float
    p90: float
    p99: float
    max: float
    statuses: dict[int, int]
    errors: dict[str, int]
    #: CPU seconds spent during the run by the app server's processes, and by the database's backends
    server_cpu: float | None = None
    db_cpu: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.duration

    def rate_of(self, status: int) -> float:
        return self.statuses.get(status, 0) / self.duration

    def count(self, predicate) -> int:
        return sum(n for status, n in self.statuses.items() if predicate(status))

    @property
    def cpu_per_request(self) -> float | None:
        """App server CPU seconds per answered request."""
        return self.server_cpu / self.requests if self.server_cpu is not None and self.requests else None

    @property
    def db_cpu_per_request(self) -> float | None:
        """PostgreSQL backend CPU seconds per answered request."""
        return self.db_cpu / self.requests if self.db_cpu is not None and self.requests else None

    def cpu_text(self) -> str:
        if not self.cpu_per_request:
            return "?"
        text = f"{self.cpu_per_request * 1000:.2f} ms"
        if self.db_cpu_per_request:
            text += f" + database {self.db_cpu_per_request * 1000:.2f} ms"
        return text

    def describe(self) -> str:
        cpu = f", CPU per request: app {self.cpu_text()}" if self.cpu_per_request else ""
        return (
            f"{self.requests:,} requests in {self.duration:.1f} s = {self.rps:,.0f}/s, "
            f"p50 {self.p50 * 1000:.1f} ms, p90 {self.p90 * 1000:.1f} ms, p99 {self.p99 * 1000:.1f} ms, "
            f"max {self.max * 1000:.0f} ms, statuses {dict(sorted(self.statuses.items()))}, errors {self.errors}{cpu}"
        )


def cpu_summary(results: list[WrkResult]) -> str:
    """Median CPU per request over runs: app server, and database backends where there are any."""
    app = [r.cpu_per_request for r in results if r.cpu_per_request]
    db = [r.db_cpu_per_request for r in results if r.db_cpu_per_request]
    if not app:
        return "?"
    return f"{median(app) * 1000:.2f} ms" + (f" + database {median(db) * 1000:.2f} ms" if db else "")


def wrk_script(name: str) -> str:
    """Path of a runnable wrk script: the shared ``report.lua`` followed by ``<name>.lua``."""
    folder = Path(tempfile.gettempdir()) / f"wms-bench-lua-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    target = folder / f"{name}.lua"
    target.write_text((LUA_DIR / "report.lua").read_text() + "\n" + (LUA_DIR / f"{name}.lua").read_text())
    return str(target)


def run_wrk(
    server: Server,
    script: str,
    args: list[str],
    duration: int,
    connections: int,
    threads: int = 2,
    timeout_s: int = 30,
) -> WrkResult:
    """Run wrk against the loopback server for ``duration`` seconds; the Lua report gives the figures, /proc the
    server's CPU time."""
    port = server.port
    app_before, db_before = server.cpu_seconds()
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout_s}s",
        "-s",
        wrk_script(script),
        f"http://{HOST}:{port}",
        "--",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + timeout_s + 60)
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line[len("WRKJSON ") :])
            break
    else:
        raise RuntimeError(f"wrk gave no report (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = WrkResult(
        requests=raw["requests"],
        duration=raw["duration_us"] / 1e6,
        p50=raw["p50"] / 1e6,
        p90=raw["p90"] / 1e6,
        p99=raw["p99"] / 1e6,
        max=raw["max"] / 1e6,
        statuses={int(k): v for k, v in raw["statuses"].items()},
        errors={k: raw[k] for k in ("connect", "read", "write", "timeout", "status_errors") if raw[k]},
    )
    app_after, db_after = server.cpu_seconds()
    result.server_cpu, result.db_cpu = app_after - app_before, db_after - db_before
    return result


# --- process memory -----------------------------------------------------------------------------------------


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


MB = 1024 * 1024
