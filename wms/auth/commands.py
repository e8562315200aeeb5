"""Credentials from the command line: staff users, sales channels with their first token, integration tokens.

Each command calls one service; a domain error ends it with a one-line message and exit status 1 (``wms.cli``).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from wms.auth.models import ROLES


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--location", "location_code", metavar="CODE", help="Home location (pickers: required; clerks: a store).")
@click.option("--password", help="Asked for twice, hidden, when not given (safer: stays out of shell history).")
@with_appcontext
def create_user_command(username: str, role: str, location_code: str | None, password: str | None) -> None:
    """Create a staff user."""
    from wms.auth.service import create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    user = create_user(username, role, location_code, password, actor="cli")
    where = f" at {user.location.code}" if user.location else ""
    click.echo(f"created {user.role} {user.username}{where}")


def _codes(value: str | None) -> list[str]:
    return [code.strip() for code in (value or "").split(",") if code.strip()]


@click.command("create-channel")
@click.argument("code")
@click.option("--name", help="Display name (default: the code).")
@click.option(
    "--ship-from",
    metavar="WH1,ST2",
    help="Locations it sells from for delivery, comma-separated (default: every location that ships).",
)
@click.option("--buffer", type=click.IntRange(min=0), default=0, show_default=True, help="Units held back per sku.")
@with_appcontext
def create_channel_command(code: str, name: str | None, ship_from: str | None, buffer: int) -> None:
    """Create a sales channel and print its bearer token (shown only this once)."""
    from wms.channels.service import create_channel

    channel, token = create_channel(code, name=name, ship_from=_codes(ship_from), buffer=buffer)
    sources = ", ".join(link.location.code for link in channel.ship_from) or "every location that ships"
    click.echo(
        f"created channel {channel.code} ({channel.name}); ships from {sources}; buffer {channel.buffer}", err=True
    )
    click.echo("its bearer token, shown only now:", err=True)
    click.echo(token)


@click.command("create-token")
@click.option("--scope", required=True, type=click.Choice(["integration", "station"]), help="What the token reaches.")
@click.option("--name", help="What it is for, e.g. the ERP's name.")
@click.option("--station", "station_code", metavar="CODE", help="The station of a station token (required then).")
@with_appcontext
def create_token_command(scope: str, name: str | None, station_code: str | None) -> None:
    """Create an API token and print it (shown only this once)."""
    from wms.channels.service import create_token

    if scope == "station" and not station_code:
        raise click.UsageError("--scope station needs --station CODE")
    if scope != "station" and station_code:
        raise click.UsageError("--station goes with --scope station only")
    token = create_token(scope, name=name, station_code=station_code)
    click.echo(f"created {scope} token {name or ''}".rstrip() + "; shown only now:", err=True)
    click.echo(token)


COMMANDS = [create_user_command, create_channel_command, create_token_command]
