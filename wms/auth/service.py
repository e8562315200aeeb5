"""Staff accounts: creation, sign-in (throttled), server-side sessions, cutting a user off, and which locations
a user may see."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from werkzeug.security import check_password_hash, generate_password_hash

from wms.auth.models import SignInFailure, User, UserSession
from wms.auth.rules import (
    FAILURE_RETENTION,
    THROTTLE_WINDOW,
    language_problems,
    needs_touch,
    new_user_problems,
    normalise_username,
    password_problems,
    session_idle_cutoff,
    throttle_wait,
)
from wms.errors import NotFound, TooManyAttempts, Unauthorized, ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.timeutil import utcnow
from wms.uow import unit_of_work

log = logging.getLogger(__name__)

#: one answer for an unknown user, a wrong password and an inactive user: it must not tell them apart
WRONG_SIGN_IN = "wrong username or password"


def create_user(
    username: str,
    role: str,
    location_code: str | None = None,
    password: str = "",
    actor: str | None = None,
    language: str | None = None,
) -> User:
    """Create a staff user with a hashed password; the username is stored in lower case. ``language`` (pl, en) is
    the language of their pages; None follows their browser.

    A picker needs a home location, a clerk a store. Raises ValidationError listing every problem at once: a bad
    or taken username, an unknown role, location or language, a password shorter than 8 characters. Locks nothing
    (the unique username decides between two simultaneous creations).
    """
    username = normalise_username(username)
    location_code = (location_code or "").strip() or None
    try:
        return _create_user(username, role, location_code, password, actor, language)
    except IntegrityError:
        # Another request created the same username between our check and our commit.
        raise ValidationError.one("username", f"user {username} exists already") from None


def _create_user(
    username: str, role: str, location_code: str | None, password: str, actor: str | None, language: str | None
) -> User:
    with unit_of_work() as session:
        location = None
        if location_code:
            location = session.execute(select(Location).where(Location.code == location_code)).scalar_one_or_none()
        errors = new_user_problems(username, role, password, location_code, location.kind if location else None)
        errors.extend(language_problems(language))
        if session.execute(select(User.id).where(User.username == username)).first() is not None:
            errors.insert(0, {"field": "username", "message": f"user {username} exists already"})
        if errors:
            raise ValidationError(errors)
        user = User(
            username=username,
            role=role,
            location_id=location.id if location else None,
            active=True,
            updated_by=actor,
            language=language,
        )
        user.set_password(password)
        user.location = location
        session.add(user)
    return user


def set_user_active(username: str, active: bool, actor: str | None = None) -> User:
    """Let a user sign in again, or stop them at once: deactivation ends every session of theirs and every staff
    token issued to them (activating again revives neither: they sign in anew).

    Locks the user row. Raises NotFound for an unknown username.
    """
    now = utcnow()
    with unit_of_work() as session:
        user = _lock_user(session, username)
        user.active = active
        user.updated_by = actor
        if not active:
            user.cut_off_at = now
            _end_sessions(session, user.id, now)
    return user


def set_password(username: str, password: str, actor: str | None = None, keep_session: str | None = None) -> User:
    """Give a user a new password. Every session of theirs ends but ``keep_session`` (the key of the session that
    made the change, if any), and every staff token issued to them stops working.

    Locks the user row. Raises NotFound for an unknown username, ValidationError for a password that is too short
    or too long.
    """
    problems = password_problems(password)
    if problems:
        raise ValidationError(problems)
    now = utcnow()
    with unit_of_work() as session:
        user = _lock_user(session, username)
        user.set_password(password)
        user.cut_off_at = now
        user.updated_by = actor
        _end_sessions(session, user.id, now, keep=_hash(keep_session) if keep_session else None)
    return user


def _lock_user(session, username: str) -> User:
    user = session.execute(
        select(User).where(User.username == normalise_username(username)).with_for_update()
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r}", {"username": username})
    return user


def _end_sessions(session, user_id: int, now: datetime, keep: str | None = None) -> None:
    statement = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep:
        statement = statement.where(UserSession.key_hash != keep)
    session.execute(statement.values(ended_at=now))


def find_user(username: str) -> User | None:
    """The user called ``username`` (any case), or None."""
    return db.session.execute(select(User).where(User.username == normalise_username(username))).scalar_one_or_none()


def known_user(user_id: int, username: str, role: str, location_id: int | None) -> User:
    """The active user the caller's token check has just read (it refuses inactive users and cut-off tokens), put
    into the request's session without reading the row again: a staff token's every call saves that read. The
    other columns load when first used, like any expired attribute."""
    session = db.session()
    loaded = session.identity_map.get(identity_key(User, user_id))
    if loaded is not None:
        return loaded
    user = User(id=user_id, username=username, role=role, location_id=location_id, active=True)
    make_transient_to_detached(user)
    session.add(user)  # attached as it is (a merge would copy it): persistent, no statement
    return user


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- sign-in and sessions ------------------------------------------------------------------------------------


def verify_sign_in(username: str, password: str, address: str | None, via: str) -> User:
    """The active user with this name and password, for a sign-in through ``via`` (``form`` or ``token``) from
    the client ``address``.

    Raises TooManyAttempts, before any password is checked, while the name or the address has more recent
    failures than the settings allow (``LOGIN_FAILURES_PER_USER``, ``LOGIN_FAILURES_PER_ADDRESS`` a minute);
    Unauthorized for a wrong name or password or an inactive user (the same answer), after recording the failure
    in its own unit of work. Locks nothing: two simultaneous failures may both be let through, which costs an
    attacker nothing worth having.
    """
    name = normalise_username(username)[:64]
    address = (address or "unknown")[:64]
    now = utcnow()
    wait = _throttle_wait(name, address, now)
    if wait is not None:
        raise TooManyAttempts(wait)
    user = authenticate_user(name, password)
    if user is None:
        with unit_of_work() as session:
            # Pruning here keeps the table to a day of failures without a job; the index on ``at`` makes it cheap.
            session.execute(delete(SignInFailure).where(SignInFailure.at < now - FAILURE_RETENTION))
            session.add(SignInFailure(username=name, address=address, via=via, at=now))
        raise Unauthorized(WRONG_SIGN_IN)
    return user


def _throttle_wait(username: str, address: str, now: datetime) -> int | None:
    config = current_app.config
    waits = [
        _wait_for(SignInFailure.username, username, int(config["LOGIN_FAILURES_PER_USER"]), now),
        _wait_for(SignInFailure.address, address, int(config["LOGIN_FAILURES_PER_ADDRESS"]), now),
    ]
    waits = [w for w in waits if w is not None]
    return max(waits) if waits else None


def _wait_for(column, value: str, limit: int, now: datetime) -> int | None:
    if limit <= 0:
        return None  # throttling off for this key
    # The limit-th newest failure within the window: while it exists, the window holds ``limit`` failures.
    at = db.session.execute(
        select(SignInFailure.at)
        .where(column == value, SignInFailure.at > now - THROTTLE_WINDOW)
        .order_by(SignInFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    ).scalar()
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=now.tzinfo)  # SQLite hands back naive UTC
    return throttle_wait(at, now)


def start_session(username: str, password: str, address: str | None, user_agent: str | None = None) -> tuple[User, str]:
    """Sign in through the login form: returns the user and the key of their new server-side session (the
    cookie carries the key; only its hash is stored). Raises like :func:`verify_sign_in`."""
    user = verify_sign_in(username, password, address, "form")
    key = secrets.token_urlsafe(32)
    now = utcnow()
    with unit_of_work() as session:
        session.add(
            UserSession(
                key_hash=_hash(key),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                user_agent=(user_agent or "")[:200] or None,
                address=(address or "")[:64] or None,
            )
        )
    return user, key


def resume_session(user_id: str, key: str | None) -> User | None:
    """The user of a session cookie, or None when its server-side session has ended (signed out, password
    changed, deactivated), has been idle longer than ``SESSION_IDLE_MINUTES``, or does not belong to ``user_id``.

    One read; the session's "last seen" time is written at most once a minute, on its own autocommit connection
    (a failure to write it is logged and does not end the session).
    """
    if not key:
        return None
    now = utcnow()
    idle = float(current_app.config["SESSION_IDLE_MINUTES"])
    row = db.session.execute(
        select(User, UserSession.id, UserSession.last_seen_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.key_hash == _hash(key),
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > session_idle_cutoff(now, idle),
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    user, session_id, last_seen = row
    if str(user.id) != str(user_id):
        return None
    if last_seen.tzinfo is None:
        last_seen = last_seen.replace(tzinfo=now.tzinfo)
    if needs_touch(last_seen, now):
        _touch_session(session_id, now)
    return user


def _touch_session(session_id: int, now: datetime) -> None:
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(
                update(UserSession)
                .where(UserSession.id == session_id, UserSession.last_seen_at < now)
                .values(last_seen_at=now)
            )
    except OperationalError:
        log.warning("could not record the last request of session %s", session_id, exc_info=True)


def change_own_password(
    username: str, current_password: str, new_password: str, address: str | None, session_key: str | None
) -> User:
    """A signed-in user's new password: the current one is checked like a sign-in (throttled, a wrong one recorded
    as a failure), then every other session of theirs and every staff token issued to them ends; the session with
    ``session_key`` (the one making the change) goes on.

    Raises ValidationError for a new password that is too short or too long (before anything is checked),
    TooManyAttempts or Unauthorized like :func:`verify_sign_in`. Locks the user row.
    """
    problems = password_problems(new_password)
    if problems:
        raise ValidationError([{"field": "new_password", "message": p["message"]} for p in problems])
    user = verify_sign_in(username, current_password, address, "form")
    return set_password(user.username, new_password, actor=user.username, keep_session=session_key)


def set_user_language(username: str, language: str | None, actor: str) -> User:
    """The language of a user's pages (pl, en; None: follow the browser). Raises ValidationError for another value,
    NotFound for an unknown user. Locks the user row."""
    problems = language_problems(language)
    if problems:
        raise ValidationError(problems)
    with unit_of_work() as session:
        user = session.execute(
            select(User).where(User.username == normalise_username(username)).with_for_update()
        ).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {username!r}", {"username": username})
        user.language = language
        user.updated_by = actor
    return user


def end_session(key: str | None) -> None:
    """Sign out: the session with this key ends on the server, so a copy of its cookie no longer works.
    Nothing happens for an unknown or ended session."""
    if not key:
        return
    with unit_of_work() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.key_hash == _hash(key), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


@cache
def _dummy_hash() -> str:
    return generate_password_hash("not a password of anyone")


def authenticate_user(username: str, password: str) -> User | None:
    """The active user with this username and password, or None.

    Unknown user, wrong password and inactive user all give None after the same amount of hashing work, so
    neither the answer nor its timing tells which usernames exist.
    """
    user = find_user(username)
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def visible_locations(user: User) -> list[Location]:
    """The locations ``user`` may see, by code: managers and admins all, a picker their own location, a clerk
    only their own store. Later screens filter by this list."""
    query = select(Location).order_by(Location.kind.desc(), Location.code)  # warehouses first, then stores
    if user.role in ("manager", "admin"):
        return list(db.session.execute(query).scalars())
    if user.location_id is None:
        return []
    if user.role == "clerk":
        query = query.where(Location.kind == "store")
    return list(db.session.execute(query.where(Location.id == user.location_id)).scalars())


def can_see_location(user: User, location_id: int) -> bool:
    """Whether ``user`` may see the location with this id (see :func:`visible_locations`)."""
    return any(location.id == location_id for location in visible_locations(user))
