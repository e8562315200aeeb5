"""End to end: the station agent (``station``, run as ``wms station``) against the app served on loopback, a fake
ZPL printer and a virtual scanner.

The app runs in a thread (werkzeug's server on 127.0.0.1, any free port) on the SQLite test database; the agent
talks to it over HTTP only. Every wait is bounded.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from devices.simulators.fake_printer import FakePrinter
from devices.simulators.virtual_scanner import VirtualScanner
from station.agent import ServerRefused, ServerUnreachable, Spool, StationAgent, StationClient
from tests.factories import make_bin, make_location, make_product
from tests.integration.printing.station_helpers import queue_product_label, station_token
from wms.extensions import db
from wms.printing.models import Printer, PrintJob, StationScan
from wms.printing.service import add_printer

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs POSIX ptys")

ROOT = Path(__file__).resolve().parents[3]


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class LiveServer:
    """The app on 127.0.0.1 in a thread; can be stopped and started again on the same port."""

    def __init__(self, app) -> None:
        self.app = app
        self.port = 0
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None
        # Requests in flight go on in their own threads (a long poll for up to its wait): let them end, or one
        # could claim the next test's job (the ids start again at 1) for an agent that is gone.
        wait_until(
            lambda: not any("process_request" in t.name for t in threading.enumerate() if t.is_alive()),
            6,
            "requests in flight to end",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def fresh(query):
    """Run a read in a new transaction (SQLite keeps a snapshot per transaction)."""
    db.session.rollback()
    db.session.expire_all()
    try:
        return query()
    finally:
        db.session.rollback()


def scans() -> list[StationScan]:
    return fresh(lambda: list(db.session.execute(select(StationScan).order_by(StationScan.id)).scalars()))


def job_status(job_id: int) -> str:
    return fresh(lambda: db.session.get(PrintJob, job_id).status)


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def scanner(tmp_path) -> Iterator[VirtualScanner]:
    with VirtualScanner(tmp_path / "ttyScanner") as virtual:
        yield virtual


@pytest.fixture
def world(app, printer):
    make_location("ST1", "store")
    # What the scans below name exists, so the server gives them their meaning rather than "unknown".
    make_bin("ST1", "A-01-02")
    make_product("SKU-1", "Kubek ceramiczny 300 ml", barcodes=["05901234123457"])
    # What the server has for the printer is not where the agent prints: that comes from the PC's configuration.
    add_printer("ZEBRA-1", "zpl+tcp://127.0.0.1:9", "ST1", "ST1-C1")
    return station_token("ST1-C1")


@pytest.fixture
def server(app, world) -> Iterator[LiveServer]:
    live = LiveServer(app).start()
    try:
        yield live
    finally:
        live.stop()


def local_printers(printer: FakePrinter) -> dict[str, str]:
    """The agent's own configuration: the server's printer ZEBRA-1 is the fake printer on this PC."""
    return {"ZEBRA-1": printer.url + "?timeout=1"}


def make_agent(
    server: LiveServer, token: str, state_dir: Path, scanner_url: str | None = None, printers=None
) -> StationAgent:
    client = StationClient(server.url, token, "ST1-C1", timeout=3)
    return StationAgent(
        client,
        state_dir=state_dir,
        scanner_url=scanner_url,
        printers=printers,
        wait=1,
        backoff_initial=0.05,
        backoff_max=0.3,
        scanner_backoff_max=0.2,
    )


@pytest.fixture
def agent(server, world, scanner, printer, tmp_path) -> Iterator[StationAgent]:
    station = make_agent(server, world, tmp_path / "state", scanner.port, local_printers(printer))
    station.start()
    wait_until(lambda: station._scanner.state == "connected", 5, "the scanner to connect")
    try:
        yield station
    finally:
        assert station.stop(timeout=5), "the agent did not stop in time"


# --- printing ---------------------------------------------------------------------------------------------------


def test_a_queued_job_is_printed_exactly_once(agent, printer, caplog):
    caplog.set_level(logging.INFO, logger="station")
    job_id = queue_product_label("ZEBRA-1", "SKU-1", copies=2)
    wait_until(lambda: job_status(job_id) == "printed", 10, "the job to be printed")
    assert printer.wait_for_labels(2, timeout=2)
    time.sleep(1.5)  # a few more long polls: nothing is printed again
    assert len(printer.formats) == 1 and printer.formats[0].copies == 2
    assert "SKU-1" in printer.formats[0].zpl
    assert job_status(job_id) == "printed"
    assert fresh(lambda: db.session.execute(select(Printer.last_state)).scalar_one()) == "ready"
    assert f"job {job_id} (product, product:SKU-1) on ZEBRA-1 (2 copies): printed" in caplog.text


def test_a_printer_that_is_not_ready_gets_the_job_once_it_is(agent, printer, app, monkeypatch):
    monkeypatch.setitem(app.config, "PRINT_RETRY_MAX", 0.3)  # retry the job soon
    printer.set_state("paper out")
    job_id = queue_product_label("ZEBRA-1", "WAIT")
    wait_until(
        lambda: fresh(lambda: db.session.execute(select(Printer.last_state)).scalar_one()) == "paper out",
        10,
        "the printer's state to be reported",
    )
    assert job_status(job_id) in ("queued", "sending")
    assert printer.formats == [] and printer.pending == []  # nothing was sent to a printer without paper
    printer.set_state("ready")
    wait_until(lambda: job_status(job_id) == "printed", 15, "the job to be printed after the paper came back")
    assert len(printer.labels) == 1


# --- scans ------------------------------------------------------------------------------------------------------


def test_a_scan_becomes_a_station_scan(agent, scanner, caplog):
    caplog.set_level(logging.INFO, logger="station")
    scanner.scan("$B:ST1:A-01-02", "\r")
    scanner.scan("]C1010590123412345710LOT-7|17261231", "\r\n", split=True, chunk=3)
    rows = wait_until(lambda: (r := scans()) and len(r) >= 2 and r, 10, "two scans to arrive")
    assert [(r.raw, r.kind) for r in rows] == [
        ("$B:ST1:A-01-02", "bin"),
        ("]C1010590123412345710LOT-7|17261231", "product"),
    ]
    assert rows[1].parsed["lot"] == "LOT-7"
    assert "scan $B:ST1:A-01-02: bin A-01-02 at ST1" in caplog.text
    wait_until(lambda: len(agent.scans) == 0, 5, "the spool to empty")


def test_scans_are_spooled_while_the_server_is_down(agent, server, scanner, tmp_path):
    scanner.scan("$T:TOTE-1")
    wait_until(lambda: len(scans()) == 1, 10, "the first scan")
    server.stop()
    codes = ["$T:TOTE-2", "$T:TOTE-3", "5901234123457"]
    for code in codes:
        scanner.scan(code)
    wait_until(lambda: len(agent.scans) == 3, 5, "three scans in the spool")
    spooled = [json.loads(line) for line in (tmp_path / "state" / "scans.jsonl").read_text().splitlines()]
    assert [entry["code"] for entry in spooled] == codes
    time.sleep(0.5)  # a few failed uploads
    assert len(scans()) == 1
    server.start()
    wait_until(lambda: len(scans()) == 4, 10, "the spooled scans after the server came back")
    wait_until(lambda: len(agent.scans) == 0, 5, "the spool to empty")
    time.sleep(0.5)
    rows = scans()
    assert [r.raw for r in rows] == ["$T:TOTE-1", *codes]  # nothing lost, nothing twice
    assert [r.client_id for r in rows[1:]] == [entry["client_id"] for entry in spooled]


def test_spooled_scans_survive_an_agent_restart_and_are_stored_once(server, world, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    server.stop()
    first = make_agent(server, world, state)
    first.start()
    first.on_scan("$O:41")
    first.on_scan("$O:42")
    assert first.stop(timeout=5)
    assert len(Spool(state / "scans.jsonl")) == 2
    # An upload whose answer was lost: the server has the scan, the spool still holds it.
    server.start()
    pending = Spool(state / "scans.jsonl").pending()
    StationClient(server.url, world, "ST1-C1").upload(pending[:1])
    assert len(scans()) == 1
    with open(state / "scans.jsonl", "ab") as torn:
        torn.write(b'{"client_id": "torn-by-a-crash", "co')  # a crash in the middle of an append
    second = make_agent(server, world, state)
    second.start()
    try:
        wait_until(lambda: len(scans()) == 2, 10, "the spooled scans")
        wait_until(lambda: len(second.scans) == 0, 5, "the spool to empty")
        second.on_scan("$O:43")
        wait_until(lambda: len(scans()) == 3, 10, "a scan after the torn line")
    finally:
        assert second.stop(timeout=5)
    assert [r.raw for r in scans()] == ["$O:41", "$O:42", "$O:43"]
    assert [r.client_id for r in scans()][:2] == [p["client_id"] for p in pending]


def test_two_agents_never_share_a_spool(server, world, tmp_path):
    first = make_agent(server, world, tmp_path / "state")
    first.start()
    try:
        with pytest.raises(RuntimeError, match="another station agent"):
            make_agent(server, world, tmp_path / "state").start()
    finally:
        assert first.stop(timeout=5)


def test_scanner_unplugged_and_plugged_back_keeps_forwarding(agent, scanner):
    scanner.scan("$L:ST1")
    wait_until(lambda: len(scans()) == 1, 10, "the scan before the unplug")
    connects = agent._scanner.connects
    scanner.unplug()
    wait_until(lambda: agent._scanner.state == "disconnected", 5, "the reader to notice the unplug")
    time.sleep(0.3)  # the reader retries an absent port meanwhile
    scanner.replug()
    wait_until(lambda: agent._scanner.connects > connects, 5, "the reader to reconnect")
    scanner.scan("$L:ST2")
    wait_until(lambda: len(scans()) == 2, 10, "the scan after the replug")
    assert [r.raw for r in scans()] == ["$L:ST1", "$L:ST2"]


# --- the client -------------------------------------------------------------------------------------------------


def test_client_errors(server, world):
    client = StationClient(server.url, world, "ST1-C1", timeout=2)
    with pytest.raises(ServerRefused) as refused:
        client.upload([{"client_id": "bad id", "code": "1"}])
    assert refused.value.status == 422 and refused.value.details[0]["field"] == "scans[0].client_id"
    with pytest.raises(ServerRefused) as wrong:
        StationClient(server.url, "wmss_nope", "ST1-C1").jobs()
    assert wrong.value.status == 401
    server.stop()
    with pytest.raises(ServerUnreachable, match="connection refused"):
        client.jobs()


def test_stop_aborts_a_long_poll(server, world, printer, tmp_path):
    client = StationClient(server.url, world, "ST1-C1", timeout=3)
    agent = StationAgent(client, state_dir=tmp_path / "state", wait=4, printers=local_printers(printer))
    agent.start()
    time.sleep(0.5)  # the printer thread is now inside a 4 s long poll
    started = time.monotonic()
    assert agent.stop(timeout=5)
    assert time.monotonic() - started < 2


# --- the command ------------------------------------------------------------------------------------------------


def test_wms_station_command_needs_no_database_and_stops_on_sigterm(server, world, scanner, printer, tmp_path):
    env = dict(os.environ)
    # The counter PC has no database: a command that tried to reach one would fail.
    env["WMS_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    env.pop("WMS_TEST_DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    env["WMS_STATION_TOKEN"] = world  # not on the command line, where `ps` shows it
    command = [sys.executable, "-m", "wms", "station", "--server", server.url, "--station", "ST1-C1"]
    command += ["--scanner", scanner.port, "--state-dir", str(tmp_path / "cli-state"), "--wait", "1"]
    command += ["--printer", f"ZEBRA-1={printer.url}?timeout=1"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        job_id = queue_product_label("ZEBRA-1", "CLI")
        wait_until(lambda: job_status(job_id) == "printed", 20, "the command to print the job")
        deadline = time.monotonic() + 10
        while not scans() and time.monotonic() < deadline:
            scanner.scan("$W:77")  # until the reader has opened the port (opening flushes what came before)
            time.sleep(0.3)
        assert scans() and scans()[0].raw == "$W:77"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)
    text = output.decode()
    assert proc.returncode == 0, text
    assert f"job {job_id} (product, product:CLI) on ZEBRA-1: printed" in text
    assert "scan $W:77: wave 77" in text
    assert "station agent stopped" in text
    assert len(printer.formats) == 1
