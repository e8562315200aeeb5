"""LineFramer and SerialScanner against loop:// and scripted ports (no hardware, no pty)."""

from __future__ import annotations

import queue
import threading
import time

import pytest
import serial
from hypothesis import given
from hypothesis import strategies as st

from devices.serial_scanner import LineFramer, ScannerState, SerialScanner

# --- framing ------------------------------------------------------------------------------------------------


def feed_all(framer: LineFramer, chunks: list[bytes]) -> list[str]:
    return [code for chunk in chunks for code in framer.feed(chunk)]


def test_code_split_across_reads() -> None:
    framer = LineFramer()
    assert framer.feed(b"5901") == []
    assert framer.feed(b"2341") == []
    assert framer.feed(b"23457\r\n") == ["5901234123457"]


def test_mixed_terminators_in_one_stream() -> None:
    assert feed_all(LineFramer(), [b"A\rB\nC\r\nD\n\rE\r"]) == ["A", "B", "C", "D", "E"]


def test_crlf_split_across_reads_is_one_terminator() -> None:
    framer = LineFramer()
    assert framer.feed(b"ABC\r") == ["ABC"]  # delivered on the CR, no waiting for a possible LF
    assert framer.pending == b""
    assert framer.feed(b"\n") == []  # the LF that completes the CRLF makes no extra (empty) code
    assert framer.feed(b"\nDEF") == []
    assert framer.pending == b"DEF"  # and is not kept as part of the next code
    assert framer.feed(b"\r\n") == ["DEF"]


def test_empty_and_blank_frames_are_ignored() -> None:
    assert feed_all(LineFramer(), [b"\r\n\r\n", b"\n\n  \r", b"X\n\n"]) == ["X"]


def test_utf8_split_inside_a_character() -> None:
    data = "ŁÓDŹ\r".encode()
    assert feed_all(LineFramer(), [data[:2], data[2:5], data[5:]]) == ["ŁÓDŹ"]


def test_overlong_frame_is_discarded() -> None:
    framer = LineFramer(max_length=8)
    assert framer.feed(b"0123456789") == []
    assert framer.discarded == 1 and framer.pending == b""
    assert framer.feed(b"OK\r") == ["OK"]


def test_flush_for_scanners_without_suffix() -> None:
    framer = LineFramer()
    framer.feed(b"ABC")
    assert framer.flush() == "ABC"
    assert framer.flush() is None


@given(
    st.lists(st.text(alphabet="ABC0123456789|$:", min_size=1, max_size=12), min_size=1, max_size=8),
    st.lists(st.sampled_from([b"\r", b"\n", b"\r\n"]), min_size=8, max_size=8),
    st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40),
)
def test_any_split_gives_the_same_codes(codes: list[str], terminators: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(code.encode() + terminators[i] for i, code in enumerate(codes))
    chunks, at = [], 0
    for size in cuts * 20:
        if at >= len(stream):
            break
        chunks.append(stream[at : at + size])
        at += size
    chunks.append(stream[at:])
    assert feed_all(LineFramer(), chunks) == codes


# --- reader -------------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.codes: queue.Queue[str] = queue.Queue()
        self.states: list[tuple[ScannerState, str]] = []
        self.connected = threading.Event()

    def on_scan(self, code: str) -> None:
        self.codes.put(code)

    def on_state(self, state: ScannerState, reason: str) -> None:
        self.states.append((state, reason))
        if state is ScannerState.CONNECTED:
            self.connected.set()
        else:
            self.connected.clear()

    def take(self, count: int, timeout: float = 2.0) -> list[str]:
        return [self.codes.get(timeout=timeout) for _ in range(count)]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def loop_port(timeout: float = 0.05) -> serial.SerialBase:
    return serial.serial_for_url("loop://", timeout=timeout)


def make_scanner(recorder: Recorder, factory, **kwargs) -> SerialScanner:
    kwargs.setdefault("read_timeout", 0.05)
    kwargs.setdefault("backoff_initial", 0.02)
    kwargs.setdefault("backoff_max", 0.1)
    return SerialScanner(
        "loop://", on_scan=recorder.on_scan, on_state=recorder.on_state, port_factory=factory, **kwargs
    )


def test_reads_codes_from_loop(recorder: Recorder) -> None:
    port = loop_port()
    scanner = make_scanner(recorder, lambda url, baud, timeout: port)
    with scanner:
        assert recorder.connected.wait(2)
        port.write(b"5901234123457\r\n$B:WH1:A-1")
        time.sleep(0.06)  # let the reader see the half code on its own
        port.write(b"\r")
        port.write(b"\nTOTE\n")
        assert recorder.take(3) == ["5901234123457", "$B:WH1:A-1", "TOTE"]
    assert recorder.codes.empty()
    assert recorder.states[-1] == (ScannerState.DISCONNECTED, "stopped")


def test_factory_gets_url_baudrate_and_a_finite_timeout(recorder: Recorder) -> None:
    seen = []

    def factory(url: str, baud: int, timeout: float):
        seen.append((url, baud, timeout))
        return loop_port()

    scanner = make_scanner(recorder, factory, baudrate=19200)
    with scanner:
        assert recorder.connected.wait(2)
    assert seen == [("loop://", 19200, 0.05)]


def test_reconnects_with_backoff_after_open_failures(recorder: Recorder) -> None:
    port = loop_port()
    calls: list[float] = []

    def factory(url: str, baud: int, timeout: float):
        calls.append(time.monotonic())
        if len(calls) <= 3:
            raise serial.SerialException(f"could not open port {url}: No such file or directory")
        return port

    scanner = make_scanner(recorder, factory, backoff_initial=0.03, backoff_max=1.0)
    with scanner:
        assert recorder.connected.wait(2)
        port.write(b"AFTER\r")
        assert recorder.take(1) == ["AFTER"]
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert len(calls) == 4
    assert gaps[0] >= 0.025 and gaps[1] >= 0.055 and gaps[2] >= 0.115  # doubling
    assert recorder.states[0][0] is ScannerState.DISCONNECTED and "No such file" in recorder.states[0][1]
    assert [s for s, _ in recorder.states] == ["disconnected", "connected", "disconnected"]


class Unpluggable:
    """A loop:// port that fails like a pulled USB device once ``pull()`` is called."""

    def __init__(self) -> None:
        self.port = loop_port()
        self.pulled = False
        self.reads = 0

    def pull(self) -> None:
        self.pulled = True

    @property
    def in_waiting(self) -> int:
        if self.pulled:
            raise OSError(5, "Input/output error")
        return self.port.in_waiting

    def read(self, size: int = 1) -> bytes:
        self.reads += 1
        if self.pulled:
            raise serial.SerialException("device reports readiness to read but returned no data")
        return self.port.read(size)

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def cancel_read(self) -> None:
        self.port.cancel_read()

    def close(self) -> None:
        self.port.close()


def test_unplug_and_replug(recorder: Recorder) -> None:
    ports: list[Unpluggable] = []
    failing = threading.Event()

    def factory(url: str, baud: int, timeout: float):
        if failing.is_set():
            raise serial.SerialException("could not open port: [Errno 2] No such file or directory")
        ports.append(Unpluggable())
        return ports[-1]

    scanner = make_scanner(recorder, factory)
    with scanner:
        assert recorder.connected.wait(2)
        ports[0].write(b"ONE\r\nHALF")
        assert recorder.take(1) == ["ONE"]
        time.sleep(0.06)
        failing.set()
        ports[0].pull()
        deadline = time.monotonic() + 2
        while recorder.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not recorder.connected.is_set()
        time.sleep(0.15)  # a few failed opens
        failing.clear()
        assert recorder.connected.wait(2)
        ports[1].write(b"CODE\r\n")
        # "HALF" (cut off by the unplug) is dropped, not glued onto the next code
        assert recorder.take(1) == ["CODE"]
    assert scanner.connects == 2
    assert [s for s, _ in recorder.states] == ["connected", "disconnected", "connected", "disconnected"]


def test_backoff_is_capped_and_not_a_busy_loop(recorder: Recorder) -> None:
    calls = []

    def factory(url: str, baud: int, timeout: float):
        calls.append(time.monotonic())
        raise OSError(2, "No such file or directory")

    scanner = make_scanner(recorder, factory, backoff_initial=0.01, backoff_max=0.04)
    scanner.start()
    time.sleep(0.4)
    assert scanner.stop()
    # 0.01 + 0.02 + 0.04 + 0.04 ... over 0.4 s: about 11 attempts; a busy loop would make thousands
    assert 5 <= len(calls) <= 16
    # reported once, at the first failure: the retries and the stop are no change of state
    assert [state for state, _ in recorder.states] == [ScannerState.DISCONNECTED]


def test_idle_connected_reader_does_not_spin(recorder: Recorder) -> None:
    port = Unpluggable()
    scanner = make_scanner(recorder, lambda *a: port, read_timeout=0.05)
    with scanner:
        assert recorder.connected.wait(2)
        time.sleep(0.5)
    assert port.reads <= 0.5 / 0.05 + 4


def test_port_returning_at_once_does_not_spin(recorder: Recorder) -> None:
    port = serial.serial_for_url("loop://", timeout=0)  # a factory that ignored the timeout

    class Counting:
        reads = 0
        in_waiting = property(lambda self: port.in_waiting)

        def read(self, size: int = 1) -> bytes:
            Counting.reads += 1
            return port.read(size)

        def close(self) -> None:
            port.close()

    scanner = make_scanner(recorder, lambda *a: Counting(), read_timeout=0.05)
    with scanner:
        assert recorder.connected.wait(2)
        time.sleep(0.3)
        port.write(b"STILL READS\n")
        assert recorder.take(1) == ["STILL READS"]
    assert Counting.reads < 60


def test_stop_interrupts_a_long_read(recorder: Recorder) -> None:
    port = loop_port(timeout=5.0)
    scanner = make_scanner(recorder, lambda *a: port, read_timeout=5.0)
    scanner.start()
    assert recorder.connected.wait(2)
    time.sleep(0.05)
    started = time.monotonic()
    assert scanner.stop(timeout=2)
    assert time.monotonic() - started < 0.5


def test_stop_during_backoff_is_prompt(recorder: Recorder) -> None:
    def factory(*args):
        raise serial.SerialException("absent")

    scanner = make_scanner(recorder, factory, backoff_initial=10, backoff_max=10)
    scanner.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert scanner.stop(timeout=2)
    assert time.monotonic() - started < 0.3


def test_generator_api_and_stop_from_the_consumer(recorder: Recorder) -> None:
    port = loop_port()
    scanner = make_scanner(recorder, lambda *a: port)
    got = []
    writer = threading.Timer(0.1, lambda: port.write(b"A\rB\rSTOP\rC\r"))
    writer.start()
    for code in scanner.scans():
        got.append(code)
        if code == "STOP":
            scanner.stop()
    writer.join()
    assert got == ["A", "B", "STOP"]


def test_on_scan_errors_do_not_stop_the_reader(recorder: Recorder) -> None:
    port = loop_port()

    def on_scan(code: str) -> None:
        if code == "BOOM":
            raise RuntimeError("consumer bug")
        recorder.codes.put(code)

    scanner = SerialScanner(
        "loop://", on_scan=on_scan, on_state=recorder.on_state, port_factory=lambda *a: port, read_timeout=0.05
    )
    with scanner:
        assert recorder.connected.wait(2)
        port.write(b"BOOM\rOK\r")
        assert recorder.take(1) == ["OK"]


def test_idle_flush_for_scanners_without_suffix(recorder: Recorder) -> None:
    port = loop_port()
    scanner = make_scanner(recorder, lambda *a: port, idle_flush=0.1)
    with scanner:
        assert recorder.connected.wait(2)
        port.write(b"NOSUFFIX")
        assert recorder.take(1) == ["NOSUFFIX"]


def test_bad_url_is_a_value_error_not_a_retry_loop() -> None:
    scanner = SerialScanner("nonsense://x", read_timeout=0.05)
    with pytest.raises(ValueError):
        next(iter(scanner.scans()))


def test_bad_url_in_background_reports_the_reason(recorder: Recorder) -> None:
    scanner = SerialScanner("nonsense://x", on_state=recorder.on_state, read_timeout=0.05)
    thread = scanner.start()
    thread.join(2)
    assert not thread.is_alive()
    assert recorder.states[-1][0] is ScannerState.DISCONNECTED and "stopped" in recorder.states[-1][1]


def test_read_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SerialScanner("loop://", read_timeout=0)
