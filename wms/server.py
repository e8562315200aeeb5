"""``wms serve``: run the app under gunicorn (never the debug server), configured from ``WMS_*`` like every command."""

from __future__ import annotations

import gc
import subprocess
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from wms import create_app
from wms.extensions import db

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: gthread: threads per process. Long polls may hold only a few of them (``WMS_LONGPOLL_SLOTS``, wms.longpoll), so
#: the rest always serve ordinary requests; a thread that waits on the database or a slow client costs memory, not
#: CPU, so 8 on 2 cores is cheap.
THREADS_PER_WORKER = 8
#: seconds an idle keep-alive connection is kept: gthread parks idle connections in its poller, not in a thread, so
#: a page or agent that polls every few seconds (wms.longpoll.SHORT_POLL_EVERY) can reuse its connection
KEEPALIVE_SECONDS = 5


def schema_state() -> tuple[str | None, str | None]:
    """(revision of the database, newest revision of the code); the first is None when there is no schema."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions["migrate"]
    config = Config()
    config.set_main_option("script_location", migrate.directory)
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def freeze_heap() -> None:
    """Move every object alive now (the app, its routes, templates, SQLAlchemy's mappers and compiled statements)
    out of the garbage collector's sight: a full collection then walks only what requests allocate. Measured on the
    managers' pages, a full collection of the app's ~180,000 objects took ~60 ms, which set their p95."""
    gc.collect()
    gc.freeze()


def _gunicorn_app(options: dict[str, Any]):
    from gunicorn.app.base import BaseApplication

    class WMSServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25.1 opens a control socket at one fixed path per user: a second `wms serve` (another
                # port, another database) would collide with the first. Nothing here uses it.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            # Each worker builds its own app after the fork: no database connection is shared between processes.
            app = create_app()
            freeze_heap()
            return app

    return WMSServer()


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on (0.0.0.0: every one).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option(
    "--with-worker/--no-worker",
    default=True,
    show_default=True,
    help="Also run `wms worker` (webhooks, print jobs) beside the server, stopped with it. Several are safe.",
)
@with_appcontext
def serve_command(host: str, port: int, workers: int, with_worker: bool) -> None:
    """Run the app for real use with gunicorn; GET /healthz answers 200 while the database is reachable."""
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        current, head = schema_state()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise click.ClickException(f"cannot reach the database {url}: {reason}") from None
    if current is None:
        raise click.ClickException(
            f"the database {url} has no schema yet: run `wms db upgrade` (or `wms demo` for a demo) first"
        )
    if current != head:
        click.echo(f"warning: the database is at revision {current}, the code expects {head}: run `wms db upgrade`")
    # The check's connections belong to this process; workers open their own after the fork.
    db.engine.dispose()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    click.echo(f"WMS on http://{shown}:{port}  ({workers} worker(s), database {url}); stop with Ctrl+C")
    if host in ("0.0.0.0", "::"):
        click.echo("listening on every network interface")
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    outbox_worker = _start_outbox_worker() if with_worker else None
    try:
        _run_gunicorn(bind, workers)
    finally:
        if outbox_worker is not None:
            _stop(outbox_worker)


def _start_outbox_worker() -> subprocess.Popen:
    """`wms worker` as a child process: without it a demo's print jobs and webhooks would wait forever."""
    click.echo("also running `wms worker` (webhooks, print jobs); --no-worker to run it on its own")
    return subprocess.Popen([sys.executable, "-m", "wms", "worker"])


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # the worker finishes its round, then exits
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _run_gunicorn(bind: str, workers: int) -> None:
    _gunicorn_app(
        {
            "bind": bind,
            "workers": workers,
            "worker_class": "gthread",
            "threads": THREADS_PER_WORKER,
            "keepalive": KEEPALIVE_SECONDS,
            "timeout": 60,
            "graceful_timeout": 20,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "wms",
        }
    ).run()


COMMANDS = [serve_command]
