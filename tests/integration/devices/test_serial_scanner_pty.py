"""SerialScanner reading a real pty (the virtual scanner) with pyserial's default port factory."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.serial_scanner import ScannerState, SerialScanner
from devices.simulators.virtual_scanner import VirtualScanner

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs POSIX ptys")


class Reader:
    def __init__(self, port: str, **kwargs) -> None:
        self.codes: queue.Queue[str] = queue.Queue()
        self.states: list[ScannerState] = []
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        kwargs.setdefault("backoff_initial", 0.02)
        kwargs.setdefault("backoff_max", 0.1)
        self.scanner = SerialScanner(port, on_scan=self.codes.put, on_state=self._state, read_timeout=0.05, **kwargs)

    def _state(self, state: ScannerState, reason: str) -> None:
        self.states.append(state)
        (self.connected if state is ScannerState.CONNECTED else self.disconnected).set()
        (self.disconnected if state is ScannerState.CONNECTED else self.connected).clear()

    def take(self, count: int) -> list[str]:
        return [self.codes.get(timeout=2) for _ in range(count)]


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualScanner]:
    with VirtualScanner(tmp_path / "ttyScanner") as scanner:
        yield scanner


@pytest.fixture
def reader(virtual: VirtualScanner) -> Iterator[Reader]:
    reader = Reader(virtual.port)
    reader.scanner.start()
    assert reader.connected.wait(2)
    yield reader
    assert reader.scanner.stop(timeout=2)


def test_link_points_at_the_pty(virtual: VirtualScanner) -> None:
    assert os.path.islink(virtual.port)
    assert os.readlink(virtual.port).startswith("/dev/pts/")


def test_codes_with_every_terminator(virtual: VirtualScanner, reader: Reader) -> None:
    virtual.scan("5901234123457", "\r")
    virtual.scan("$B:WH1:A-01-02", "\n")
    virtual.scan("]C1010590123412345710ABC|17250131", "\r\n")
    assert reader.take(3) == ["5901234123457", "$B:WH1:A-01-02", "]C1010590123412345710ABC|17250131"]


def test_split_reads(virtual: VirtualScanner, reader: Reader) -> None:
    virtual.scan("$T:TOTE-0042", "\r\n", split=True, chunk=1, delay=0.002)
    virtual.scan("96385074", "\r", split=True, chunk=3, delay=0.01)
    assert reader.take(2) == ["$T:TOTE-0042", "96385074"]


def test_crlf_split_between_reads(virtual: VirtualScanner, reader: Reader) -> None:
    virtual.write(b"FIRST\r")
    assert reader.take(1) == ["FIRST"]  # delivered on the CR, before the LF comes
    virtual.write(b"\nSECOND\n")
    assert reader.take(1) == ["SECOND"]
    time.sleep(0.1)
    assert reader.codes.empty()  # the late LF did not make an empty or extra code


def test_unplug_and_replug_a_real_pty(virtual: VirtualScanner, reader: Reader) -> None:
    virtual.scan("BEFORE")
    assert reader.take(1) == ["BEFORE"]
    virtual.unplug()
    assert reader.disconnected.wait(2)
    assert not os.path.exists(virtual.port)
    time.sleep(0.1)  # the reader retries against a missing device, with backoff
    virtual.replug()
    assert reader.connected.wait(2)
    virtual.scan("AFTER")
    assert reader.take(1) == ["AFTER"]
    assert reader.scanner.connects == 2
    assert reader.states == [ScannerState.CONNECTED, ScannerState.DISCONNECTED, ScannerState.CONNECTED]


def test_codes_sent_before_the_reader_reopens_are_lost(tmp_path: Path) -> None:
    # Hardware limitation, documented: open() flushes the input queue.
    with VirtualScanner(tmp_path / "tty") as virtual:
        reader = Reader(virtual.port, backoff_initial=0.3, backoff_max=0.3)
        reader.scanner.start()
        try:
            assert reader.connected.wait(2)
            virtual.unplug()
            assert reader.disconnected.wait(2)
            virtual.replug()
            virtual.scan("LOST")  # the reader is still in its 0.3 s backoff
            assert reader.connected.wait(2)
            virtual.scan("KEPT")
            assert reader.take(1) == ["KEPT"]
        finally:
            assert reader.scanner.stop(timeout=2)


def test_stop_is_prompt_while_connected(virtual: VirtualScanner) -> None:
    reader = Reader(virtual.port)
    reader.scanner.read_timeout = 5.0  # only cancel_read() can wake it quickly
    reader.scanner.start()
    assert reader.connected.wait(2)
    time.sleep(0.05)
    started = time.monotonic()
    assert reader.scanner.stop(timeout=2)
    assert time.monotonic() - started < 0.5


def test_writing_while_unplugged_fails(virtual: VirtualScanner) -> None:
    virtual.unplug()
    with pytest.raises(OSError):
        virtual.scan("NOPE")
