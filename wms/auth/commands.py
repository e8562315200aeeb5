"""Credentials from the command line: staff users (create, deactivate, activate, new password), sales channels
with their first token, API tokens (create, list, revoke).

Each command calls one service; a domain error ends it with a one-line message and exit status 1 (``wms.cli``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from wms.auth.models import LANGUAGES, ROLES
from wms.auth.service import create_user, find_user, set_password, set_user_active
from wms.channels.models import ISSUED_SCOPES
from wms.channels.service import create_channel, create_token, list_tokens, revoke_token
from wms.printing.stations import create_station_token


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--location", "location_code", metavar="CODE", help="Home location (pickers: required; clerks: a store).")
@click.option("--password", help="Asked for twice, hidden, when not given (safer: stays out of shell history).")
@click.option(
    "--language", type=click.Choice(LANGUAGES), help="Language of their pages (default: what their browser asks for)."
)
@with_appcontext
def create_user_command(
    username: str, role: str, location_code: str | None, password: str | None, language: str | None
) -> None:
    """Create a staff user."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    user = create_user(username, role, location_code, password, actor="cli", language=language)
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
    channel, token = create_channel(code, name=name, ship_from=_codes(ship_from), buffer=buffer)
    sources = ", ".join(link.location.code for link in channel.ship_from) or "every location that ships"
    click.echo(
        f"created channel {channel.code} ({channel.name}); ships from {sources}; buffer {channel.buffer}", err=True
    )
    click.echo("its bearer token, shown only now:", err=True)
    click.echo(token)


@click.command("create-token")
@click.option("--scope", required=True, type=click.Choice(ISSUED_SCOPES), help="What the token reaches.")
@click.option("--name", help="What it is for, e.g. the ERP's name.")
@click.option("--station", "station_code", metavar="CODE", help="The station of a station token (required then).")
@click.option("--user", "username", metavar="NAME", help="The person a staff token signs in (required then).")
@click.option("--device", help="The device a staff token is for, as shown by `wms tokens`.")
@click.option(
    "--expires-in", type=click.IntRange(1, 3650), metavar="DAYS", help="Refuse the token after this many days."
)
@with_appcontext
def create_token_command(
    scope: str,
    name: str | None,
    station_code: str | None,
    username: str | None,
    device: str | None,
    expires_in: int | None,
) -> None:
    """Create an API token and print it (shown only this once)."""
    if (scope == "station") != bool(station_code):
        raise click.UsageError("--scope station needs --station CODE, and --station goes with it only")
    if (scope == "staff") != bool(username):
        raise click.UsageError("--scope staff needs --user NAME, and --user goes with it only")
    if device and scope != "staff":
        raise click.UsageError("--device goes with --scope staff only")
    if scope == "station":
        token = create_station_token(station_code, name=name, expires_in_days=expires_in)
    else:
        token = create_token(scope, name=name, username=username, expires_in_days=expires_in, device=device)
    until = f", expires in {expires_in} days" if expires_in else ""
    click.echo(f"created {scope} token {name or ''}".rstrip() + f"{until}; shown only now:", err=True)
    click.echo(token)


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


@click.command("tokens")
@with_appcontext
def tokens_command() -> None:
    """List API tokens (never their secrets, which are not stored). Times in UTC."""
    header = ("id", "scope", "name", "channel/station/user", "created", "last used", "expires", "revoked")
    rows = [
        (
            str(t.id),
            t.scope,
            t.name,
            t.owner or "-",
            _when(t.created_at),
            _when(t.last_used_at),
            _when(t.expires_at),
            _when(t.revoked_at),
        )
        for t in list_tokens()
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@click.command("revoke-token")
@click.argument("token_id", metavar="ID", type=click.IntRange(min=1, max=2**63 - 1))
@with_appcontext
def revoke_token_command(token_id: int) -> None:
    """Revoke a token at once (its next request gets 401). ID as listed by `wms tokens`."""
    token = revoke_token(token_id, actor="cli")
    click.echo(f"revoked {token.scope} token {token.id} ({token.name})")


@click.command("deactivate-user")
@click.argument("username")
@with_appcontext
def deactivate_user_command(username: str) -> None:
    """Stop a user at once: their sessions end and their staff tokens stop working."""
    user = set_user_active(username, False, actor="cli")
    click.echo(f"deactivated {user.username}; their sessions and staff tokens have ended")


@click.command("activate-user")
@click.argument("username")
@with_appcontext
def activate_user_command(username: str) -> None:
    """Let a deactivated user sign in again (old sessions and tokens stay ended)."""
    user = set_user_active(username, True, actor="cli")
    click.echo(f"activated {user.username}")


@click.command("set-password")
@click.argument("username")
@with_appcontext
def set_password_command(username: str) -> None:
    """Give a user a new password (asked for twice, hidden); their sessions and staff tokens end."""
    if find_user(username) is None:  # say so before asking for a password
        raise click.ClickException(f"no user {username!r}")
    password = click.prompt("New password", hide_input=True, confirmation_prompt="Repeat the password")
    user = set_password(username, password, actor="cli")
    click.echo(f"changed the password of {user.username}; their sessions and staff tokens have ended")


COMMANDS = [
    create_user_command,
    create_channel_command,
    create_token_command,
    tokens_command,
    revoke_token_command,
    deactivate_user_command,
    activate_user_command,
    set_password_command,
]
