"""Running service calls at the same moment, as concurrent requests do: each in a thread of its own with its own
app context (and so its own database session)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from wms.extensions import db


def race(app: Flask, *calls: Callable[[], object], timeout: float = 60) -> list[object]:
    """Start the calls together; what each returned, or the exception it raised. Fails on a call still running
    after ``timeout`` seconds (a deadlock)."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        with app.app_context():
            try:
                barrier.wait(30)
                results[i] = call()
            except Exception as exc:  # noqa: BLE001 (the test looks at what each got)
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a call is still running: deadlock?"
    return results
