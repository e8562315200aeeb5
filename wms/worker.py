"""``wms worker``: runs every domain's after-commit stages (webhooks, availability, print jobs, ...) until stopped.

Each domain offers its stages as a ``STAGES`` list of :class:`wms.stages.Stage` in its ``worker`` module; this
module, like ``create_app``, is where the domains are put together: add a domain's module to ``STAGE_MODULES`` and
``wms worker`` runs its stages. A round runs every stage once, in ``order``; each stage works in transactions of
its own, so several workers can run side by side (rows are claimed with ``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

import wms.orders.webhooks  # noqa: F401  (registers the order.updated view the webhook stage sends)
import wms.returns.webhooks  # noqa: F401  (and the return.updated one)
from wms.extensions import db
from wms.stages import Stage

log = logging.getLogger(__name__)

#: modules whose ``STAGES`` the worker runs
STAGE_MODULES = (
    "wms.channels.worker",
    "wms.printing.worker",
    "wms.tasks.worker",
    "wms.pickups.worker",
    "wms.transfers.worker",
    "wms.stock.worker",
    "wms.summaries.worker",
)


def stages() -> list[Stage]:
    """Every registered stage, in the order a round runs them; two stages of one name are an error."""
    found: dict[str, Stage] = {}
    for name in STAGE_MODULES:
        for stage in importlib.import_module(name).STAGES:
            if stage.name in found:
                raise RuntimeError(f"worker stage {stage.name} is registered twice (again in {name})")
            found[stage.name] = stage
    return sorted(found.values(), key=lambda stage: (stage.order, stage.name))


def run_once(selected: list[Stage] | None = None) -> int:
    """One round of every stage; returns how much work was done (0: nothing to do right now)."""
    return sum(stage.run() for stage in (selected if selected is not None else stages()))


def run_worker(app: Flask, once: bool = False, poll_interval: float = 1.0, stop: threading.Event | None = None) -> None:
    """Run the stages until stopped: SIGTERM or SIGINT (or ``stop``) let the current round finish, then return.

    ``once``: run rounds until there is nothing left to do right now (deliveries waiting for a retry stay for a
    later run), then return; errors are raised instead of logged.
    """
    stop = stop or threading.Event()
    selected = stages()
    previous = _install_signal_handlers(stop)
    try:
        while not stop.is_set():
            with app.app_context():
                try:
                    done = run_once(selected)
                except Exception:
                    if once:
                        raise
                    log.exception("worker round failed; trying again in %s s", poll_interval)
                    done = 0
                finally:
                    db.session.remove()
            if once and done == 0:
                return
            if not done:
                stop.wait(poll_interval)
    finally:
        _restore_signal_handlers(previous)


def _install_signal_handlers(stop: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # signals are delivered to the main thread only

    def handler(signum, _frame):
        log.info("signal %s: finishing the current round", signum)
        stop.set()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


@click.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then exit (for cron and tests).")
@click.option("--poll-interval", default=1.0, show_default=True, type=float, help="Seconds to wait when idle.")
@with_appcontext
def worker(once: bool, poll_interval: float) -> None:
    """Run the after-commit work (webhooks, print jobs) until stopped; SIGTERM or SIGINT end it after the round."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_worker(current_app._get_current_object(), once=once, poll_interval=poll_interval)


COMMANDS = [worker]
