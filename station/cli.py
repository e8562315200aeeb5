"""The station agent's command: ``wms station``, ``wms-station`` and ``python -m station`` are this one command."""

from __future__ import annotations

import logging
import signal
from typing import Any

import click

from station.agent import DEFAULT_WAIT, StationAgent, StationClient, default_state_dir, log
from station.printers import PrinterConfigError, load


@click.command("station")
@click.option("--server", required=True, envvar="WMS_STATION_SERVER", help="The WMS URL, e.g. https://wms.example.com")
@click.option("--token", required=True, envvar="WMS_STATION_TOKEN", help="The station's token (or WMS_STATION_TOKEN).")
@click.option("--station", required=True, help="The station's code, e.g. KRK-COUNTER-1.")
@click.option("--scanner", "scanner_url", help="The scanner's pyserial port URL: /dev/ttyACM0, socket://HOST:PORT.")
@click.option(
    "--printer",
    "printer_pairs",
    multiple=True,
    metavar="NAME=URL",
    help="A printer of this PC, by the name the WMS gives it: KRK-counter-zebra=zpl+tcp://127.0.0.1:9100. Repeatable.",
)
@click.option(
    "--printers",
    "printer_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help='A TOML file with a [printers] table of NAME = "URL" lines.',
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    help="Where unsent scans are kept [default: ~/.local/state/wms-station/<station>].",
)
@click.option("--no-printing", is_flag=True, help="Forward scans only; claim no jobs.")
@click.option("--wait", default=DEFAULT_WAIT, show_default=True, type=click.IntRange(0, 25), help="Long-poll seconds.")
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow plain http:// to a server that is not on this PC (the token then crosses the network unencrypted).",
)
@click.option("--ca-file", type=click.Path(dir_okay=False, exists=True), help="CA certificates for an https server.")
@click.option("--verbose", "-v", is_flag=True, help="Log debug details.")
def station(
    server: str,
    token: str,
    station: str,
    scanner_url: str | None,
    printer_pairs: tuple[str, ...],
    printer_files: tuple[str, ...],
    state_dir: str | None,
    no_printing: bool,
    wait: int,
    insecure: bool,
    ca_file: str | None,
    verbose: bool,
) -> None:
    """Run a station agent on a counter or pack-station PC: forwards a serial scanner's scans to the station's page
    and prints the station's jobs on this PC's printers (--printer / --printers; a job for any other printer is
    refused). Needs no database; stops on SIGTERM/SIGINT."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S"
    )
    try:
        client = StationClient(server, token, station, insecure=insecure, ca_file=ca_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--server") from None
    try:
        printers = load(printer_files, printer_pairs)
    except PrinterConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--printer/--printers") from None
    agent = StationAgent(
        client,
        state_dir=state_dir or default_state_dir(station),
        scanner_url=scanner_url,
        wait=wait,
        printers=printers,
        printing=not no_printing,
    )

    def handler(signum: int, _frame: Any) -> None:
        log.info("stopping (%s)", signal.Signals(signum).name)
        agent.stop_event.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info(
        "station %s: server %s, scanner %s, printers %s, state in %s",
        station,
        server,
        scanner_url or "none",
        printers.describe(),
        agent.state_dir,
    )
    if not printers and not no_printing:
        log.warning("no printers configured (--printer NAME=URL): this agent prints nothing and claims no jobs")
    try:
        agent.run()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    log.info("station agent stopped")


def main() -> None:
    """The ``wms-station`` console script."""
    station(prog_name="wms-station")


#: registered as ``wms station`` by ``wms.cli``
COMMANDS = [station]
