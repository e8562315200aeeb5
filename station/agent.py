"""The station agent on a counter or pack-station PC.

It talks to the WMS over HTTP(S) only (the station API of ``docs/printing.md``, with a station token) and needs no
database and nothing of ``wms``, so it runs on any PC that can reach the server. Three threads:

- **scanner** (with a scanner port URL): :class:`devices.serial_scanner.SerialScanner` reads codes from the serial
  port (and reconnects when the scanner is unplugged and plugged back). Every code gets a uuid ``client_id`` and is
  appended (and fsync'ed) to a spool file before anything else happens.
- **uploader**: sends the spooled scans in batches to ``POST /api/v1/stations/<code>/scans`` and removes them from
  the spool only after a 200. The server stores each ``client_id`` once, so a batch whose answer was lost is simply
  sent again: no scan is lost when the server is down or the agent restarts, and none is stored twice.
- **printer** (when this PC has printers, :class:`station.printers.LocalPrinters`): long-polls
  ``GET /api/v1/stations/<code>/jobs``; each job names a printer, which must be one configured on this PC (else
  the job is reported ``failed``: the agent never prints where the server says, only where its own configuration
  says). For each job: the printer's status, ``sending`` just before the bytes go out, the bytes, then ``printed``
  (or ``not_ready`` with the printer's state, or ``failed`` for a problem waiting will not fix). Final outcomes are
  spooled too, so an outcome the server did not get is sent again after a restart.

When the server cannot be reached, each loop backs off (1 s doubling to 30 s) and keeps going. An empty answer to
the long poll that came back early is followed by a pause (the server's ``retry_after``, else 1 s), so the agent
never spins. Every network call has a timeout. The token travels over HTTPS, or plain HTTP to this PC only
(loopback), unless the agent is told ``insecure``. Stopping aborts calls in flight; a label being sent is finished
and reported.

State (spools and a lock file, so that two agents never share one spool) lives in ``state_dir``, by default
``$XDG_STATE_HOME/wms-station/<station>/`` (``~/.local/state/...``).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import ipaddress
import json
import logging
import os
import random
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from devices.printers import PrinterError, PrinterNotReady, PrinterState, PrinterStatus
from devices.scan import ScanError, ScanKind, parse_scan
from station.printers import LocalPrinters

log = logging.getLogger("station")

#: seconds the server may hold a jobs request open when there is nothing to print (the API's maximum is 25)
DEFAULT_WAIT = 20
#: seconds for a call that does not wait (and added to the long poll's own wait)
DEFAULT_TIMEOUT = 10.0
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 30.0
#: the least pause after an empty answer to the long poll that came back before its wait was up
MIN_EMPTY_PAUSE = 1.0
#: the longest ``retry_after`` taken from the server (a wrong value must not silence the printer for hours)
MAX_RETRY_AFTER = 60.0
#: scans per upload
UPLOAD_BATCH = 100
#: a code longer than this cannot be stored (the API refuses it): kept aside instead of blocking the spool
MAX_CODE = 2000
#: copies one job may ask for (the API's limit)
MAX_COPIES = 999
#: the content types of the printer formats
FORMATS = {"application/zpl": "zpl", "application/pdf": "pdf"}


class ServerUnreachable(Exception):
    """No usable answer: connection refused or reset, timeout, TLS trouble, a 5xx, or a body that is not the API's
    JSON. Waiting may help."""


class ServerRefused(Exception):
    """The server answered with a 4xx: the request itself is wrong (or the token is); repeating it will not help."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine without the network: ``localhost`` or a loopback address (127/8,
    ::1). Does no I/O (a name other than localhost is not looked up: it could resolve elsewhere tomorrow)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class JobsAnswer:
    """The server's answer to a jobs poll: the claimed jobs, and how long to wait before the next poll when the
    server asked for a pause (``retry_after``, seconds; None when it did not)."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    retry_after: float | None = None


def _retry_after(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
        return None
    return min(max(0.0, float(value)), MAX_RETRY_AFTER)


class StationClient:
    """The station API over ``http.client``: one connection per call, each with a timeout. Thread-safe.

    ``server`` must be ``https://`` unless it is on this PC (loopback) or ``insecure`` is set: the token would
    otherwise cross the network in clear text. HTTPS checks the certificate (``ca_file``: a private CA).
    :meth:`abort` shuts down the sockets of every call in flight (they raise :class:`ServerUnreachable`), so that
    a long poll does not hold up a stop.
    """

    def __init__(
        self,
        server: str,
        token: str,
        station: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        insecure: bool = False,
        ca_file: str | None = None,
    ) -> None:
        parts = urlsplit(server.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server URL {server!r}: use https://HOST[:PORT] (or http://127.0.0.1:PORT)")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"server URL {server!r}: the port must be a number 1-65535") from None
        if parts.scheme == "http" and not insecure and not is_loopback_host(parts.hostname):
            raise ValueError(
                f"server URL {server!r}: plain http would send the station token in clear text over the network; "
                "use https://, or --insecure on a network you trust"
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = port
        self.prefix = parts.path.rstrip("/")
        self.token = token
        self.station = station
        self.timeout = timeout
        self.insecure = insecure
        self._ssl_context = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        self.base = f"{self.prefix}/api/v1/stations/{quote(station, safe='')}"
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()
        self._aborted = False

    # -- the API ---------------------------------------------------------------------------------------------

    def poll_jobs(self, wait: float = 0) -> JobsAnswer:
        """Claim this station's due jobs, waiting up to ``wait`` s on the server when there are none; with the
        pause the server asked for (``retry_after``), if it did."""
        wait = max(0, min(int(wait), 25))
        answer = self.request("GET", f"{self.base}/jobs?{urlencode({'wait': wait})}", timeout=self.timeout + wait)
        jobs = answer.get("jobs")
        return JobsAnswer(
            [job for job in jobs if isinstance(job, dict)] if isinstance(jobs, list) else [],
            _retry_after(answer.get("retry_after")),
        )

    def jobs(self, wait: float = 0) -> list[dict[str, Any]]:
        """The jobs of :meth:`poll_jobs`."""
        return self.poll_jobs(wait).jobs

    def report(
        self, job_id: int, outcome: str, reason: str | None = None, attempt: int | None = None
    ) -> dict[str, Any]:
        """Tell the server how a job went: ``sending``, ``printed``, ``not_ready`` or ``failed``; ``attempt`` is
        the one the job was handed out with (the server refuses an outcome of an older claim with a 409)."""
        body: dict[str, Any] = {"outcome": outcome}
        if reason:
            body["reason"] = reason[:500]
        if attempt is not None:
            body["attempt"] = attempt
        return self.request("POST", f"{self.base}/jobs/{int(job_id)}", body)

    def upload(self, scans: list[dict[str, Any]]) -> dict[str, Any]:
        """Store scans (``client_id``, ``code``, ``scanned_at``); a client_id the server has is not stored again."""
        return self.request("POST", f"{self.base}/scans", {"scans": scans})

    # -- transport -------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, *, timeout: float | None = None) -> dict[str, Any]:
        """One call; the decoded JSON answer of a 2xx. Raises ServerUnreachable or ServerRefused."""
        if self._aborted:
            raise ServerUnreachable("stopping")
        conn = self._connection(timeout or self.timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", "Connection": "close"}
        payload = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        with self._lock:
            self._open.add(conn)
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            status = response.status
            raw = response.read()
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            raise ServerUnreachable(_describe(exc)) from exc
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = None
        if 200 <= status < 300 and isinstance(answer, dict):
            return answer
        error = answer.get("error") if isinstance(answer, dict) else None
        if 400 <= status < 500 and isinstance(error, dict):
            raise ServerRefused(
                status, str(error.get("code", "error")), str(error.get("message", "")), error.get("details")
            )
        if 400 <= status < 500:
            # A 4xx that is not the API's (a proxy's login page, a wrong --server path): retrying cannot fix it.
            raise ServerRefused(status, "http_error", f"HTTP {status} from {self.host}: is --server right?")
        raise ServerUnreachable(f"HTTP {status} from the server")

    def abort(self) -> None:
        """Make every call in flight, and every later one, fail at once with ServerUnreachable."""
        self._aborted = True
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self._ssl_context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    return str(exc) or type(exc).__name__


class Spool:
    """A list of JSON objects, each with a unique ``client_id``, kept in a JSON-lines file so that it survives a
    crash or a restart. Thread-safe.

    :meth:`add` appends one line and fsyncs before it returns. :meth:`remove` rewrites the file without the given
    entries (to a temporary file, fsynced, then renamed over the old one), so the file is always either the old
    or the new list. A line cut short by a crash in the middle of an append is skipped when the file is read.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        self.skipped = 0
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        for line in data.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                self.skipped += 1
                continue
            if isinstance(entry, dict) and isinstance(entry.get("client_id"), str):
                self._entries.setdefault(entry["client_id"], entry)
            else:
                self.skipped += 1
        if data and not data.endswith(b"\n"):
            # A torn last line: end it, so the next append starts a line of its own.
            with open(self.path, "ab") as f:
                f.write(b"\n")
                f.flush()
                os.fsync(f.fileno())

    def add(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` (durably: on disk when this returns). An entry with a known client_id is ignored."""
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        with self._lock:
            if entry["client_id"] in self._entries:
                return
            with open(self.path, "ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            self._entries[entry["client_id"]] = entry

    def pending(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The oldest ``limit`` entries, oldest first."""
        with self._lock:
            entries = list(self._entries.values())
        return entries if limit is None else entries[:limit]

    def remove(self, client_ids: set[str] | list[str]) -> None:
        """Drop these entries, durably."""
        with self._lock:
            gone = [cid for cid in client_ids if cid in self._entries]
            if not gone:
                return
            for cid in gone:
                del self._entries[cid]
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "wb") as f:
                for entry in self._entries.values():
                    f.write(json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory is synced.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Backoff:
    """Capped exponential backoff with a little jitter: 1, 2, 4, ... ``maximum`` seconds."""

    def __init__(self, initial: float = BACKOFF_INITIAL, maximum: float = BACKOFF_MAX) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay * random.uniform(0.9, 1.1)

    def reset(self) -> None:
        self._next = self.initial


def state_text(status: PrinterStatus) -> str:
    """A printer's status as the server stores it as the printer's state (``paper out``, ``head open``,
    ``unreachable: ...``): the wording of ``not_ready`` reasons in the station API."""
    if status.state is PrinterState.NO_ANSWER:
        return f"unreachable: {status.reason}"
    return status.reason


def _invalid_entries(batch: list[dict[str, Any]], details: Any) -> list[dict[str, Any]]:
    """The scans a 422's details name (``scans[3].code``); the whole batch when they name none."""
    indexes = set()
    for item in details if isinstance(details, list) else []:
        match = re.match(r"^scans\[(\d+)\]", str(item.get("field", "")) if isinstance(item, dict) else "")
        if match and int(match.group(1)) < len(batch):
            indexes.add(int(match.group(1)))
    return [batch[i] for i in sorted(indexes)] if indexes else batch


def default_state_dir(station: str) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in station)
    return Path(base) / "wms-station" / safe


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _describe_scan(code: str) -> str:
    """What a code is, for the log line at the counter (the server parses it again and stores that)."""
    try:
        result = parse_scan(code)
    except ScanError as exc:
        return exc.message
    except Exception:  # the log line must never lose a scan
        return "?"
    if result.kind == ScanKind.PLAIN:
        # Only the server knows whether it is a bin, an order or a tote at this station's location.
        hint = ", check digit wrong if it is a GTIN" if result.hint == "bad_check_digit" else ""
        return f"code {result.value} (the server looks it up{hint})"
    if result.kind == ScanKind.BIN and result.location:
        return f"bin {result.bin or result.value} at {result.location}"
    extra = [f"lot {result.lot}"] if result.lot else []
    if result.expiry:
        extra.append(f"expiry {result.expiry.isoformat()}")
    return f"{result.kind} {result.value}" + (f" ({', '.join(extra)})" if extra else "")


class StationAgent:
    """The agent's threads around one :class:`StationClient`. :meth:`start` returns at once; :meth:`stop` ends
    everything within about a second (plus a label being sent); :meth:`run` blocks until stopped.

    ``printers``: this PC's printers (:class:`station.printers.LocalPrinters` or a name -> URL mapping); without
    any, the agent forwards scans only and claims no jobs. ``port_factory`` (scanner) and ``printer_factory``
    (``open_printer``, URL -> printer) can be replaced in tests.
    """

    def __init__(
        self,
        client: StationClient,
        *,
        state_dir: str | os.PathLike[str],
        scanner_url: str | None = None,
        wait: float = DEFAULT_WAIT,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
        scanner_backoff_max: float = 5.0,
        upload_batch: int = UPLOAD_BATCH,
        printers: LocalPrinters | dict[str, str] | None = None,
        port_factory: Callable[..., Any] | None = None,
        printer_factory: Callable[[str], Any] | None = None,
        printing: bool = True,
        min_empty_pause: float = MIN_EMPTY_PAUSE,
    ) -> None:
        self.client = client
        self.station = client.station
        self.state_dir = Path(state_dir)
        self.scanner_url = scanner_url
        self.wait = wait
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.scanner_backoff_max = scanner_backoff_max
        self.upload_batch = upload_batch
        self.port_factory = port_factory
        if not isinstance(printers, LocalPrinters):
            printers = LocalPrinters(printers or {}, factory=printer_factory)
        elif printer_factory is not None:
            printers = LocalPrinters({name: printers.url(name) for name in printers.names()}, factory=printer_factory)
        self.printers = printers
        # A PC without printers must not claim jobs it can only fail.
        self.printing = printing and bool(printers)
        self.min_empty_pause = min_empty_pause
        self.stop_event = threading.Event()
        self._scanned = threading.Event()
        self._threads: list[threading.Thread] = []
        self._scanner: Any = None
        self._lock_file: Any = None
        self.scans: Spool | None = None
        self.outcomes: Spool | None = None
        #: for tests and the status line: how many scans were uploaded, jobs printed
        self.uploaded = 0
        self.printed = 0

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Take the state directory, start the threads. Raises RuntimeError when another agent holds the state
        directory."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        self.scans = Spool(self.state_dir / "scans.jsonl")
        self.outcomes = Spool(self.state_dir / "outcomes.jsonl")
        if len(self.scans):
            log.info("%d scans from before are waiting to be sent", len(self.scans))
        self._spawn(self._upload_loop, "uploader")
        if self.printing:
            self._spawn(self._print_loop, "printer")
        if self.scanner_url:
            from devices.serial_scanner import SerialScanner  # pyserial's threads only when there is a scanner

            self._scanner = SerialScanner(
                self.scanner_url,
                on_scan=self.on_scan,
                on_state=self._on_scanner_state,
                port_factory=self.port_factory,
                backoff_max=self.scanner_backoff_max,
            )
            self._scanner.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop every thread; True when they all ended within ``timeout`` s. Safe from any thread, twice."""
        self.stop_event.set()
        self._scanned.set()
        self.client.abort()
        ok = True
        if self._scanner is not None:
            ok = self._scanner.stop(timeout=min(timeout, 2.0)) and ok
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
                ok = ok and not thread.is_alive()
        self._release_lock()
        return ok

    def run(self) -> None:
        """Start, then block until :attr:`stop_event` is set (by SIGTERM/SIGINT in the command), then stop."""
        self.start()
        try:
            while not self.stop_event.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self) -> StationAgent:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        def guarded() -> None:
            # A bug in one round must not end the thread: log it and go on after a pause.
            while not self.stop_event.is_set():
                try:
                    target()
                    return
                except Exception:
                    log.exception("%s: unexpected error; going on", name)
                    self.stop_event.wait(self.backoff_max)

        thread = threading.Thread(target=guarded, name=f"station-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _take_lock(self) -> None:
        import fcntl

        f = open(self.state_dir / "agent.lock", "a+")  # noqa: SIM115 (held for the agent's lifetime)
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise RuntimeError(
                f"another station agent uses {self.state_dir} (station {self.station}); stop it first"
            ) from None
        self._lock_file = f

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the flock
            self._lock_file = None

    # -- scans -----------------------------------------------------------------------------------------------

    def on_scan(self, code: str) -> None:
        """A code from the scanner: spooled (durably) at once, uploaded by the uploader thread."""
        assert self.scans is not None
        code = code.replace("\x00", "")
        entry = {"client_id": str(uuid.uuid4()), "code": code, "scanned_at": _now_iso()}
        self.scans.add(entry)
        log.info("scan %s: %s", code, _describe_scan(code))
        self._scanned.set()

    def _on_scanner_state(self, state: Any, reason: str) -> None:
        if str(state) == "connected":
            log.info("scanner ready (%s)", reason)
        else:
            log.warning("scanner not connected: %s", reason)

    def _upload_loop(self) -> None:
        assert self.scans is not None
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        while not self.stop_event.is_set():
            self._scanned.clear()
            batch = self.scans.pending(self.upload_batch)
            if not batch:
                self._scanned.wait(1.0)
                continue
            unstorable = [e for e in batch if not str(e.get("code", "")).strip() or len(e["code"]) > MAX_CODE]
            if unstorable:
                self._set_aside(unstorable, f"the code is blank or longer than {MAX_CODE} characters")
                continue
            try:
                self.client.upload(batch)
            except ServerUnreachable as exc:
                if self.stop_event.is_set():
                    return
                delay = backoff.next()
                log.warning("server unreachable (%s): %d scans kept, retrying in %.0f s", exc, len(self.scans), delay)
                self.stop_event.wait(delay)
                continue
            except ServerRefused as exc:
                if exc.status == 422:
                    # Scans that can never be stored: keep them aside, or they would block the spool for good.
                    self._set_aside(_invalid_entries(batch, exc.details), exc.message)
                    continue
                # 401/403/404: the token or the station is wrong; keep the scans until someone fixes it.
                delay = self.backoff_max
                log.error("server refused the scans: %s; %d scans kept, retrying in %.0f s", exc, len(batch), delay)
                self.stop_event.wait(delay)
                continue
            self.scans.remove([e["client_id"] for e in batch])
            self.uploaded += len(batch)
            backoff.reset()
            log.info("sent %d scan%s to the server", len(batch), "" if len(batch) == 1 else "s")

    def _set_aside(self, entries: list[dict[str, Any]], why: str) -> None:
        assert self.scans is not None
        rejected = Spool(self.state_dir / "rejected.jsonl")
        for entry in entries:
            rejected.add(entry | {"rejected": why})
        self.scans.remove([e["client_id"] for e in entries])
        log.error("%d scans refused by the server (%s): kept in %s", len(entries), why, rejected.path)

    # -- printing --------------------------------------------------------------------------------------------

    def _print_loop(self) -> None:
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                self._flush_outcomes()
                answer = self.client.poll_jobs(wait=self.wait)
            except ServerUnreachable as exc:
                if self.stop_event.is_set():
                    return
                delay = backoff.next()
                log.warning("server unreachable (%s): retrying in %.0f s", exc, delay)
                self.stop_event.wait(delay)
                continue
            except ServerRefused as exc:
                log.error("server refused to hand out jobs: %s; retrying in %.0f s", exc, self.backoff_max)
                self.stop_event.wait(self.backoff_max)
                continue
            backoff.reset()
            for job in answer.jobs:
                if self.stop_event.is_set():
                    break  # claimed but not started: the lease runs out and the job is handed out again
                self.print_job(job)
            if not answer.jobs:
                self.stop_event.wait(self.pause_after_empty(answer, time.monotonic() - started))

    def pause_after_empty(self, answer: JobsAnswer, elapsed: float) -> float:
        """Seconds to wait before the next poll after an empty answer that took ``elapsed`` s: at least
        :data:`MIN_EMPTY_PAUSE` when the answer came back before the long poll's wait was up (a server that does
        not hold polls, or ``--wait 0``), so the agent never spins; at least the server's ``retry_after`` (a little
        jitter, so that agents sent away together do not all come back together); else none."""
        pause = self.min_empty_pause if elapsed < max(float(self.wait), self.min_empty_pause) else 0.0
        if answer.retry_after is not None:
            pause = max(pause, answer.retry_after * random.uniform(1.0, 1.1))  # noqa: S311 (not cryptography)
        return pause

    def print_job(self, job: dict[str, Any]) -> str:
        """Print one job from the server on the printer of this PC it names, and report it; returns the outcome
        reported (or ``skipped``). A job naming a printer this PC does not have is reported ``failed``: nothing is
        opened or written for it. Whatever else the job carries (a URL, a path) is never used."""
        job_id = job.get("id")
        attempt = job.get("attempt")
        printer_info = job.get("printer")
        name = printer_info.get("name") if isinstance(printer_info, dict) else None
        name = name if isinstance(name, str) else "?"
        ref = f", {job['reference']}" if isinstance(job.get("reference"), str) and job["reference"] else ""
        what = f"job {job_id} ({job.get('kind') or 'label'}{ref})"
        if isinstance(job_id, bool) or not isinstance(job_id, int) or job_id <= 0:
            log.error("a job without a valid id from the server: ignored")
            return "skipped"
        if attempt is not None and (isinstance(attempt, bool) or not isinstance(attempt, int)):
            attempt = None

        def final(outcome: str, reason: str | None, extra: str = "") -> str:
            return self._final(job_id, attempt, outcome, reason, f"{what} on {name}{extra}")

        if name not in self.printers:
            return final("failed", f"printer {name} is not configured on this station ({self.station})")
        try:
            data = base64.b64decode(job["content_base64"], validate=True)
            copies = job.get("copies", 1)
            if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
                raise ValueError(f"copies must be 1-{MAX_COPIES}, not {copies!r}")
            printer = self.printers.open(name)
        except (KeyError, ValueError, TypeError) as exc:
            return final("failed", f"cannot print this job here: {exc}")
        wanted = FORMATS.get(str(job.get("content_type") or "").split(";")[0].strip())
        if wanted is not None and getattr(printer, "format", wanted) != wanted:
            return final("failed", f"printer {name} on this station takes {printer.format}, the job is {wanted}")
        # Ask first: a printer on port 9100 takes a job blindly even with its paper out.
        try:
            status = printer.status()
        except PrinterError as exc:
            return final("failed", str(exc))
        if not status.ready:
            return final("not_ready", state_text(status))
        try:
            self.client.report(job_id, "sending", attempt=attempt)
        except ServerUnreachable as exc:
            # Sending without the server knowing could print twice; the job is handed out again later.
            log.warning("%s not printed: the server is unreachable (%s)", what, exc)
            return "skipped"
        except ServerRefused as exc:
            log.warning("%s not printed: %s", what, exc.message)  # cancelled, or handed to someone else
            return "skipped"
        title = job.get("reference") if isinstance(job.get("reference"), str) else None
        try:
            printer.send(data, copies, title=title or f"job {job_id}")
        except PrinterNotReady as exc:
            return final("not_ready", state_text(exc.status))
        except (PrinterError, ValueError, TypeError) as exc:
            return final("failed", str(exc) or type(exc).__name__)
        self.printed += 1
        return final("printed", None, f" ({copies} copies)" if copies > 1 else "")

    def _final(self, job_id: int, attempt: int | None, outcome: str, reason: str | None, what: str) -> str:
        """Spool a final outcome (durably) and try to send it now; the printer loop retries until it is sent."""
        assert self.outcomes is not None
        if outcome == "printed":
            log.info("%s: printed", what)
        elif outcome == "not_ready":
            log.warning("%s: printer not ready (%s), will try again", what, reason)
        else:
            log.error("%s: failed: %s", what, reason)
        entry = {
            "client_id": f"{job_id}:{outcome}:{uuid.uuid4().hex[:8]}",
            "job_id": job_id,
            "attempt": attempt,
            "outcome": outcome,
            "reason": reason,
        }
        self.outcomes.add(entry)
        with contextlib.suppress(ServerUnreachable, ServerRefused):
            self._flush_outcomes()
        return outcome

    def _flush_outcomes(self) -> None:
        """Send spooled outcomes, oldest first. Raises ServerUnreachable, or ServerRefused for a token the server
        does not take (401/403); they stay spooled."""
        assert self.outcomes is not None
        for entry in self.outcomes.pending():
            try:
                self.client.report(entry["job_id"], entry["outcome"], entry.get("reason"), entry.get("attempt"))
            except ServerRefused as exc:
                if exc.status in (401, 403):
                    raise
                # The job was cancelled or given up meanwhile: nothing to record any more.
                log.warning("job %s: the server did not take %r: %s", entry["job_id"], entry["outcome"], exc.message)
            self.outcomes.remove([entry["client_id"]])
