"""Label and document printers: one ``send``/``status`` interface over every transport the WMS supports.

``open_printer(url)`` takes the printer URLs of ``wms printer add``:

=====================================  ======================================================================
URL                                    transport
=====================================  ======================================================================
``zpl+tcp://HOST:9100``                raw ZPL over TCP (port defaults to 9100): connect, ``~HS``, send, shut
                                       down the write side
``zpl+serial:///dev/ttyUSB0?baud=9600`` ZPL over a serial port (pyserial). ``?url=<pyserial URL>`` instead of a
                                       path takes any pyserial URL (``socket://HOST:PORT``, ``loop://``);
                                       ``xonxoff=1``, ``rtscts=1``, ``dsrdtr=1`` set flow control
``zpl+file:///dev/usb/lp0``            ZPL appended to a device or file; no status (sent blindly)
``cups://QUEUE``                       raw ZPL through a CUPS queue (``lp -d QUEUE -o raw``)
``pdf+cups://QUEUE``                   PDF documents through CUPS (``lp -d QUEUE -n COPIES``)
``pdf+dir:///path``                    PDF files written atomically into a directory (hot folder)
=====================================  ======================================================================

Every URL also takes ``?timeout=SECONDS`` (default 5). ZPL over TCP and serial (unless ``?status=none``) ask the
printer ``~HS`` before each job and send only when it is ready: port 9100 accepts jobs blindly even with paper
out, and a printer with paper or ribbon out or the head open often does not answer at all, so **no answer within
the timeout means not ready**, never "ok". Over TCP, ``send`` then waits (at most min(timeout, 0.5 s)) for the
printer to close the connection, so that closing never resets a connection the printer is still reading.

Errors: :class:`PrinterNotReady` (``retryable = True``: paper out, head open, paused, no answer, unreachable; try
again later) and :class:`PrinterError` (``retryable = False``: a permanent problem, e.g. an unknown CUPS queue or
no ``lp`` program). A malformed URL raises ``ValueError`` from :func:`open_printer`; data of the wrong kind
(PDF to a ZPL printer or the reverse) raises ``ValueError`` from ``send``.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import serial

__all__ = [
    "CupsPrinter",
    "PdfDirPrinter",
    "Printer",
    "PrinterError",
    "PrinterNotReady",
    "PrinterState",
    "PrinterStatus",
    "ZplFilePrinter",
    "ZplSerialPrinter",
    "ZplTcpPrinter",
    "open_printer",
    "parse_host_status",
    "with_copies",
]

DEFAULT_TIMEOUT = 5.0
DEFAULT_ZPL_PORT = 9100
STX, ETX = b"\x02", b"\x03"
_HS_STRING_RE = re.compile(rb"\x02([^\x02\x03]*)\x03")
_FORMAT_RE = re.compile(rb"\^XA.*?\^XZ", re.DOTALL | re.IGNORECASE)
_PQ_RE = re.compile(rb"\^PQ(\d*)", re.IGNORECASE)
_MAX_COPIES = 99_999_999  # ^PQ's limit
_QUEUE_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,127}$")
_UNKNOWN_QUEUE_RE = re.compile(r"does not exist|invalid destination|unknown destination", re.IGNORECASE)


class PrinterState(enum.StrEnum):
    READY = "ready"
    PAPER_OUT = "paper_out"
    HEAD_OPEN = "head_open"
    RIBBON_OUT = "ribbon_out"
    PAUSED = "paused"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class PrinterStatus:
    """What a printer said about itself. ``reason`` is for people: "paper out", "head open, paper out",
    "no answer", "unreachable: connection refused"."""

    state: PrinterState
    reason: str
    formats_in_buffer: int | None = None
    raw: bytes = b""

    @property
    def ready(self) -> bool:
        return self.state is PrinterState.READY

    def __str__(self) -> str:
        return self.reason

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the raw answer)."""
        return {"state": str(self.state), "reason": self.reason, "formats_in_buffer": self.formats_in_buffer}


READY = PrinterStatus(PrinterState.READY, "ready")


def unreachable(why: str) -> PrinterStatus:
    return PrinterStatus(PrinterState.UNREACHABLE, f"unreachable: {why}")


class PrinterError(Exception):
    """A printing problem that waiting will not fix (bad configuration, unknown queue, no ``lp``)."""

    retryable: ClassVar[bool] = False


class PrinterNotReady(PrinterError):
    """The printer cannot print now (paper out, head open, paused, no answer, unreachable); retry later."""

    retryable: ClassVar[bool] = True

    def __init__(self, status: PrinterStatus, url: str = "") -> None:
        self.status = status
        self.url = url
        where = f"printer {url}" if url else "printer"
        super().__init__(f"{where} not ready: {status.reason}")


# --- ZPL helpers --------------------------------------------------------------------------------------------


def parse_host_status(raw: bytes) -> PrinterStatus | None:
    """Interpret a ``~HS`` answer (three ``<STX>...<ETX><CR><LF>`` strings); None when it has fewer than the two
    strings that carry the flags, or they are malformed. Pure.

    String 1 field 2 = paper out, field 3 = pause, field 5 = formats in the receive buffer; string 2 field 3 =
    head open, field 4 = ribbon out (only believed in thermal-transfer mode, field 5, when that field is present:
    direct-thermal printers have no ribbon).
    """
    strings = _HS_STRING_RE.findall(raw)
    if len(strings) < 2:
        return None
    one = strings[0].decode("ascii", "replace").split(",")
    two = strings[1].decode("ascii", "replace").split(",")
    if len(one) < 3 or len(two) < 4:
        return None
    flags: list[tuple[PrinterState, str]] = []
    if two[2].strip() == "1":
        flags.append((PrinterState.HEAD_OPEN, "head open"))
    if one[1].strip() == "1":
        flags.append((PrinterState.PAPER_OUT, "paper out"))
    if two[3].strip() == "1" and (len(two) < 5 or two[4].strip() == "1"):
        flags.append((PrinterState.RIBBON_OUT, "ribbon out"))
    if one[2].strip() == "1":
        flags.append((PrinterState.PAUSED, "paused"))
    formats = int(one[4]) if len(one) > 4 and one[4].strip().isdigit() else None
    if not flags:
        return PrinterStatus(PrinterState.READY, "ready", formats, raw)
    # The worst problem decides the state (head open > paper out > ribbon out > paused); the reason lists all.
    return PrinterStatus(flags[0][0], ", ".join(text for _, text in flags), formats, raw)


def with_copies(zpl: bytes, copies: int) -> bytes:
    """``zpl`` printing ``copies`` times: each format's ``^PQ`` quantity is multiplied, or ``^PQ<copies>`` is
    added before its ``^XZ``. The printer renders each format once. Raises ValueError for copies < 1."""
    if copies < 1:
        raise ValueError(f"copies must be at least 1, not {copies}")
    if copies == 1:
        return zpl

    def one_format(match: re.Match[bytes]) -> bytes:
        fmt = match.group(0)
        pq = _PQ_RE.search(fmt)
        if pq is None:
            return fmt[:-3] + b"^PQ%d" % copies + fmt[-3:]
        quantity = int(pq.group(1) or 1) * copies
        return fmt[: pq.start()] + b"^PQ%d" % min(quantity, _MAX_COPIES) + fmt[pq.end() :]

    return _FORMAT_RE.sub(one_format, zpl)


def _check_zpl(data: bytes) -> None:
    if not isinstance(data, bytes | bytearray):
        raise TypeError("send() takes bytes")
    if data.lstrip()[:5] == b"%PDF-":
        raise ValueError("this printer takes ZPL, not a PDF document")


def _check_pdf(data: bytes) -> None:
    if not isinstance(data, bytes | bytearray):
        raise TypeError("send() takes bytes")
    if data[:5] != b"%PDF-":
        raise ValueError("this printer takes PDF documents; the data is not a PDF")


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "no route to host"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


# --- printers -----------------------------------------------------------------------------------------------


class Printer(ABC):
    """A printer reached through one transport. ``format`` says what it takes: ``"zpl"`` or ``"pdf"``."""

    format: ClassVar[str]

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout

    @abstractmethod
    def send(self, data: bytes, copies: int = 1, *, title: str | None = None) -> None:
        """Print ``data`` ``copies`` times. Blocks up to about ``timeout`` (plus the transfer). Raises
        PrinterNotReady (retry later), PrinterError (permanent), ValueError (wrong kind of data, copies < 1)."""

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Ask the printer how it is. Blocks up to about ``timeout``; never raises for printer trouble (that is
        the answer)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


class ZplTcpPrinter(Printer):
    """Raw ZPL over TCP (JetDirect, port 9100). One connection per job: ``~HS``, then the job if ready."""

    format = "zpl"

    def __init__(self, url: str, host: str, port: int = DEFAULT_ZPL_PORT, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self.host = host
        self.port = port

    def status(self) -> PrinterStatus:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            return unreachable(_os_reason(exc))
        with sock:
            return self._query(sock)

    def send(self, data: bytes, copies: int = 1, *, title: str | None = None) -> None:
        _check_zpl(data)
        payload = with_copies(bytes(data), copies)
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise PrinterNotReady(unreachable(_os_reason(exc)), self.url) from exc
        with sock:
            status = self._query(sock)
            if not status.ready:
                raise PrinterNotReady(status, self.url)
            try:
                sock.settimeout(self.timeout)
                sock.sendall(payload)
                # Shutting down the write side tells the printer the job is complete.
                sock.shutdown(socket.SHUT_WR)
            except OSError as exc:
                # The job may be partly printed; retrying may print it twice, which beats losing a label.
                lost = unreachable(f"connection lost while sending: {_os_reason(exc)}")
                raise PrinterNotReady(lost, self.url) from exc
            # Read until the printer closes (bounded): closing a socket with unread input (say a late third ~HS
            # string) sends RST, and an RST can make the printer drop the end of the job it has not read yet.
            _drain(sock, min(self.timeout, 0.5))

    def _query(self, sock: socket.socket) -> PrinterStatus:
        deadline = time.monotonic() + self.timeout
        answer = b""
        try:
            sock.sendall(b"~HS")
            while answer.count(ETX) < 3:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                chunk = sock.recv(1024)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass
        except OSError as exc:
            return unreachable(_os_reason(exc))
        return parse_host_status(answer) or _no_answer(answer, self.timeout)


def _drain(sock: socket.socket, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(4096):
                return
    except OSError:  # timeout or reset: the job was handed over; nothing more to learn
        return


def _no_answer(answer: bytes, timeout: float) -> PrinterStatus:
    what = "garbled answer to ~HS" if answer else "no answer"
    return PrinterStatus(PrinterState.NO_ANSWER, f"{what} (waited {timeout:g} s)", None, answer)


SerialFactory = Callable[..., Any]


class ZplSerialPrinter(Printer):
    """ZPL over a serial port. ``port_factory(url, baudrate=..., timeout=..., **flow)`` opens the port (default
    ``serial.serial_for_url``)."""

    format = "zpl"

    def __init__(
        self,
        url: str,
        port_url: str,
        baudrate: int = 9600,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        ask_status: bool = True,
        flow: dict[str, bool] | None = None,
        port_factory: SerialFactory | None = None,
    ) -> None:
        super().__init__(url, timeout)
        self.port_url = port_url
        self.baudrate = baudrate
        self.ask_status = ask_status
        self.flow = flow or {}
        self.port_factory = port_factory or serial.serial_for_url

    def _open(self) -> Any:
        # Short reads so the ~HS wait honours the deadline; writes bounded by the job timeout.
        return self.port_factory(
            self.port_url, baudrate=self.baudrate, timeout=0.05, write_timeout=self.timeout, **self.flow
        )

    def status(self) -> PrinterStatus:
        if not self.ask_status:
            return PrinterStatus(PrinterState.READY, "ready (status not asked: status=none)")
        try:
            port = self._open()
        except (serial.SerialException, OSError) as exc:
            return unreachable(f"cannot open {self.port_url}: {exc}")
        try:
            return self._query(port)
        finally:
            _close_quietly(port)

    def send(self, data: bytes, copies: int = 1, *, title: str | None = None) -> None:
        _check_zpl(data)
        payload = with_copies(bytes(data), copies)
        try:
            port = self._open()
        except (serial.SerialException, OSError) as exc:
            raise PrinterNotReady(unreachable(f"cannot open {self.port_url}: {exc}"), self.url) from exc
        try:
            if self.ask_status:
                status = self._query(port)
                if not status.ready:
                    raise PrinterNotReady(status, self.url)
            port.write(payload)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise PrinterNotReady(unreachable(f"lost {self.port_url} while sending: {exc}"), self.url) from exc
        finally:
            _close_quietly(port)

    def _query(self, port: Any) -> PrinterStatus:
        deadline = time.monotonic() + self.timeout
        answer = b""
        try:
            port.write(b"~HS")
            port.flush()
            while answer.count(ETX) < 3 and time.monotonic() < deadline:
                answer += port.read(max(1, port.in_waiting))
        except (serial.SerialException, OSError) as exc:
            return unreachable(f"lost {self.port_url}: {exc}")
        return parse_host_status(answer) or _no_answer(answer, self.timeout)


def _close_quietly(port: Any) -> None:
    with contextlib.suppress(Exception):  # a vanished device fails to close; it is gone either way
        port.close()


class ZplFilePrinter(Printer):
    """ZPL appended to a file or device node (``/dev/usb/lp0``). No status channel: jobs are sent blindly once the
    path is writable."""

    format = "zpl"

    def __init__(self, url: str, path: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self.path = path

    def status(self) -> PrinterStatus:
        if os.path.exists(self.path):
            if not os.access(self.path, os.W_OK):
                return unreachable(f"{self.path} is not writable")
            return PrinterStatus(PrinterState.READY, "ready (no status from a file)")
        parent = os.path.dirname(self.path) or "."
        if self.path.startswith("/dev/") or not os.path.isdir(parent):
            return unreachable(f"{self.path} does not exist")
        return PrinterStatus(PrinterState.READY, "ready (no status from a file)")

    def send(self, data: bytes, copies: int = 1, *, title: str | None = None) -> None:
        _check_zpl(data)
        payload = with_copies(bytes(data), copies)
        status = self.status()
        if not status.ready:
            raise PrinterNotReady(status, self.url)
        try:
            with open(self.path, "ab") as out:
                out.write(payload)
        except PermissionError as exc:
            raise PrinterError(f"printer {self.url}: permission denied (is the user in the lp group?)") from exc
        except OSError as exc:
            raise PrinterNotReady(unreachable(f"{self.path}: {_os_reason(exc)}"), self.url) from exc


class CupsPrinter(Printer):
    """A CUPS queue through the ``lp``/``lpstat`` commands (Debian ``cups-client``): raw ZPL (``format="zpl"``,
    sent with ``-o raw``) or PDF documents (``format="pdf"``)."""

    def __init__(self, url: str, queue: str, fmt: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self.queue = queue
        self.format = fmt  # type: ignore[misc]  # per instance: one class serves both cups:// and pdf+cups://

    def _run(self, args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        # LC_ALL=C: lp's messages are parsed below.
        env = {**os.environ, "LC_ALL": "C"}
        return subprocess.run(args, input=data, capture_output=True, timeout=self.timeout, env=env, check=False)

    def status(self) -> PrinterStatus:
        return self._status()[0]

    def _status(self) -> tuple[PrinterStatus, bool]:
        """The status, and whether the problem is permanent (no such queue, no lpstat)."""
        try:
            done = self._run(["lpstat", "-p", self.queue])
        except FileNotFoundError:
            return unreachable("lpstat not found (install cups-client)"), True
        except subprocess.TimeoutExpired:
            return unreachable("lpstat timed out (is CUPS running?)"), False
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip() or f"lpstat exited with {done.returncode}"
            if _UNKNOWN_QUEUE_RE.search(err):
                return unreachable(f"no CUPS queue {self.queue} ({err})"), True
            return unreachable(err), False
        if re.search(r"\bdisabled\b", done.stdout.decode(errors="replace")):
            return PrinterStatus(PrinterState.PAUSED, "paused (CUPS queue disabled)"), False
        return READY, False

    def send(self, data: bytes, copies: int = 1, *, title: str | None = None) -> None:
        if copies < 1:
            raise ValueError(f"copies must be at least 1, not {copies}")
        args = ["lp", "-d", self.queue]
        if self.format == "zpl":
            _check_zpl(data)
            data = with_copies(bytes(data), copies)
            args += ["-o", "raw"]
        else:
            _check_pdf(data)
            args += ["-n", str(copies)]
        if title:
            args += ["-t", _printable(title)[:100]]
        if shutil.which("lp") is None:
            raise PrinterError(f"printer {self.url}: lp not found (install cups-client)")
        status, permanent = self._status()
        if permanent:
            raise PrinterError(f"printer {self.url}: {status.reason}")
        if not status.ready:
            raise PrinterNotReady(status, self.url)
        try:
            done = self._run(args, bytes(data))  # the job goes on stdin: no temp file with customer data
        except subprocess.TimeoutExpired as exc:
            raise PrinterNotReady(unreachable("lp timed out (is CUPS running?)"), self.url) from exc
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip() or f"lp exited with {done.returncode}"
            if _UNKNOWN_QUEUE_RE.search(err):
                raise PrinterError(f"printer {self.url}: {err}")
            raise PrinterNotReady(unreachable(err), self.url)


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


class PdfDirPrinter(Printer):
    """PDF documents written into a directory (a hot folder another program prints from). Each copy is a new file
    ``YYYYmmdd-HHMMSS-<title>-<random>.pdf``, written to a hidden temp file and renamed, so a watcher never sees
    half a file."""

    format = "pdf"

    def __init__(self, url: str, directory: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self.directory = directory
        #: the files written by the last send()
        self.last_files: list[str] = []

    def status(self) -> PrinterStatus:
        if not os.path.isdir(self.directory):
            return unreachable(f"directory {self.directory} does not exist")
        if not os.access(self.directory, os.W_OK | os.X_OK):
            return unreachable(f"directory {self.directory} is not writable")
        return READY

    def send(self, data: bytes, copies: int = 1, *, title: str | None = None) -> None:
        if copies < 1:
            raise ValueError(f"copies must be at least 1, not {copies}")
        _check_pdf(data)
        status = self.status()
        if not status.ready:
            raise PrinterNotReady(status, self.url)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", title or "document").strip("-.")[:60] or "document"
        written = []
        for _ in range(copies):
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{uuid.uuid4().hex[:12]}.pdf"
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".pdf.tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                final = os.path.join(self.directory, name)
                os.replace(tmp, final)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise PrinterNotReady(unreachable(f"{self.directory}: {_os_reason(exc)}"), self.url) from exc
            written.append(final)
        self.last_files = written


# --- URL parsing --------------------------------------------------------------------------------------------


def _flag(query: dict[str, list[str]], name: str) -> bool:
    value = query.get(name, ["0"])[-1].lower()
    if value not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ValueError(f"{name}={value!r}: use 1 or 0")
    return value in ("1", "true", "yes", "on")


def open_printer(url: str, *, timeout: float | None = None, serial_factory: SerialFactory | None = None) -> Printer:
    """The printer for ``url`` (forms in the module docstring). Does no I/O and does not block. Raises ValueError
    naming the problem for an unknown scheme or a malformed URL."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"printer URL {url!r}: expected e.g. zpl+tcp://HOST:9100 or pdf+dir:///path")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = parse_qs(parts.query, keep_blank_values=True)
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
        if "timeout" in query:
            try:
                timeout = float(query["timeout"][-1])
            except ValueError:
                raise ValueError(f"printer URL {url!r}: timeout must be a number of seconds") from None
    if not timeout > 0:
        raise ValueError(f"printer URL {url!r}: timeout must be > 0")
    path = unquote(parts.path)

    if scheme == "zpl+tcp":
        try:
            host, port = parts.hostname, parts.port or DEFAULT_ZPL_PORT
        except ValueError:
            raise ValueError(f"printer URL {url!r}: the port must be a number 1-65535") from None
        if not host:
            raise ValueError(f"printer URL {url!r}: no host (expected zpl+tcp://HOST:9100)")
        if path not in ("", "/"):
            raise ValueError(f"printer URL {url!r}: zpl+tcp takes no path")
        return ZplTcpPrinter(url, host, port, timeout)

    if scheme == "zpl+serial":
        port_url = query.get("url", [""])[-1] or path
        if not port_url or port_url == "/":
            raise ValueError(f"printer URL {url!r}: no port (expected zpl+serial:///dev/ttyUSB0?baud=9600)")
        if parts.netloc:
            raise ValueError(f"printer URL {url!r}: use three slashes, zpl+serial:///dev/...")
        try:
            baud = int(query.get("baud", ["9600"])[-1])
        except ValueError:
            raise ValueError(f"printer URL {url!r}: baud must be a number") from None
        if baud <= 0:
            raise ValueError(f"printer URL {url!r}: baud must be positive")
        status_mode = query.get("status", ["hs"])[-1]
        if status_mode not in ("hs", "none"):
            raise ValueError(f"printer URL {url!r}: status must be hs or none")
        flow = {name: _flag(query, name) for name in ("xonxoff", "rtscts", "dsrdtr") if name in query}
        return ZplSerialPrinter(
            url, port_url, baud, timeout, ask_status=status_mode == "hs", flow=flow, port_factory=serial_factory
        )

    if scheme in ("zpl+file", "pdf+dir"):
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"printer URL {url!r}: use three slashes and an absolute path, {scheme}:///path")
        if not path.startswith("/") or path == "/":
            raise ValueError(f"printer URL {url!r}: needs an absolute path, {scheme}:///path")
        if scheme == "zpl+file":
            return ZplFilePrinter(url, path, timeout)
        return PdfDirPrinter(url, path.rstrip("/") or "/", timeout)

    if scheme in ("cups", "pdf+cups"):
        queue = unquote(parts.netloc) or path.strip("/")
        if not _QUEUE_RE.match(queue or ""):
            raise ValueError(f"printer URL {url!r}: expected {scheme}://QUEUE with a CUPS queue name")
        return CupsPrinter(url, queue, "zpl" if scheme == "cups" else "pdf", timeout)

    raise ValueError(
        f"printer URL {url!r}: unknown scheme {parts.scheme!r} "
        "(use zpl+tcp, zpl+serial, zpl+file, cups, pdf+cups or pdf+dir)"
    )
