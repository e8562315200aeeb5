"""Printers against the fake ZPL printer (loopback only), a fake lp on PATH, and temp directories."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
import serial

from devices.__main__ import main as devices_cli
from devices.printers import PrinterError, PrinterNotReady, PrinterState, open_printer
from devices.simulators.fake_printer import FakePrinter

LABEL = b"^XA^CI28^FO50,50^A0N,40,40^FDBin A-01-02^FS^XZ"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- zpl+tcp ------------------------------------------------------------------------------------------------


def test_ready_printer_prints_with_copies(fake_printer: FakePrinter) -> None:
    printer = open_printer(fake_printer.url, timeout=2)
    assert printer.status().ready
    printer.send(LABEL, copies=3)
    assert fake_printer.wait_for_labels(3)
    assert [f.copies for f in fake_printer.formats] == [3]
    assert fake_printer.labels == [LABEL.decode().replace("^XZ", "^PQ3^XZ")] * 3


def test_existing_pq_is_multiplied(fake_printer: FakePrinter) -> None:
    open_printer(fake_printer.url, timeout=2).send(b"^XA^FDx^FS^PQ2^XZ", copies=2)
    assert fake_printer.wait_for_labels(4)
    assert len(fake_printer.labels) == 4


def test_status_is_asked_before_each_job(fake_printer: FakePrinter) -> None:
    printer = open_printer(fake_printer.url, timeout=2)
    printer.send(LABEL)
    printer.send(LABEL)
    assert fake_printer.wait_for_labels(2)
    assert fake_printer.status_queries == 2
    assert bytes(fake_printer.received).startswith(b"~HS")


@pytest.mark.parametrize(
    ("mode", "state", "reason"),
    [
        ("paper out", PrinterState.PAPER_OUT, "paper out"),
        ("head_open", PrinterState.HEAD_OPEN, "head open"),
        ("ribbon_out", PrinterState.RIBBON_OUT, "ribbon out"),
        ("paused", PrinterState.PAUSED, "paused"),
    ],
)
def test_not_ready_states_refuse_the_job(fake_printer: FakePrinter, mode: str, state: PrinterState, reason: str):
    fake_printer.set_state(mode)
    printer = open_printer(fake_printer.url, timeout=2)
    assert printer.status().state is state
    with pytest.raises(PrinterNotReady) as info:
        printer.send(LABEL)
    assert info.value.retryable
    assert info.value.status.state is state and info.value.status.reason == reason
    assert str(info.value) == f"printer {fake_printer.url} not ready: {reason}"
    # the job was never sent: nothing printed, nothing waiting in the printer's buffer
    assert b"^XA" not in bytes(fake_printer.received)
    fake_printer.set_state("ready")
    printer.send(LABEL)
    assert fake_printer.wait_for_labels(1) and len(fake_printer.labels) == 1


def test_silent_printer_is_not_ready_within_the_timeout(fake_printer: FakePrinter) -> None:
    fake_printer.set_state("silent")
    printer = open_printer(fake_printer.url, timeout=0.3)
    started = time.monotonic()
    status = printer.status()
    assert 0.25 <= time.monotonic() - started < 1.5
    assert status.state is PrinterState.NO_ANSWER and status.reason.startswith("no answer")
    with pytest.raises(PrinterNotReady, match="no answer"):
        printer.send(LABEL)
    assert b"^XA" not in bytes(fake_printer.received)


def test_connection_refused_is_unreachable() -> None:
    printer = open_printer(f"zpl+tcp://127.0.0.1:{free_port()}", timeout=1)
    assert printer.status().reason == "unreachable: connection refused"
    with pytest.raises(PrinterNotReady) as info:
        printer.send(LABEL)
    assert info.value.status.state is PrinterState.UNREACHABLE
    assert "unreachable: connection refused" in str(info.value)


def test_unknown_host_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_dns)  # no test reaches a real DNS server
    assert open_printer("zpl+tcp://no-such-printer.invalid").status().reason == "unreachable: unknown host"


def test_concurrent_jobs(fake_printer: FakePrinter) -> None:
    from concurrent.futures import ThreadPoolExecutor

    printer = open_printer(fake_printer.url, timeout=2)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: printer.send(b"^XA^FD%d^FS^XZ" % n), range(20)))
    assert fake_printer.wait_for_labels(20)
    assert sorted(int(z[6:-6]) for z in fake_printer.labels) == list(range(20))


def test_send_returns_even_if_the_printer_keeps_the_connection_open() -> None:
    from tests.unit.devices.test_printers import hs

    got = bytearray()
    server = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def printer_that_never_closes() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(2)
            got.extend(conn.recv(3))  # ~HS
            conn.sendall(hs())
            try:
                while chunk := conn.recv(4096):
                    got.extend(chunk)
            except TimeoutError:
                pass
            done.wait(3)  # holds the connection open after the job

    thread = threading.Thread(target=printer_that_never_closes, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        open_printer(f"zpl+tcp://127.0.0.1:{server.getsockname()[1]}", timeout=0.3).send(LABEL)
        assert time.monotonic() - started < 1.5
        deadline = time.monotonic() + 2
        while bytes(got) != b"~HS" + LABEL and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bytes(got) == b"~HS" + LABEL
    finally:
        done.set()
        server.close()
        thread.join(3)


# --- zpl+serial (over pyserial's socket:// to the fake printer, and loop://) -------------------------------


def test_serial_transport_prints_and_reports(fake_printer: FakePrinter) -> None:
    url = f"zpl+serial:///?url=socket://127.0.0.1:{fake_printer.port}&baud=9600"
    printer = open_printer(url, timeout=1)
    assert printer.status().ready
    printer.send(LABEL, copies=2)
    assert fake_printer.wait_for_labels(2)
    fake_printer.set_state("paper_out")
    with pytest.raises(PrinterNotReady, match="paper out"):
        printer.send(LABEL)
    fake_printer.set_state("silent")
    assert open_printer(url, timeout=0.3).status().state is PrinterState.NO_ANSWER


def test_serial_loop_echo_is_no_answer() -> None:
    status = open_printer("zpl+serial:///?url=loop://", timeout=0.2).status()
    assert status.state is PrinterState.NO_ANSWER and "garbled" in status.reason


def test_serial_missing_device_is_unreachable(tmp_path: Path) -> None:
    printer = open_printer(f"zpl+serial://{tmp_path}/ttyUSB9", timeout=0.5)
    assert printer.status().reason.startswith("unreachable: cannot open")
    with pytest.raises(PrinterNotReady):
        printer.send(LABEL)


def test_serial_without_status_sends_blindly() -> None:
    written: list[bytes] = []

    class Port:
        def write(self, data: bytes) -> None:
            written.append(data)

        def flush(self) -> None: ...

        def close(self) -> None: ...

    opened = []

    def factory(url: str, **kwargs):
        opened.append((url, kwargs))
        return Port()

    printer = open_printer("zpl+serial:///dev/ttyS0?status=none&baud=19200&rtscts=1", serial_factory=factory)
    printer.send(LABEL, copies=2)
    assert written == [LABEL.replace(b"^XZ", b"^PQ2^XZ")]
    assert opened[0][0] == "/dev/ttyS0"
    assert opened[0][1]["baudrate"] == 19200 and opened[0][1]["rtscts"] is True


def test_serial_write_failure_is_retryable() -> None:
    class Port:
        in_waiting = 0

        def write(self, data: bytes) -> None:
            raise serial.SerialException("write failed: [Errno 5] Input/output error")

        def flush(self) -> None: ...

        def close(self) -> None: ...

    printer = open_printer("zpl+serial:///dev/ttyS0?status=none", serial_factory=lambda url, **kw: Port())
    with pytest.raises(PrinterNotReady, match="while sending"):
        printer.send(LABEL)


# --- zpl+file -----------------------------------------------------------------------------------------------


def test_file_printer_appends(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    printer = open_printer(f"zpl+file://{target}")
    assert printer.status().ready
    printer.send(LABEL)
    printer.send(LABEL, copies=2)
    assert target.read_bytes() == LABEL + LABEL.replace(b"^XZ", b"^PQ2^XZ")


def test_file_printer_missing_directory_or_device(tmp_path: Path) -> None:
    printer = open_printer(f"zpl+file://{tmp_path}/nodir/lp0")
    assert printer.status().state is PrinterState.UNREACHABLE
    with pytest.raises(PrinterNotReady, match="does not exist"):
        printer.send(LABEL)
    assert open_printer("zpl+file:///dev/usb/no-such-lp9").status().state is PrinterState.UNREACHABLE


# --- pdf+dir ------------------------------------------------------------------------------------------------


def test_pdf_dir_writes_unique_files_atomically(tmp_path: Path) -> None:
    printer = open_printer(f"pdf+dir://{tmp_path}")
    assert printer.format == "pdf" and printer.status().ready
    printer.send(PDF, copies=2, title="Order 17 / packing slip")
    printer.send(PDF)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 3 and len(set(files)) == 3
    assert all(name.endswith(".pdf") and not name.startswith(".") for name in files)  # no temp files left
    assert sum("Order-17-packing-slip" in name for name in files) == 2
    assert all((tmp_path / name).read_bytes() == PDF for name in files)


def test_pdf_dir_missing_directory(tmp_path: Path) -> None:
    printer = open_printer(f"pdf+dir://{tmp_path}/missing")
    assert printer.status().reason == f"unreachable: directory {tmp_path}/missing does not exist"
    with pytest.raises(PrinterNotReady):
        printer.send(PDF)


# --- CUPS with a fake lp / lpstat ---------------------------------------------------------------------------

FAKE_LP = """#!/bin/sh
printf '%s\\n' "$@" > "{log}/lp.args"
cat > "{log}/lp.stdin"
if [ -f "{log}/lp.fail" ]; then cat "{log}/lp.fail" >&2; exit 1; fi
echo "request id is $2-1 (0 file(s))"
"""

FAKE_LPSTAT = """#!/bin/sh
printf '%s\\n' "$@" > "{log}/lpstat.args"
if [ -f "{log}/lpstat.fail" ]; then cat "{log}/lpstat.fail" >&2; exit 1; fi
if [ -f "{log}/disabled" ]; then echo "printer $2 disabled since Mon 01 Jan 2024 -"; exit 0; fi
echo "printer $2 is idle.  enabled since Mon 01 Jan 2024"
"""


@pytest.fixture
def fake_cups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in (("lp", FAKE_LP), ("lpstat", FAKE_LPSTAT)):
        path = bin_dir / name
        path.write_text(script.format(log=tmp_path))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def test_cups_raw_zpl(fake_cups: Path) -> None:
    printer = open_printer("cups://Zebra1")
    assert printer.status().ready
    printer.send(LABEL, copies=2, title="bin\nlabel")
    assert (fake_cups / "lp.args").read_text().split("\n")[:-1] == ["-d", "Zebra1", "-o", "raw", "-t", "bin label"]
    assert (fake_cups / "lp.stdin").read_bytes() == LABEL.replace(b"^XZ", b"^PQ2^XZ")
    assert (fake_cups / "lpstat.args").read_text().split() == ["-p", "Zebra1"]


def test_cups_pdf(fake_cups: Path) -> None:
    open_printer("pdf+cups://Office").send(PDF, copies=3)
    assert (fake_cups / "lp.args").read_text().split() == ["-d", "Office", "-n", "3"]
    assert (fake_cups / "lp.stdin").read_bytes() == PDF


def test_cups_disabled_queue_is_paused(fake_cups: Path) -> None:
    (fake_cups / "disabled").touch()
    printer = open_printer("cups://Zebra1")
    assert printer.status().state is PrinterState.PAUSED
    with pytest.raises(PrinterNotReady, match="paused"):
        printer.send(LABEL)
    assert not (fake_cups / "lp.args").exists()


def test_cups_unknown_queue_is_permanent(fake_cups: Path) -> None:
    (fake_cups / "lpstat.fail").write_text('lpstat: Invalid destination name in list "Nope".\n')
    printer = open_printer("cups://Nope")
    assert printer.status().state is PrinterState.UNREACHABLE
    with pytest.raises(PrinterError) as info:
        printer.send(LABEL)
    assert not isinstance(info.value, PrinterNotReady) and not info.value.retryable


def test_cups_lp_failures(fake_cups: Path) -> None:
    printer = open_printer("cups://Zebra1")
    (fake_cups / "lp.fail").write_text("lp: The printer or class does not exist.\n")
    with pytest.raises(PrinterError) as permanent:
        printer.send(LABEL)
    assert not permanent.value.retryable
    (fake_cups / "lp.fail").write_text("lp: Unable to connect to server: Connection refused\n")
    with pytest.raises(PrinterNotReady, match="Unable to connect"):
        printer.send(LABEL)


def test_cups_without_cups_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    printer = open_printer("cups://Zebra1")
    assert printer.status().reason == "unreachable: lpstat not found (install cups-client)"
    with pytest.raises(PrinterError, match="lp not found"):
        printer.send(LABEL)


# --- the small CLI ------------------------------------------------------------------------------------------


def test_cli_status_and_print(fake_printer: FakePrinter, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    job = tmp_path / "label.zpl"
    job.write_bytes(LABEL)
    assert devices_cli(["status", fake_printer.url]) == 0
    assert devices_cli(["print", fake_printer.url, str(job), "--copies", "2"]) == 0
    assert fake_printer.wait_for_labels(2)
    fake_printer.set_state("head_open")
    assert devices_cli(["status", fake_printer.url]) == 1
    assert devices_cli(["print", fake_printer.url, str(job)]) == 1
    assert devices_cli(["status", "nope://x"]) == 2
    out = capsys.readouterr()
    assert "head open" in out.out and "not ready: head open" in out.err
