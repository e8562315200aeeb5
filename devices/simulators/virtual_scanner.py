"""A virtual serial barcode scanner on a pseudo-terminal, for tests and for trying the station agent without
hardware.

The reader opens :attr:`VirtualScanner.port` as an ordinary serial port (``/dev/pts/N``, or the ``link`` path
you chose). ``unplug()`` closes the pty like a USB scanner being pulled out (the reader's next read fails), and
``replug()`` makes a new one. A pty gets a new ``/dev/pts/N`` each time, so pass ``link=`` for a stable path: it is
a symlink re-pointed on every replug, the way ``/dev/serial/by-id/...`` behaves (and what
``socat pty,link=...`` would give, without needing socat).

Command line: ``python -m devices.simulators.virtual_scanner [--link PATH]`` prints the port, then every line
typed on stdin is scanned; ``!unplug``, ``!replug`` and ``!quit`` do what they say.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
import tty

__all__ = ["VirtualScanner"]

TERMINATORS = {"cr": "\r", "lf": "\n", "crlf": "\r\n", "none": ""}


class VirtualScanner:
    """A pty pair whose far end behaves like a scanner's serial port. Thread-safe; POSIX only."""

    def __init__(self, link: str | os.PathLike[str] | None = None) -> None:
        self.link = os.fspath(link) if link is not None else None
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_path = ""
        self._lock = threading.Lock()

    @property
    def port(self) -> str:
        """The path to open as the scanner's serial port (the link when one was given)."""
        return self.link or self._slave_path

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> str:
        """Create the pty (and link); return :attr:`port`. Does not block."""
        with self._lock:
            if self._master is None:
                self._plug()
        return self.port

    def write(self, data: bytes) -> None:
        """Send raw bytes as the scanner would. Raises OSError when unplugged."""
        with self._lock:
            if self._master is None:
                raise OSError("virtual scanner is unplugged")
            view = memoryview(data)
            while view:
                view = view[os.write(self._master, view) :]

    def scan(
        self, code: str, terminator: str = "\r\n", *, split: bool = False, chunk: int = 2, delay: float = 0.005
    ) -> None:
        """Send ``code`` plus ``terminator``. With ``split=True`` the bytes go out ``chunk`` at a time with
        ``delay`` s between them (the reader then gets the code in pieces); blocks for that long."""
        data = (code + terminator).encode()
        if not split:
            self.write(data)
            return
        for start in range(0, len(data), max(1, chunk)):
            self.write(data[start : start + chunk])
            time.sleep(delay)

    def unplug(self) -> None:
        """Take the scanner away: the link disappears and a reader's next read fails. Does not block."""
        with self._lock:
            if self.link is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.link)
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    def replug(self) -> str:
        """Plug a (new) scanner back in; return :attr:`port`."""
        self.unplug()
        return self.start()

    def close(self) -> None:
        """Unplug for good (same as :meth:`unplug`)."""
        self.unplug()

    def __enter__(self) -> VirtualScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _plug(self) -> None:
        master, slave = os.openpty()
        # Raw, no echo: otherwise the line discipline turns CR into LF and echoes everything back into the master,
        # which nobody reads, until writes block.
        tty.setraw(slave)
        tty.setraw(master)
        self._master, self._slave = master, slave
        self._slave_path = os.ttyname(slave)
        if self.link is not None:
            tmp = f"{self.link}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self._slave_path, tmp)
            os.replace(tmp, self.link)  # atomic: a reader never sees a half-made link


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A virtual serial barcode scanner on a pty.")
    parser.add_argument("--link", help="stable path to create as a symlink to the pty (e.g. /tmp/ttyScanner)")
    parser.add_argument("--terminator", choices=sorted(TERMINATORS), default="crlf")
    parser.add_argument("--split", action="store_true", help="send each code in small pieces")
    args = parser.parse_args(argv)
    terminator = TERMINATORS[args.terminator]
    with VirtualScanner(args.link) as scanner:
        print(f"virtual scanner on {scanner.port}  (type codes; !unplug, !replug, !quit)", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "!quit":
                break
            if command == "!unplug":
                scanner.unplug()
                print("unplugged", flush=True)
            elif command == "!replug":
                print(f"replugged on {scanner.replug()}", flush=True)
            elif command:
                try:
                    scanner.scan(command, terminator, split=args.split)
                except OSError as exc:
                    print(f"not sent: {exc}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
