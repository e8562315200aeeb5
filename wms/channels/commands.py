"""``wms`` commands of the channels domain."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then exit (for cron and tests).")
@click.option("--poll-interval", default=1.0, show_default=True, type=float, help="Seconds to wait when idle.")
@with_appcontext
def worker(once: bool, poll_interval: float) -> None:
    """Run the after-commit work (webhooks, print jobs) until stopped; SIGTERM or SIGINT end it after the round."""
    from wms.worker import run_worker

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_worker(current_app._get_current_object(), once=once, poll_interval=poll_interval)


COMMANDS = [worker]
