"""The agent trusts the server with what to print, never with where: a fake server on 127.0.0.1 hands out jobs
naming printers and paths, and says how long to wait between polls.

No app and no database: the server here is a small ``http.server`` playing the station API.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devices.simulators.fake_printer import FakePrinter
from station.agent import StationAgent, StationClient

STATION = "ST1-C1"
ZPL = b"^XA^FO50,50^A0N,40,40^FDhello^FS^XZ"


class FakeServer:
    """The station API as far as the agent sees it. ``answers``: what each jobs poll gets, in turn (then
    ``{"jobs": []}``); ``outcomes``: what the agent reported; ``polls``: when each poll came."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.outcomes: list[dict[str, Any]] = []
        self.polls: list[float] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with server._lock:
                    server.polls.append(time.monotonic())
                    answer = server.answers.pop(0) if server.answers else {"jobs": []}
                self._answer(answer)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if "/jobs/" in self.path:
                    with server._lock:
                        server.outcomes.append({"job": int(self.path.rsplit("/", 1)[1]), **body})
                    self._answer({"id": int(self.path.rsplit("/", 1)[1])})
                else:
                    self._answer({"accepted": len(body.get("scans", [])), "stored": 0})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def final(self) -> list[dict[str, Any]]:
        with self._lock:
            return [o for o in self.outcomes if o["outcome"] != "sending"]


def job(job_id: int, printer: dict[str, Any], content: bytes = ZPL, **extra: Any) -> dict[str, Any]:
    return {
        "id": job_id,
        "attempt": 1,
        "printer": printer,
        "kind": "product",
        "reference": f"product:SKU-{job_id}",
        "copies": 1,
        "content_type": "application/zpl",
        "content_base64": base64.b64encode(content).decode(),
        **extra,
    }


def wait_until(predicate, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.httpd.shutdown()
        fake.httpd.server_close()


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter().start()
    try:
        yield fake
    finally:
        fake.stop()


def make_agent(server: FakeServer, tmp_path: Path, printers: dict[str, str], **kw: Any) -> StationAgent:
    client = StationClient(server.url, "wmss_test", STATION, timeout=3)
    options = {"wait": 1, "backoff_initial": 0.05, "backoff_max": 0.3} | kw
    return StationAgent(client, state_dir=tmp_path / "state", printers=printers, **options)


def test_a_job_for_a_printer_this_pc_does_not_have_is_refused_and_nothing_is_written(server, printer, tmp_path):
    target = tmp_path / "chosen-by-the-server.txt"
    target.write_text("precious\n")
    server.answers = [
        {
            "jobs": [
                # A printer name this PC does not have, with an address to use instead: neither is followed.
                job(1, {"name": "EVIL", "url": f"zpl+file://{target}"}),
                job(2, {"name": f"zpl+file://{target}"}),
                job(3, {"url": f"zpl+file://{target}"}),
                # This PC's printer, with a path from the server: the PC's own URL is used, not the path.
                job(4, {"name": "ZEBRA-1", "url": f"zpl+file://{target}"}, url=f"zpl+file://{target}"),
            ]
        }
    ]
    agent = make_agent(server, tmp_path, {"ZEBRA-1": printer.url + "?timeout=1"})
    with agent:
        wait_until(lambda: len(server.final()) == 4, 10, "four outcomes")
    outcomes = {o["job"]: o for o in server.final()}
    for job_id, name in [(1, "EVIL"), (2, f"zpl+file://{target}"), (3, "?")]:
        assert outcomes[job_id]["outcome"] == "failed"
        assert outcomes[job_id]["reason"] == f"printer {name} is not configured on this station ({STATION})"
    assert outcomes[4]["outcome"] == "printed"
    assert [o["job"] for o in server.outcomes if o["outcome"] == "sending"] == [4]  # the refused were never sent
    assert target.read_text() == "precious\n"
    assert len(printer.formats) == 1 and "hello" in printer.formats[0].zpl


def test_a_job_in_a_format_the_printer_does_not_take_fails(server, printer, tmp_path):
    server.answers = [{"jobs": [job(7, {"name": "ZEBRA-1"}, b"%PDF-1.7 ...", content_type="application/pdf")]}]
    with make_agent(server, tmp_path, {"ZEBRA-1": printer.url + "?timeout=1"}):
        wait_until(lambda: server.final(), 10, "the outcome")
    [outcome] = server.final()
    assert outcome["outcome"] == "failed" and "takes zpl, the job is pdf" in outcome["reason"]
    assert printer.formats == []


def test_retry_after_is_honoured(server, printer, tmp_path):
    server.answers = [{"jobs": [], "retry_after": 1.5}, {"jobs": [], "retry_after": 1.5}]
    agent = make_agent(server, tmp_path, {"ZEBRA-1": printer.url}, wait=20)
    with agent:
        wait_until(lambda: len(server.polls) >= 3, 10, "three polls")
    first, second, third = server.polls[:3]
    assert second - first >= 1.45 and third - second >= 1.45  # longer than the 1 s an early answer gets anyway


def test_a_long_retry_after_does_not_hold_up_a_stop(server, printer, tmp_path):
    server.answers = [{"jobs": [], "retry_after": 30}]
    agent = make_agent(server, tmp_path, {"ZEBRA-1": printer.url})
    agent.start()
    wait_until(lambda: server.polls, 5, "the first poll")
    time.sleep(0.2)
    started = time.monotonic()
    assert agent.stop(timeout=5)
    assert time.monotonic() - started < 2
    assert len(server.polls) == 1


def test_an_early_empty_answer_without_retry_after_is_followed_by_a_pause(server, printer, tmp_path):
    # The fake server never holds a poll: every answer is early and empty. Without a pause the agent would spin.
    agent = make_agent(server, tmp_path, {"ZEBRA-1": printer.url}, wait=20)
    with agent:
        time.sleep(2.5)
    assert 2 <= len(server.polls) <= 3
    gaps = [b - a for a, b in zip(server.polls, server.polls[1:], strict=False)]
    assert all(gap >= 0.95 for gap in gaps), gaps


def test_wait_zero_does_not_spin_either(server, printer, tmp_path):
    agent = make_agent(server, tmp_path, {"ZEBRA-1": printer.url}, wait=0)
    with agent:
        time.sleep(1.5)
    assert len(server.polls) <= 2


def test_without_printers_the_agent_claims_no_jobs(server, tmp_path):
    agent = make_agent(server, tmp_path, {})
    with agent:
        time.sleep(0.5)
    assert server.polls == [] and not agent.printing
