"""Channels and tokens: creation, bearer-token authentication, staff tokens, revocation, ship-from locations."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, CompoundSelect, DateTime, bindparam, select, text, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload

from wms.auth.models import User
from wms.auth.rules import TOUCH_INTERVAL, normalise_username, token_expiry
from wms.auth.service import verify_sign_in
from wms.channels.models import ApiToken, Channel, ChannelFeedRead, ChannelLocation
from wms.errors import NotFound, Unauthorized, ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.timeutil import utcnow
from wms.uow import unit_of_work

log = logging.getLogger(__name__)

TOKEN_PREFIXES = {"channel": "wmsc_", "integration": "wmsi_", "station": "wmss_", "staff": "wmsu_"}


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
    #: the person behind a ``staff`` token, and the device it was issued to
    user_id: int | None = None
    username: str | None = None
    role: str | None = None
    device: str | None = None
    #: the staff user's home location
    location_id: int | None = None


# Expired tokens, and staff tokens of users who were deactivated or changed their password since (``cut_off_at``),
# are refused by the same read. ``stale`` says whether ``last_used_at`` is old enough to be written again.
_AUTHENTICATE = text(
    "SELECT t.id, t.scope, t.channel_id, c.code, c.buffer, t.station_id, s.code, t.user_id, u.username, u.role, "
    "t.device, CASE WHEN t.last_used_at IS NULL OR t.last_used_at <= :touch_before THEN 1 ELSE 0 END AS stale, "
    "u.location_id "
    "FROM api_token t "
    "LEFT JOIN channel c ON c.id = t.channel_id "
    "LEFT JOIN station s ON s.id = t.station_id "
    'LEFT JOIN "user" u ON u.id = t.user_id '
    "WHERE t.token_hash = :h AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > :now) "
    "AND (t.user_id IS NULL OR (u.active AND (u.cut_off_at IS NULL OR t.created_at > u.cut_off_at)))"
).bindparams(
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("touch_before", type_=DateTime(timezone=True)),
)
_TOUCH = text(
    "UPDATE api_token SET last_used_at = :now WHERE id = :id AND (last_used_at IS NULL OR last_used_at <= :before)"
).bindparams(bindparam("now", type_=DateTime(timezone=True)), bindparam("before", type_=DateTime(timezone=True)))


def authenticate(token: str, session: Session | None = None) -> Principal:
    """The principal behind a bearer token; raises Unauthorized for an unknown, revoked or expired token, and for
    a staff token whose user was deactivated or changed their password after it was issued.

    One indexed read: on its own autocommit connection, so that it opens no transaction in the request's session;
    or, given the request's ``session`` (PostgreSQL, where a unit of work goes on in the transaction it finds
    open), in that session's transaction: the request then needs one connection and one pool check-out, not two.
    About once a minute per token a second statement records when it was last used, always on its own autocommit
    connection (a failure to write it is logged, never the caller's problem).
    """
    if not token:
        raise Unauthorized("missing bearer token")
    now = utcnow()
    params = {"h": hash_token(token), "now": now, "touch_before": now - TOUCH_INTERVAL}
    if session is not None:
        row = session.connection().execute(_AUTHENTICATE, params).first()
        if row is not None and row[11]:
            _touch(row[0], now)
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            row = conn.execute(_AUTHENTICATE, params).first()
            if row is not None and row[11]:
                _touch(row[0], now, conn)
    if row is None:
        raise Unauthorized("unknown, revoked or expired token")
    return Principal(
        row[0], row[1], row[2], row[3], row[4] or 0, row[5], row[6], row[7], row[8], row[9], row[10], row[12]
    )


def _touch(token_id: int, now: datetime, conn: Connection | None = None) -> None:
    """Record that the token was used (once a minute at most), committed at once whatever the request does."""
    try:
        if conn is not None:
            conn.execute(_TOUCH, {"now": now, "id": token_id, "before": now - TOUCH_INTERVAL})
            return
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as own:
            own.execute(_TOUCH, {"now": now, "id": token_id, "before": now - TOUCH_INTERVAL})
    except OperationalError:
        log.warning("could not record the last use of token %s", token_id, exc_info=True)


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
    scope: str,
    name: str | None = None,
    channel_code: str | None = None,
    station_id: int | None = None,
    username: str | None = None,
    expires_in_days: int | None = None,
    device: str | None = None,
) -> str:
    """Create a token of ``scope`` (``integration``, ``channel``, ``station`` or ``staff``); returns it. Only its
    hash is stored. A station token needs its ``station_id`` (printing's ``create_station_token`` finds it by the
    station's code: stations are printing's, above this layer), a staff token the ``username`` of an active user
    (ValidationError for no station, an unknown or inactive user, or ``expires_in_days`` outside 1-3650)."""
    if scope not in TOKEN_PREFIXES:
        raise ValidationError.one("scope", f"must be one of {', '.join(TOKEN_PREFIXES)}")
    now = utcnow()
    try:
        expires_at = token_expiry(now, expires_in_days)
    except ValueError as exc:
        raise ValidationError.one("expires_in", str(exc).partition(": ")[2]) from None
    with unit_of_work() as session:
        channel_id = user_id = None
        station_id = station_id if scope == "station" else None
        if scope == "staff":
            user = session.execute(
                select(User).where(User.username == normalise_username(username or ""))
            ).scalar_one_or_none()
            if user is None:
                raise ValidationError.one("user", f"unknown user {username!r}")
            if not user.active:
                raise ValidationError.one("user", f"user {user.username} is not active")
            user_id = user.id
            name = name or f"{user.username} staff token"
        if scope == "channel":
            channel = session.execute(select(Channel).where(Channel.code == channel_code)).scalar_one_or_none()
            if channel is None:
                raise ValidationError.one("channel", f"unknown channel {channel_code!r}")
            channel_id = channel.id
        if scope == "station" and station_id is None:
            raise ValidationError.one("station", "a station token needs its station")
        return _new_token(
            session,
            scope,
            name or f"{scope} token",
            channel_id,
            station_id,
            user_id=user_id,
            expires_at=expires_at,
            device=device,
            now=now,
        )


def _new_token(
    session: Session,
    scope: str,
    name: str,
    channel_id: int | None,
    station_id: int | None = None,
    user_id: int | None = None,
    expires_at: datetime | None = None,
    device: str | None = None,
    now: datetime | None = None,
) -> str:
    token = TOKEN_PREFIXES[scope] + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name[:200],
            scope=scope,
            channel_id=channel_id,
            station_id=station_id,
            user_id=user_id,
            device=device,
            expires_at=expires_at,
            token_hash=hash_token(token),
            prefix=token[:9],
            created_at=now or utcnow(),
        )
    )
    return token


def issue_staff_token(username: str, password: str, device: str | None, address: str | None) -> tuple[User, str]:
    """Sign a person in for the staff API: returns the user and a new staff bearer token (shown only now).

    Throttled and recorded like the sign-in page (``verify_sign_in`` raises TooManyAttempts or Unauthorized, the
    same for a wrong name and a wrong password). Locks nothing.
    """
    user = verify_sign_in(username, password, address, "token")
    label = f"{user.username} on {device}" if device else f"{user.username} staff token"
    with unit_of_work() as session:
        token = _new_token(session, "staff", label, None, user_id=user.id, device=device)
    return user, token


def revoke_token(token_id: int, actor: str | None = None) -> ApiToken:
    """Revoke a token at once: its next request gets 401. Revoking a revoked token changes nothing.

    Locks the token row. Raises NotFound for an unknown id.
    """
    with unit_of_work() as session:
        token = session.execute(select(ApiToken).where(ApiToken.id == token_id).with_for_update()).scalar()
        if token is None:
            raise NotFound(f"no token {token_id}", {"id": token_id})
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            token.revoked_by = actor
    return token


@dataclass(frozen=True)
class TokenListing:
    """A token as ``wms tokens`` shows it: never its secret (which is not stored) nor its hash."""

    id: int
    scope: str
    name: str
    #: the channel, station or user it belongs to
    owner: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    #: when it stopped working by revocation, or by its user's deactivation or password change
    revoked_at: datetime | None


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive UTC; objects still in the session may carry a zone.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def list_tokens() -> list[TokenListing]:
    """Every token, oldest first."""
    tokens = db.session.execute(
        select(ApiToken)
        .options(joinedload(ApiToken.channel), joinedload(ApiToken.station), joinedload(ApiToken.user))
        .order_by(ApiToken.id)
    ).scalars()
    listing = []
    for token in tokens:
        revoked = token.revoked_at
        cut_off_at = token.user.cut_off_at if token.user else None
        if revoked is None and cut_off_at is not None and _utc(cut_off_at) >= _utc(token.created_at):
            revoked = cut_off_at
        owner = token.channel or token.station
        listing.append(
            TokenListing(
                token.id,
                token.scope,
                token.name,
                owner.code if owner else token.user.username if token.user else None,
                token.created_at,
                token.last_used_at,
                token.expires_at,
                revoked,
            )
        )
    return listing


def ship_from_ids(channel_id: int | ColumnElement[int]) -> CompoundSelect:
    """The ids of the channel's ship-from locations, as a Core query: its explicit list, else every location
    that ships. The one statement of that rule: routing, the availability reads, the change feed and the full
    feed all embed this query (``channel_id`` may be a bind parameter or a literal)."""
    # Never correlated: embedded in a query over ``location`` it must still read the whole table.
    links, locations = ChannelLocation.__table__.c, Location.__table__.c
    explicit = select(links.location_id).where(links.channel_id == channel_id).correlate(None)
    every_shipping = select(locations.id).where(locations.ships, ~explicit.exists()).correlate(None)
    # UNION ALL: at most one side has rows, each id once (the list's key is (channel, location)), so no dedup.
    return union_all(explicit, every_shipping)


def ship_from_locations(session: Session, channel_id: int) -> list[Location]:
    """The channel's ship-from locations (:func:`ship_from_ids`) in routing order: warehouses by priority, then
    stores. One read; locks nothing."""
    locations = list(session.execute(select(Location).where(Location.id.in_(ship_from_ids(channel_id)))).scalars())
    # Sorted here, not by the database, whose collation may order codes differently from one server to another.
    locations.sort(key=lambda loc: (loc.kind != "warehouse", loc.priority, loc.code))
    return locations


def mute_feed_lag(channel_code: str, hours: int = 24) -> datetime:
    """Hide the channel's feed-lag exception for ``hours`` (a manager has seen it and told the integrator); it comes
    back after that if the channel still lags. Locks the channel's feed row. Raises NotFound when the channel does
    not exist or has never read the change feed. Returns until when."""
    until = utcnow() + timedelta(hours=hours)
    with unit_of_work() as session:
        row = session.execute(
            select(ChannelFeedRead)
            .join(Channel, Channel.id == ChannelFeedRead.channel_id)
            .where(Channel.code == channel_code)
            .with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"channel {channel_code} does not read the change feed", {"channel": channel_code})
        row.muted_until = until
    return until
