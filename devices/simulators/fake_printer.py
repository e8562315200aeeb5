"""A fake ZPL label printer on loopback TCP, for tests and for trying the WMS without a Zebra.

It behaves like a networked Zebra on port 9100 as far as the WMS can tell: it collects formats (``^XA ... ^XZ``),
honours ``^PQ`` (copies), answers ``~HS`` with the three ``<STX>...<ETX><CR><LF>`` strings, and can be put in the
states a real printer gets into:

- ``ready``: prints what it receives (and what it had buffered);
- ``paper_out``, ``head_open``, ``ribbon_out``, ``paused``: answers ``~HS`` with the flag set; formats it receives
  are buffered (counted in ``~HS`` string 1 field 5) and printed once it is back to ready;
- ``silent``: accepts connections but never answers ``~HS`` (what many real printers do with paper out).

Command line: ``python -m devices.simulators.fake_printer --port 9100`` prints each label as it arrives; type
``paper out``, ``head open``, ``ribbon out``, ``paused``, ``silent``, ``ready``, ``status``, ``labels`` or
``quit`` on stdin.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import re
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FakePrinter", "PrintedFormat", "PrinterMode"]

_PQ_RE = re.compile(rb"\^PQ(\d*)")


class PrinterMode(enum.StrEnum):
    READY = "ready"
    PAPER_OUT = "paper_out"
    HEAD_OPEN = "head_open"
    RIBBON_OUT = "ribbon_out"
    PAUSED = "paused"
    SILENT = "silent"


@dataclass(frozen=True)
class PrintedFormat:
    zpl: str
    copies: int


class FakePrinter:
    """A loopback ZPL printer. Thread-safe: tests call :meth:`set_state` and read :attr:`labels` while clients
    print from other threads."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state: PrinterMode | str = PrinterMode.READY,
        on_print: Callable[[PrintedFormat], object] | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.on_print = on_print
        self._mode = PrinterMode(state)
        self._formats: list[PrintedFormat] = []
        self._pending: list[bytes] = []
        self._cond = threading.Condition()
        self._server: socket.socket | None = None
        self._port: int | None = None
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._running = threading.Event()
        self.status_queries = 0
        self.connections = 0
        self.received = bytearray()

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> FakePrinter:
        """Listen and serve on background threads; returns self. Raises OSError if the port is taken."""
        server = socket.create_server((self.host, self.requested_port), reuse_port=False)
        server.settimeout(0.1)  # so the accept loop notices stop() quickly
        self._server = server
        self._port = server.getsockname()[1]
        self._running.set()
        thread = threading.Thread(target=self._accept_loop, name="fake-printer", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; returns within about 0.2 s."""
        self._running.clear()
        if self._server is not None:
            self._server.close()
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(2)

    def __enter__(self) -> FakePrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("not started")
        return self._port

    @property
    def url(self) -> str:
        """The printer URL for :func:`devices.printers.open_printer`."""
        return f"zpl+tcp://{self.host}:{self.port}"

    # -- state and results -----------------------------------------------------------------------------------

    @property
    def state(self) -> PrinterMode:
        return self._mode

    def set_state(self, state: PrinterMode | str) -> None:
        """Change state (a :class:`PrinterMode` or its value; spaces allowed: "paper out"). Back to ready prints
        what was buffered."""
        mode = PrinterMode(str(state).strip().lower().replace(" ", "_"))
        with self._cond:
            self._mode = mode
            if mode is PrinterMode.READY:
                pending, self._pending = self._pending, []
                for fmt in pending:
                    self._print(fmt)

    @property
    def formats(self) -> list[PrintedFormat]:
        """Formats printed so far, each once, with its copy count."""
        with self._cond:
            return list(self._formats)

    @property
    def labels(self) -> list[str]:
        """Labels printed so far: each format repeated as many times as its ``^PQ`` asked."""
        with self._cond:
            return [fmt.zpl for fmt in self._formats for _ in range(fmt.copies)]

    @property
    def pending(self) -> list[str]:
        """Formats received but not printed (the printer was not ready)."""
        with self._cond:
            return [fmt.decode("utf-8", "replace") for fmt in self._pending]

    def wait_for_labels(self, count: int, timeout: float = 2.0) -> bool:
        """Block until at least ``count`` labels are printed or ``timeout`` s pass; True if they were."""
        with self._cond:
            return self._cond.wait_for(lambda: sum(f.copies for f in self._formats) >= count, timeout)

    def clear(self) -> None:
        """Forget printed and buffered formats and counters."""
        with self._cond:
            self._formats.clear()
            self._pending.clear()
            self.received.clear()
            self.status_queries = 0

    def host_status(self) -> bytes:
        """The ``~HS`` answer for the current state."""
        with self._cond:
            mode, buffered = self._mode, len(self._pending)
        paper = int(mode is PrinterMode.PAPER_OUT)
        pause = int(mode is PrinterMode.PAUSED)
        head = int(mode is PrinterMode.HEAD_OPEN)
        ribbon = int(mode is PrinterMode.RIBBON_OUT)
        one = f"030,{paper},{pause},1218,{buffered:03d},0,0,0,000,0,0,0"
        two = f"000,0,{head},{ribbon},1,2,6,0,00000000,1,000"  # field 5 = 1: thermal-transfer mode
        three = "1234,0"
        return b"".join(b"\x02" + s.encode() + b"\x03\r\n" for s in (one, two, three))

    # -- serving ---------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._server is not None
        while self._running.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                break  # server socket closed by stop()
            with self._cond:
                self.connections += 1
                self._conns.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), name="fake-printer-conn", daemon=True)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        buffer = bytearray()
        try:
            while self._running.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                with self._cond:
                    self.received += chunk
                buffer += chunk
                self._process(buffer, conn)
        finally:
            with self._cond:
                self._conns.discard(conn)
            conn.close()

    def _process(self, buffer: bytearray, conn: socket.socket) -> None:
        # Tilde commands act as soon as they arrive, even in the middle of a format (as on a real printer: that
        # is why label data must escape "~").
        while (at := buffer.find(b"~HS")) >= 0:
            del buffer[at : at + 3]
            with self._cond:
                self.status_queries += 1
                silent = self._mode is PrinterMode.SILENT
            if not silent:
                try:
                    conn.sendall(self.host_status())
                except OSError:
                    return
        while True:
            start = buffer.find(b"^XA")
            if start < 0:
                del buffer[:-2]  # keep a possible "^X" / "~H" split across reads
                return
            end = buffer.find(b"^XZ", start + 3)
            if end < 0:
                del buffer[:start]
                return
            fmt = bytes(buffer[start : end + 3])
            del buffer[: end + 3]
            with self._cond:
                if self._mode is PrinterMode.READY:
                    self._print(fmt)
                else:
                    self._pending.append(fmt)

    def _print(self, fmt: bytes) -> None:
        # Called with self._cond held.
        match = _PQ_RE.search(fmt)
        copies = max(1, int(match.group(1) or 1)) if match else 1
        printed = PrintedFormat(fmt.decode("utf-8", "replace"), copies)
        self._formats.append(printed)
        self._cond.notify_all()
        if self.on_print is not None:
            self.on_print(printed)


COMMANDS = {
    "ready": PrinterMode.READY,
    "paper out": PrinterMode.PAPER_OUT,
    "head open": PrinterMode.HEAD_OPEN,
    "ribbon out": PrinterMode.RIBBON_OUT,
    "paused": PrinterMode.PAUSED,
    "pause": PrinterMode.PAUSED,
    "silent": PrinterMode.SILENT,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A fake ZPL label printer (raw TCP, like port 9100).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9100, help="TCP port (0 = any free port)")
    parser.add_argument("--state", default="ready", choices=[m.value for m in PrinterMode])
    parser.add_argument("--quiet", action="store_true", help="do not print the ZPL of each label")
    args = parser.parse_args(argv)

    def show(fmt: PrintedFormat) -> None:
        print(f"printed {fmt.copies} x {len(fmt.zpl)} bytes", flush=True)
        if not args.quiet:
            print(fmt.zpl, flush=True)

    printer = FakePrinter(args.host, args.port, state=args.state, on_print=show).start()
    print(
        f"fake ZPL printer on {printer.url} ({printer.state}); commands: {', '.join(COMMANDS)}, status, labels, quit",
        flush=True,
    )
    try:
        for line in sys.stdin:
            command = " ".join(line.lower().split())
            if command in ("quit", "exit"):
                break
            if command in COMMANDS:
                printer.set_state(COMMANDS[command])
                print(f"state: {printer.state}", flush=True)
            elif command == "status":
                print(
                    f"state: {printer.state}; printed {len(printer.labels)} labels, "
                    f"{len(printer.pending)} formats waiting",
                    flush=True,
                )
            elif command == "labels":
                for number, zpl in enumerate(printer.labels, 1):
                    print(f"--- {number}\n{zpl}", flush=True)
            elif command:
                print(f"unknown command {command!r}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        printer.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
