"""The station agent's jobs poll with bounded long polling (wms.longpoll): it waits only while it holds one of the
process's slots; without one it answers at once with ``retry_after``, the seconds the agent lets pass first."""

from __future__ import annotations

import threading
import time

import pytest

from tests.factories import Api
from tests.integration.printing.station_helpers import queue_product_label, two_stations
from wms import longpoll

JOBS = "/api/v1/stations/ST1-C1/jobs"


@pytest.fixture
def st1(any_app):
    any_app.extensions.pop("wms_longpoll", None)
    yield Api(any_app.test_client(), two_stations()["ST1-C1"])
    any_app.extensions.pop("wms_longpoll", None)


def test_with_a_free_slot_the_poll_waits_and_the_agent_may_come_back_at_once(any_app, st1):
    started = time.monotonic()
    r = st1.get(JOBS + "?wait=1")
    assert time.monotonic() - started >= 0.9
    assert r.status_code == 200 and r.json == {"jobs": [], "retry_after": 0}
    assert any_app.extensions["wms_longpoll"].in_use == 0
    assert st1.get(JOBS).json == {"jobs": [], "retry_after": 0}  # wait=0 asks for no slot and is not slowed


def test_without_a_free_slot_the_poll_answers_at_once_with_the_cadence(any_app, st1, monkeypatch):
    monkeypatch.setitem(any_app.config, "LONGPOLL_SLOTS", 0)
    started = time.monotonic()
    r = st1.get(JOBS + "?wait=25")
    assert time.monotonic() - started < 10  # not the 25 s asked
    assert r.json == {"jobs": [], "retry_after": longpoll.SHORT_POLL_EVERY}
    # Jobs that are due are handed out all the same; with jobs the agent may come back at once.
    job_id = queue_product_label("P1")
    r = st1.get(JOBS + "?wait=25")
    assert [job["id"] for job in r.json["jobs"]] == [job_id] and r.json["retry_after"] == 0


def test_one_slot_one_waiting_agent_the_next_is_told_to_poll(any_app, st1, monkeypatch):
    monkeypatch.setitem(any_app.config, "LONGPOLL_SLOTS", 1)
    answers = {}

    def long_poll() -> None:
        answers["first"] = st1.get(JOBS + "?wait=3").json

    first = threading.Thread(target=long_poll)
    first.start()
    deadline = time.monotonic() + 10
    while any_app.extensions.get("wms_longpoll") is None or any_app.extensions["wms_longpoll"].in_use == 0:
        assert time.monotonic() < deadline, "the first poll never took its slot"
        time.sleep(0.01)
    started = time.monotonic()
    assert st1.get(JOBS + "?wait=3").json == {"jobs": [], "retry_after": longpoll.SHORT_POLL_EVERY}
    assert time.monotonic() - started < 3
    first.join(15)
    assert answers["first"] == {"jobs": [], "retry_after": 0}
    assert any_app.extensions["wms_longpoll"].in_use == 0
