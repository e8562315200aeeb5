"""Long-poll slots and the answers of a request that got one or none (wms.longpoll), without an app."""

from __future__ import annotations

import threading

from wms.longpoll import RECONNECT_AFTER_STREAM_MS, SHORT_POLL_EVERY, Grant, Slots


def test_slots_are_given_out_up_to_the_capacity_and_come_back():
    slots = Slots()
    assert [slots.take(2) for _ in range(3)] == [True, True, False]
    slots.give_back()
    assert slots.take(2) is True
    assert slots.take(2) is False
    assert slots.take(3) is True  # a raised setting applies at once
    assert slots.in_use == 3


def test_no_slot_with_capacity_zero():
    assert Slots().take(0) is False


def test_threads_racing_for_slots_get_exactly_the_capacity():
    slots = Slots()
    start = threading.Barrier(16)
    got: list[bool] = []

    def take() -> None:
        start.wait()
        got.append(slots.take(5))

    threads = [threading.Thread(target=take) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got.count(True) == 5 and slots.in_use == 5


def test_a_request_holding_a_slot_waits_what_it_asked_and_may_come_back_at_once():
    grant = Grant(20, held=True)
    assert (grant.seconds, grant.cut_short, grant.retry_after()) == (20, False, 0)
    assert grant.reconnect_ms() == RECONNECT_AFTER_STREAM_MS


def test_a_request_without_a_slot_does_not_wait_and_is_told_the_short_poll_cadence():
    grant = Grant(20, held=False)
    assert (grant.seconds, grant.cut_short, grant.retry_after()) == (0, True, SHORT_POLL_EVERY)
    delays = {grant.reconnect_ms() for _ in range(200)}
    assert all(SHORT_POLL_EVERY * 800 <= d <= SHORT_POLL_EVERY * 1200 for d in delays)  # ms, +-20%
    assert len(delays) > 1  # jittered: pages opened together drift apart


def test_a_request_that_asked_not_to_wait_is_not_slowed_down():
    grant = Grant(0, held=False)
    assert (grant.seconds, grant.cut_short, grant.retry_after()) == (0, False, 0)
