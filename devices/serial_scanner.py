"""Read barcodes from a serial (or USB-CDC, or serial-over-TCP) scanner with pyserial.

The port is any pyserial URL: ``/dev/ttyACM0`` (prefer ``/dev/serial/by-id/...`` in production: stable across
replugs), ``socket://HOST:PORT`` for serial-to-Ethernet converters, ``loop://`` in tests.

Scanners end each code with CR, LF or CRLF (configurable on the scanner); codes arrive split across reads. The
reader reads whatever is waiting in short, timed reads, frames on any of the three terminators and reconnects with
capped exponential backoff when the device goes away (unplugged, USB reset, converter rebooted).

Hardware limitation: opening a port flushes its input queue, and nothing reads while the device is unplugged, so
codes scanned while the reader is disconnected or reconnecting are lost. The scan page must show the scanner's
state (``on_state``) so that people re-scan.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import serial

__all__ = ["LineFramer", "PortFactory", "ScannerState", "SerialScanner", "default_port_factory"]

log = logging.getLogger(__name__)

_TERMINATOR_RE = re.compile(rb"\r\n|\r|\n")


class ScannerState(enum.StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class SerialPort(Protocol):
    """The part of ``serial.SerialBase`` the reader uses."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...


#: ``factory(url, baudrate, timeout)`` returns an open port whose ``read`` waits at most ``timeout`` seconds.
PortFactory = Callable[[str, int, float], SerialPort]


def default_port_factory(url: str, baudrate: int, timeout: float) -> SerialPort:
    """Open ``url`` with pyserial. Raises SerialException/OSError when the device is absent, ValueError for a
    malformed URL."""
    return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)


class LineFramer:
    """Split a byte stream into codes on CR, LF or CRLF; pure and not thread-safe.

    Empty and blank frames are dropped, which also makes a CRLF split across two reads one terminator: the CR ends
    the code at once (no waiting for a possible LF) and the LF then ends an empty frame.
    A frame longer than ``max_length`` without a terminator is discarded (a scanner with no suffix configured,
    or line noise), so memory stays bounded.
    """

    def __init__(self, *, encoding: str = "utf-8", max_length: int = 4096) -> None:
        self.encoding = encoding
        self.max_length = max_length
        self._buffer = b""
        self.discarded = 0

    @property
    def pending(self) -> bytes:
        """Bytes received since the last terminator."""
        return self._buffer

    def feed(self, data: bytes) -> list[str]:
        """Add ``data``; return the complete codes it finished, oldest first."""
        if not data:
            return []
        parts = _TERMINATOR_RE.split(self._buffer + data)
        self._buffer = parts.pop()
        if len(self._buffer) > self.max_length:
            self._buffer = b""
            self.discarded += 1
        return [code for code in map(self._decode, parts) if code]

    def flush(self) -> str | None:
        """Return the pending bytes as a code (for scanners that send no terminator) and start afresh."""
        code = self._decode(self._buffer)
        self.reset()
        return code or None

    def reset(self) -> None:
        """Forget a partial code (after a disconnect it is garbage)."""
        self._buffer = b""

    def _decode(self, frame: bytes) -> str:
        return frame.decode(self.encoding, errors="replace").strip()


class SerialScanner:
    """A scanner on a pyserial port, read on the calling thread (:meth:`scans`, :meth:`run`) or on a background
    thread (:meth:`start`). Call :meth:`stop` from any thread; it returns within about ``read_timeout``.

    ``on_scan(code)`` is called for each code (exceptions in it are logged, the reader goes on);
    ``on_state(state, reason)`` on every change between connected and disconnected, and once at the first failed
    open. ``idle_flush`` (seconds) turns bytes followed by silence into a code, for scanners with no suffix.
    """

    def __init__(
        self,
        url: str,
        *,
        on_scan: Callable[[str], Any] | None = None,
        on_state: Callable[[ScannerState, str], Any] | None = None,
        baudrate: int = 9600,
        port_factory: PortFactory | None = None,
        read_timeout: float = 0.1,
        backoff_initial: float = 0.25,
        backoff_max: float = 5.0,
        idle_flush: float | None = None,
        encoding: str = "utf-8",
        max_length: int = 4096,
    ) -> None:
        if read_timeout <= 0:
            raise ValueError("read_timeout must be > 0: a read without a timeout blocks forever")
        self.url = url
        self.on_scan = on_scan
        self.on_state = on_state
        self.baudrate = baudrate
        self.port_factory = port_factory or default_port_factory
        self.read_timeout = read_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.idle_flush = idle_flush
        self.framer = LineFramer(encoding=encoding, max_length=max_length)
        self.state: ScannerState | None = None
        self.reason = ""
        #: how many times the port was opened successfully (1 + reconnects)
        self.connects = 0
        self._stop = threading.Event()
        self._port: SerialPort | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- public API ------------------------------------------------------------------------------------------

    def scans(self) -> Iterator[str]:
        """Yield codes until :meth:`stop`. Blocks between codes (each read waits at most ``read_timeout``), and
        reconnects by itself. Raises ValueError if the port URL itself is invalid (retrying cannot help)."""
        backoff = self.backoff_initial
        try:
            while not self._stop.is_set():
                port = self._open()
                if port is None:
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
                opened = time.monotonic()
                delivered = False
                for code in self._read(port):
                    delivered = True
                    yield code
                # Reset the backoff only after a connection that worked, so a port that opens and fails at once
                # (a flapping USB hub) is not reopened in a tight loop.
                if delivered or time.monotonic() - opened >= self.backoff_max:
                    backoff = self.backoff_initial
                if not self._stop.is_set():
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
        finally:
            self._close()
            self._set_state(ScannerState.DISCONNECTED, "stopped")

    def run(self) -> None:
        """Read until :meth:`stop`, calling ``on_scan`` for each code. Blocks; raises ValueError for a bad URL."""
        for code in self.scans():
            if self.on_scan is None:
                continue
            try:
                self.on_scan(code)
            except Exception:  # a bug in the consumer must not stop the scanner
                log.exception("on_scan(%r) failed", code)

    def start(self) -> threading.Thread:
        """Run :meth:`run` on a daemon thread and return it. Does not block."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("scanner already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run_logged, name=f"scanner {self.url}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 2.0) -> bool:
        """Ask the reader to stop and wait up to ``timeout`` s for the background thread; True when it ended.
        Safe to call from any thread, more than once."""
        self._stop.set()
        with self._lock:
            port = self._port
        cancel = getattr(port, "cancel_read", None)
        if cancel is not None:
            # Wakes a read blocked in select() at once; the port may be half-closed by the reader thread right now.
            with contextlib.suppress(Exception):
                cancel()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called (until the next :meth:`start`)."""
        return self._stop.is_set()

    def __enter__(self) -> SerialScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------------------------------

    def _run_logged(self) -> None:
        try:
            self.run()
        except Exception as exc:
            log.exception("scanner %s stopped", self.url)
            self._set_state(ScannerState.DISCONNECTED, f"stopped: {exc}")

    def _open(self) -> SerialPort | None:
        try:
            port = self.port_factory(self.url, self.baudrate, self.read_timeout)
        except (serial.SerialException, OSError) as exc:
            self._set_state(ScannerState.DISCONNECTED, f"cannot open {self.url}: {exc}")
            return None
        with self._lock:
            self._port = port
        if self._stop.is_set():  # stop() raced with the open: it could not cancel this port
            self._close()
            return None
        self.connects += 1
        self.framer.reset()
        self._set_state(ScannerState.CONNECTED, f"connected to {self.url}")
        return port

    def _read(self, port: SerialPort) -> Iterator[str]:
        last_data = time.monotonic()
        quick_empty = 0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                # TypeError/AttributeError: pyserial's posix port after close() from another thread (fd is None).
                self._close()
                if not self._stop.is_set():
                    self._set_state(ScannerState.DISCONNECTED, f"lost {self.url}: {exc}")
                return
            now = time.monotonic()
            if data:
                quick_empty = 0
                last_data = now
                for code in self.framer.feed(data):
                    if self._stop.is_set():  # stop() means no more codes, even from the chunk in hand
                        return
                    yield code
                continue
            if self.idle_flush is not None and self.framer.pending and now - last_data >= self.idle_flush:
                code = self.framer.flush()
                if code:
                    yield code
            # A port whose read() returns at once with nothing (timeout=0 from a custom factory) would spin a core.
            if now - started < self.read_timeout / 4:
                quick_empty += 1
                if quick_empty > 3:
                    self._stop.wait(self.read_timeout)
            else:
                quick_empty = 0

    def _close(self) -> None:
        with self._lock:
            port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):  # closing a vanished device can fail; it is gone either way
                port.close()
        self.framer.reset()

    def _set_state(self, state: ScannerState, reason: str) -> None:
        if state == self.state:
            return
        self.state, self.reason = state, reason
        log.info("scanner %s: %s (%s)", self.url, state, reason)
        if self.on_state is not None:
            try:
                self.on_state(state, reason)
            except Exception:
                log.exception("on_state(%s) failed", state)
