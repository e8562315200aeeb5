"""Staff accounts: creation, sign-in checks, and which locations a user may see."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from wms.auth.models import User
from wms.auth.rules import new_user_problems, normalise_username
from wms.errors import NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.uow import unit_of_work


def create_user(
    username: str, role: str, location_code: str | None = None, password: str = "", actor: str | None = None
) -> User:
    """Create a staff user with a hashed password; the username is stored in lower case.

    A picker needs a home location, a clerk a store. Raises ValidationError listing every problem at once: a bad
    or taken username, an unknown role or location, a password shorter than 8 characters. Locks nothing (the
    unique username decides between two simultaneous creations).
    """
    username = normalise_username(username)
    location_code = (location_code or "").strip() or None
    try:
        return _create_user(username, role, location_code, password)
    except IntegrityError:
        # Another request created the same username between our check and our commit.
        raise ValidationError.one("username", f"user {username} exists already") from None


def _create_user(username: str, role: str, location_code: str | None, password: str) -> User:
    with unit_of_work() as session:
        location = None
        if location_code:
            location = session.execute(select(Location).where(Location.code == location_code)).scalar_one_or_none()
        errors = new_user_problems(username, role, password, location_code, location.kind if location else None)
        if session.execute(select(User.id).where(User.username == username)).first() is not None:
            errors.insert(0, {"field": "username", "message": f"user {username} exists already"})
        if errors:
            raise ValidationError(errors)
        user = User(username=username, role=role, location_id=location.id if location else None, active=True)
        user.set_password(password)
        user.location = location
        session.add(user)
    return user


def set_user_active(username: str, active: bool, actor: str | None = None) -> User:
    """Let a user sign in again, or stop them: an inactive user's open sessions end at their next request.

    Raises NotFound for an unknown username.
    """
    with unit_of_work() as session:
        user = session.execute(
            select(User).where(User.username == normalise_username(username)).with_for_update()
        ).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {username!r}", {"username": username})
        user.active = active
    return user


def find_user(username: str) -> User | None:
    """The user called ``username`` (any case), or None."""
    return db.session.execute(select(User).where(User.username == normalise_username(username))).scalar_one_or_none()


def load_user(user_id: str) -> User | None:
    """The signed-in user behind a session, or None when unknown or no longer active (the session then ends)."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


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
