from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from wms.enums import check_in, values
from wms.extensions import db
from wms.timeutil import utcnow


class Role(StrEnum):
    """What a user may do."""

    PICKER = "picker"
    CLERK = "clerk"
    MANAGER = "manager"
    ADMIN = "admin"


class Language(StrEnum):
    """The languages pages speak (``wms/translations``); a user without one gets the browser's best match."""

    PL = "pl"
    EN = "en"


class SignInVia(StrEnum):
    """Where a sign-in was tried: the login form or ``POST /api/v1/staff/tokens``."""

    FORM = "form"
    TOKEN = "token"


ROLES = values(Role)
#: roles that run the place: users, printers, sign-in failures
MANAGER_ROLES = values([Role.MANAGER, Role.ADMIN])
SIGN_IN_CHANNELS = values(SignInVia)
LANGUAGES = values(Language)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (check_in("role", Role), check_in("language", Language))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    #: home location; a clerk sees only this store
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: staff tokens issued before this moment no longer work: set when the user is deactivated or their password
    #: changes (the token check compares it in the query it makes anyway, so cutting tokens off costs no write there)
    cut_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: who made the last change (``StockMovement.actor``'s naming: a user name, ``integration:<token id>``, ``cli``)
    updated_by: Mapped[str | None] = mapped_column(String(128))
    #: the language of their pages; None: the browser's Accept-Language, else ``WMS_DEFAULT_LANGUAGE``
    language: Mapped[str | None] = mapped_column(String(2))

    location = relationship("Location")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class UserSession(db.Model):
    """A signed-in browser: the Flask session cookie carries a random key whose SHA-256 is stored here, so that
    ending the row (sign-out, password change, deactivation, idleness) ends the session wherever the cookie went."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: last request seen, updated at most once a minute; the session ends when it is older than the idle limit
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: the browser's User-Agent, to tell a user's sessions apart
    user_agent: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))

    user = relationship("User")


class SignInFailure(db.Model):
    """A wrong username or password. Recent rows are counted to throttle guessing (in the database, so that every
    app process sees the same count); rows older than a day are deleted as new ones come in."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        check_in("via", SignInVia),
        Index("ix_sign_in_failure_username_at", "username", "at"),
        Index("ix_sign_in_failure_address_at", "address", "at"),
        Index("ix_sign_in_failure_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    #: the name as typed (normalised), whether or not such a user exists
    username: Mapped[str] = mapped_column(String(64))
    #: the client's address (the proxy's client with ``WMS_BEHIND_PROXY``)
    address: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
