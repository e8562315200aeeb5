"""The ``wms`` console script: Flask's group over ``create_app``; each command calls one service function."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup


def _create_app():
    from wms import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True, load_dotenv=False)
def main() -> None:
    """Warehouse and order-fulfilment system."""


@main.command("check")
def check_command() -> None:
    """Recompute every quantity from the ledger; exit 1 and list the drift if any."""
    from wms.stock.service import check_stock

    problems = check_stock()
    if problems:
        for line in problems:
            click.echo(line, err=True)
        raise SystemExit(1)
    click.echo("stock agrees with the ledger")


# Commands that belong to a domain live next to it and are registered here, so that each domain's commands can
# change without touching the others.
COMMAND_MODULES = ("wms.channels.commands", "wms.auth.commands", "wms.demo")


def _register_domain_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register_domain_commands()
