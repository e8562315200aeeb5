"""The fake printer at the byte level, and both simulators' command lines."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devices.printers import PrinterState, open_printer, parse_host_status
from devices.serial_scanner import SerialScanner
from devices.simulators.fake_printer import FakePrinter

ROOT = Path(__file__).resolve().parents[3]


def raw_exchange(printer: FakePrinter, data: bytes, wait: float = 0.5) -> bytes:
    with socket.create_connection(("127.0.0.1", printer.port), timeout=wait) as sock:
        for part in data.split(b"|"):
            sock.sendall(part)
            time.sleep(0.01)
        answer = b""
        try:
            while answer.count(b"\x03") < 3:
                chunk = sock.recv(1024)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass
        return answer


def test_host_status_is_three_framed_strings(fake_printer: FakePrinter) -> None:
    answer = raw_exchange(fake_printer, b"~HS")
    parts = answer.split(b"\r\n")
    assert len(parts) == 4 and parts[-1] == b""
    assert all(p.startswith(b"\x02") and p.endswith(b"\x03") for p in parts[:3])
    assert parse_host_status(answer).ready


def test_tilde_command_split_across_packets(fake_printer: FakePrinter) -> None:
    assert parse_host_status(raw_exchange(fake_printer, b"~H|S")) is not None


def test_paused_printer_buffers_and_prints_when_ready(fake_printer: FakePrinter) -> None:
    fake_printer.set_state("paused")
    raw_exchange(fake_printer, b"^XA^FDone^FS^XZ^XA^FDtwo^FS^PQ2^XZ", wait=0.1)
    deadline = time.monotonic() + 2
    while len(fake_printer.pending) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_printer.labels == [] and len(fake_printer.pending) == 2
    status = parse_host_status(raw_exchange(fake_printer, b"~HS"))
    assert status.state is PrinterState.PAUSED and status.formats_in_buffer == 2
    fake_printer.set_state("ready")
    assert fake_printer.labels == ["^XA^FDone^FS^XZ", "^XA^FDtwo^FS^PQ2^XZ", "^XA^FDtwo^FS^PQ2^XZ"]
    assert fake_printer.pending == []


def test_format_split_across_packets(fake_printer: FakePrinter) -> None:
    raw_exchange(fake_printer, b"junk^X|A^FDsp|lit^FS^X|Z", wait=0.1)
    assert fake_printer.wait_for_labels(1)
    assert fake_printer.labels == ["^XA^FDsplit^FS^XZ"]


def test_silent_accepts_but_never_answers(fake_printer: FakePrinter) -> None:
    fake_printer.set_state("silent")
    assert raw_exchange(fake_printer, b"~HS", wait=0.2) == b""
    assert fake_printer.status_queries == 1 and fake_printer.connections == 1


def test_stop_is_prompt_with_an_open_connection() -> None:
    printer = FakePrinter().start()
    sock = socket.create_connection(("127.0.0.1", printer.port))
    try:
        started = time.monotonic()
        printer.stop()
        assert time.monotonic() - started < 1
        status = open_printer(f"zpl+tcp://127.0.0.1:{printer.port}", timeout=0.5).status()
        assert status.reason == "unreachable: connection refused"
    finally:
        sock.close()


def test_set_state_rejects_unknown_states(fake_printer: FakePrinter) -> None:
    with pytest.raises(ValueError):
        fake_printer.set_state("on fire")


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def _line(proc: subprocess.Popen[str], timeout: float = 10) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


def test_fake_printer_command_line() -> None:
    proc = _spawn("devices.simulators.fake_printer", "--port", "0", "--quiet")
    try:
        banner = _line(proc)
        url = banner.split(" on ")[1].split()[0]
        assert url.startswith("zpl+tcp://127.0.0.1:")
        printer = open_printer(url, timeout=2)
        printer.send(b"^XA^FDcli^FS^XZ", copies=2)
        assert _line(proc).startswith("printed 2 x")
        proc.stdin.write("paper out\n")
        proc.stdin.flush()
        assert _line(proc) == "state: paper_out\n"
        assert printer.status().reason == "paper out"
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(5) == 0
    finally:
        proc.kill()
        proc.wait()


def test_virtual_scanner_command_line(tmp_path: Path) -> None:
    link = tmp_path / "ttyCli"
    proc = _spawn("devices.simulators.virtual_scanner", "--link", str(link), "--terminator", "cr")
    try:
        assert str(link) in _line(proc)
        codes: queue.Queue[str] = queue.Queue()
        connected = threading.Event()
        scanner = SerialScanner(str(link), on_scan=codes.put, on_state=lambda s, r: connected.set(), read_timeout=0.05)
        scanner.start()
        try:
            assert connected.wait(2)
            proc.stdin.write("5901234123457\n")
            proc.stdin.flush()
            assert codes.get(timeout=2) == "5901234123457"
        finally:
            scanner.stop()
        proc.stdin.write("!quit\n")
        proc.stdin.flush()
        assert proc.wait(5) == 0
        assert not link.exists()
    finally:
        proc.kill()
        proc.wait()
