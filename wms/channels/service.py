"""Channels and tokens: creation, bearer-token authentication, ship-from locations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from wms.channels.models import ApiToken, Channel, ChannelLocation
from wms.errors import Unauthorized, ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.uow import unit_of_work

TOKEN_PREFIXES = {"channel": "wmsc_", "integration": "wmsi_", "station": "wmss_"}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: a token's scope, and its channel for channel tokens."""

    token_id: int
    scope: str
    channel_id: int | None
    channel_code: str | None
    channel_buffer: int
    #: the station of a ``station`` token
    station_id: int | None = None
    station_code: str | None = None


def authenticate(token: str) -> Principal:
    """The principal behind a bearer token; raises Unauthorized for an unknown or revoked token.

    One indexed read on its own autocommit connection, so that it opens no transaction in the request's session.
    """
    if not token:
        raise Unauthorized("missing bearer token")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        row = conn.execute(
            text(
                "SELECT t.id, t.scope, t.channel_id, c.code, c.buffer, t.station_id, s.code FROM api_token t "
                "LEFT JOIN channel c ON c.id = t.channel_id "
                "LEFT JOIN station s ON s.id = t.station_id "
                "WHERE t.token_hash = :h AND t.revoked_at IS NULL"
            ),
            {"h": hash_token(token)},
        ).first()
    if row is None:
        raise Unauthorized("unknown or revoked token")
    return Principal(row[0], row[1], row[2], row[3], row[4] or 0, row[5], row[6])


def create_channel(
    code: str, name: str | None = None, ship_from: list[str] | None = None, buffer: int = 0
) -> tuple[Channel, str]:
    """Create a sales channel and its first token. Returns (channel, token); the token is shown only once.

    Raises ValidationError for an existing code, an unknown ship-from location or a negative buffer.
    """
    if buffer < 0:
        raise ValidationError.one("buffer", "must be 0 or more")
    with unit_of_work() as session:
        if session.execute(select(Channel).where(Channel.code == code)).scalar_one_or_none():
            raise ValidationError.one("code", f"channel {code} exists already")
        channel = Channel(code=code, name=name or code, buffer=buffer)
        session.add(channel)
        session.flush()
        set_ship_from(session, channel, ship_from or [])
        token = _new_token(session, "channel", f"{code} channel token", channel.id)
    return channel, token


def set_ship_from(session: Session, channel: Channel, codes: list[str]) -> None:
    locations = {loc.code: loc for loc in session.execute(select(Location).where(Location.code.in_(codes))).scalars()}
    unknown = [c for c in codes if c not in locations]
    if unknown:
        raise ValidationError.one("ship_from", f"unknown location(s): {', '.join(unknown)}")
    channel.ship_from = [
        ChannelLocation(location_id=locations[c].id, position=i) for i, c in enumerate(dict.fromkeys(codes))
    ]


def create_token(
    scope: str, name: str | None = None, channel_code: str | None = None, station_code: str | None = None
) -> str:
    """Create a token of ``scope`` (``integration``, ``channel`` or ``station``); returns it. Only its hash is
    stored. A station token needs ``station_code`` (ValidationError for an unknown station)."""
    if scope not in TOKEN_PREFIXES:
        raise ValidationError.one("scope", "must be channel, integration or station")
    with unit_of_work() as session:
        channel_id = station_id = None
        if scope == "channel":
            channel = session.execute(select(Channel).where(Channel.code == channel_code)).scalar_one_or_none()
            if channel is None:
                raise ValidationError.one("channel", f"unknown channel {channel_code!r}")
            channel_id = channel.id
        if scope == "station":
            from wms.printing.models import Station

            station = session.execute(select(Station).where(Station.code == station_code)).scalar_one_or_none()
            if station is None:
                raise ValidationError.one("station", f"unknown station {station_code!r}")
            station_id = station.id
            name = name or f"{station.code} station token"
        return _new_token(session, scope, name or f"{scope} token", channel_id, station_id)


def _new_token(session: Session, scope: str, name: str, channel_id: int | None, station_id: int | None = None) -> str:
    token = TOKEN_PREFIXES[scope] + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name,
            scope=scope,
            channel_id=channel_id,
            station_id=station_id,
            token_hash=hash_token(token),
            prefix=token[:9],
        )
    )
    return token


def ship_from_locations(session: Session, channel_id: int) -> list[Location]:
    """The channel's ship-from locations in routing order: warehouses by priority, then stores.

    A channel without an explicit list ships from every location that ships.
    """
    explicit = session.execute(
        select(Location)
        .join(ChannelLocation, ChannelLocation.location_id == Location.id)
        .where(ChannelLocation.channel_id == channel_id)
    ).scalars()
    locations = list(explicit)
    if not locations:
        locations = list(session.execute(select(Location).where(Location.ships.is_(True))).scalars())
    locations.sort(key=lambda loc: (loc.kind != "warehouse", loc.priority, loc.code))
    return locations
