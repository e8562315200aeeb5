"""Bounded long polling: a few threads of each process may wait for news, the others always serve requests.

A long poll (the station page's event stream, the station agent's jobs poll) holds a server thread while it
waits. gunicorn's gthread worker has a fixed number of threads per process and queues every other request behind
them, so eight open station pages made ``/healthz`` wait 20 s. Each process therefore hands out at most
``LONGPOLL_SLOTS`` slots (``WMS_LONGPOLL_SLOTS``). A request that gets one waits as before; one that gets none
answers at once with what is new and tells its client to come back after :data:`SHORT_POLL_EVERY` seconds, so that
it costs a thread for a few milliseconds instead of 25 s. See ``docs/decisions.md`` ("Long requests").
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app

#: slots per process (the default of ``LONGPOLL_SLOTS``): well below the threads of ``wms serve`` (8)
DEFAULT_SLOTS = 3
#: seconds a client without a slot waits before it asks again: 250 clients cost ~85 short requests a second
SHORT_POLL_EVERY = 3
#: milliseconds an event stream that ran its full time tells the browser to wait before reconnecting
RECONNECT_AFTER_STREAM_MS = 1000

_EXTENSION = "wms_longpoll"
_create_lock = threading.Lock()


class Slots:
    """The long-poll slots of one app in one process (gunicorn forks workers before it builds the app, so each
    worker has its own). The capacity is read at each take, so a changed setting applies at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_use = 0

    def take(self, capacity: int) -> bool:
        with self._lock:
            if self.in_use >= capacity:
                return False
            self.in_use += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.in_use -= 1


def slots() -> Slots:
    """The slots of the current app in this process."""
    extensions = current_app.extensions
    found = extensions.get(_EXTENSION)
    if found is None:
        with _create_lock:
            found = extensions.setdefault(_EXTENSION, Slots())
    return found


def capacity() -> int:
    """Slots per process (``LONGPOLL_SLOTS``; 0 turns every long poll into a short one)."""
    return max(0, int(current_app.config.get("LONGPOLL_SLOTS", DEFAULT_SLOTS)))


@dataclass(frozen=True)
class Grant:
    """What a request that asked to wait ``asked`` seconds may do: wait ``seconds`` (all it asked when it holds a
    slot, else 0)."""

    asked: float
    held: bool

    @property
    def seconds(self) -> float:
        return self.asked if self.held else 0.0

    @property
    def cut_short(self) -> bool:
        """It asked to wait and may not: its client must slow down to :data:`SHORT_POLL_EVERY`."""
        return self.asked > 0 and not self.held

    def retry_after(self) -> int:
        """Seconds the client should let pass before its next poll: 0 (at once) unless the wait was cut short."""
        return SHORT_POLL_EVERY if self.cut_short else 0

    def reconnect_ms(self) -> int:
        """An event stream's ``retry:``: after a full stream, soon; after a short one, the short-poll cadence with
        +-20% jitter, so that pages opened together (after a restart) do not keep arriving together."""
        if not self.cut_short:
            return RECONNECT_AFTER_STREAM_MS
        return round(SHORT_POLL_EVERY * 1000 * random.uniform(0.8, 1.2))


@contextmanager
def hold(asked: float) -> Iterator[Grant]:
    """Take a long-poll slot for a request that wants to wait ``asked`` seconds, if one is free, and give it back
    when the block ends. Never blocks: without a free slot the grant says wait 0. Needs an app context."""
    pool = slots()  # kept: a stream's generator may be closed where there is no app context any more
    held = asked > 0 and pool.take(capacity())
    try:
        yield Grant(float(asked), held)
    finally:
        if held:
            pool.give_back()
