"""The ``wms`` console script: Flask's group over ``create_app``; each command calls one service function."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError, ProgrammingError

from wms import create_app
from wms.errors import WMSError
from wms.stock.service import check_stock

NO_SCHEMA_HINT = "the database has no tables yet: run `wms db upgrade` (or `wms demo` for a demo) first"


def is_missing_schema(exc: Exception) -> bool:
    """Whether a database error means the tables were never created (SQLite or PostgreSQL)."""
    orig = getattr(exc, "orig", None)
    return "no such table" in str(orig) or type(orig).__name__ == "UndefinedTable"


class WMSGroup(FlaskGroup):
    """Flask's group, plus: a domain error ends a command with its one-line message and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except WMSError as exc:
            raise click.ClickException(exc.message) from None
        except (OperationalError, ProgrammingError) as exc:
            if is_missing_schema(exc):
                raise click.ClickException(NO_SCHEMA_HINT) from None
            raise


@click.group(cls=WMSGroup, create_app=create_app, add_default_commands=True, load_dotenv=False)
def main() -> None:
    """Warehouse and order-fulfilment system."""


@main.command("check")
def check_command() -> None:
    """Recompute every quantity from the ledger; exit 1 and list the drift if any."""
    problems = check_stock()
    if problems:
        for line in problems:
            click.echo(line, err=True)
        raise SystemExit(1)
    click.echo("stock agrees with the ledger")


# Commands that belong to a domain live next to it and are registered here, so that each domain's commands can
# change without touching the others.
COMMAND_MODULES = (
    "wms.worker",
    "wms.auth.commands",
    "wms.catalog.commands",
    "wms.server",
    "wms.demo",
    "wms.printing.commands",
    "station.cli",
)


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
            if command.name in main.commands:
                # A silent override would hide one of the two commands.
                raise RuntimeError(f"wms {command.name} is defined twice (again in {name})")
            main.add_command(command)


_register_domain_commands()
