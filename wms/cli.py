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
