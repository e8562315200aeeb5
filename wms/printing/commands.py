"""``wms printer add|test``: register a label printer, print a test label and wait for it."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from wms.extensions import db
from wms.printing.service import add_printer, get_job, get_printer, print_test_label
from wms.printing.worker import print_due


@click.group("printer")
def printer_group() -> None:
    """Label printers: add one, print a test label."""


@printer_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--location", "location_code", required=True, metavar="CODE", help="Where the printer stands.")
@click.option(
    "--station",
    "station_code",
    metavar="S",
    help="Only this station's PC reaches the printer (`wms station` prints its jobs); made if it does not exist.",
)
@with_appcontext
def add_command(name: str, url: str, location_code: str, station_code: str | None) -> None:
    """Register printer NAME reached by URL: zpl+tcp://HOST:9100, zpl+serial:///dev/ttyUSB0?baud=9600,
    zpl+file:///dev/usb/lp0, cups://QUEUE (raw ZPL), pdf+cups://QUEUE or pdf+dir:///path. Only printer devices
    (WMS_PRINTER_DEVICE_PATHS), hot folders under WMS_PRINTER_DIR_ROOT and hosts that are not link-local or cloud
    metadata addresses are taken; a station printer's agent prints where its own PC's --printer says."""
    printer = add_printer(name, url, location_code, station_code)
    where = f"station {station_code} at {location_code}" if station_code else location_code
    printed_by = f"`wms station --station {station_code}`" if station_code else "`wms worker`"
    click.echo(f"added printer {printer.name} ({printer.fmt}, {printer.url}) at {where}; printed by {printed_by}")


@printer_group.command("test")
@click.argument("name")
@click.option(
    "--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0), help="Seconds to wait for the label."
)
@with_appcontext
def test_command(name: str, timeout: float) -> None:
    """Queue a test label on printer NAME and wait until it is printed: exit 0 once printed; exit 1 with the
    printer's state (paper out, head open, unreachable: ...) if not printed in time. The job stays queued."""
    printer = get_printer(name)
    server = printer.station_id is None
    station = printer.station.code if printer.station else None
    job = print_test_label(printer.name, actor="cli")
    click.echo(f"queued test label (job {job.id}) on {printer.name}; waiting up to {timeout:g} s", err=True)
    deadline = time.monotonic() + timeout
    while True:
        if server:
            # Through the same claim as the worker: whichever claims it prints it, once.
            print_due(job_ids=[job.id], ignore_schedule=True)
        db.session.rollback()  # a fresh read of what the printing committed
        job = get_job(job.id)
        if job.status == "printed":
            click.echo(f"printed test label on {printer.name} (job {job.id})")
            return
        if job.status in ("failed", "cancelled", "unknown"):
            raise click.ClickException(f"test label {job.status} on {printer.name}: {job.last_error or job.status}")
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(0.5 if server else 0.25, left))
    state = job.printer.last_state
    if not state:
        state = f"not printed yet (is `wms station --station {station}` running?)" if station else "no answer yet"
    elif not server:
        state = f"{state} (as station {station} last reported)"
    raise click.ClickException(
        f"{printer.name}: {state}; test label not printed within {timeout:g} s (job {job.id} stays queued)"
    )


COMMANDS = [printer_group]
