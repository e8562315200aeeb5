"""Server-side sessions: a session ends on the server (sign-out, password change, deactivation, idleness), so a
copy of its cookie stops working; "last seen" is written at most once a minute."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from wms.auth.models import User, UserSession
from wms.auth.service import (
    create_user,
    end_session,
    resume_session,
    set_password,
    set_user_active,
    start_session,
)
from wms.errors import NotFound, Unauthorized, ValidationError
from wms.extensions import db

PASSWORD = "long enough"


@pytest.fixture
def anna(any_app):
    return create_user("anna", "manager", None, PASSWORD)


def _resume(user, key):
    # Each request has its own database session; here a fresh read sees what the previous call wrote.
    db.session.rollback()
    return resume_session(str(user.id), key)


def _sessions():
    db.session.rollback()
    return list(db.session.execute(select(UserSession).order_by(UserSession.id)).scalars())


def test_a_session_lives_until_it_is_ended(anna, clock):
    user, key = start_session("Anna", PASSWORD, "10.0.0.7", "Mozilla/5.0 (Linux; Android 11; TC52)")
    assert _resume(user, key).username == "anna"
    (row,) = _sessions()
    assert row.key_hash != key and key not in row.key_hash  # only a hash is stored
    assert row.address == "10.0.0.7" and "TC52" in row.user_agent and row.ended_at is None
    end_session(key)
    assert _resume(user, key) is None
    end_session(key)  # twice: nothing more happens
    end_session(None)


def test_a_key_never_opens_another_users_session(anna, clock):
    other = create_user("piotr", "manager", None, PASSWORD)
    _, key = start_session("anna", PASSWORD, "10.0.0.7")
    assert resume_session(str(other.id), key) is None
    assert _resume(anna, "forged") is None
    assert _resume(anna, "") is None
    assert resume_session("9" * 40, key) is None


def test_a_password_change_ends_every_other_session(anna, clock):
    _, first = start_session("anna", PASSWORD, "10.0.0.7")
    _, second = start_session("anna", PASSWORD, "10.0.0.8")
    _, third = start_session("anna", PASSWORD, "10.0.0.9")
    set_password("anna", "a new password", actor="anna", keep_session=second)
    assert _resume(anna, first) is None
    assert _resume(anna, third) is None
    assert _resume(anna, second) is not None  # the one that changed it
    set_password("anna", "another password", actor="cli")
    assert _resume(anna, second) is None
    with pytest.raises(Unauthorized):  # the old password is gone
        start_session("anna", PASSWORD, "10.0.0.7")
    assert start_session("anna", "another password", "10.0.0.7")[0].id == anna.id


def test_set_password_refuses_a_short_password_and_an_unknown_user(anna, clock):
    _, key = start_session("anna", PASSWORD, "10.0.0.7")
    with pytest.raises(ValidationError) as error:
        set_password("anna", "short")
    assert error.value.details[0]["field"] == "password"
    assert _resume(anna, key) is not None  # nothing changed
    with pytest.raises(NotFound):
        set_password("ghost", "long enough")


def test_deactivation_ends_sessions_for_good(anna, clock):
    _, key = start_session("anna", PASSWORD, "10.0.0.7")
    set_user_active("anna", False, actor="cli")
    assert _resume(anna, key) is None
    assert all(row.ended_at is not None for row in _sessions())
    set_user_active("anna", True, actor="cli")
    assert _resume(anna, key) is None
    assert start_session("anna", PASSWORD, "10.0.0.7") is not None


def test_an_idle_session_ends(anna, clock, any_app, monkeypatch):
    monkeypatch.setitem(any_app.config, "SESSION_IDLE_MINUTES", 30)
    _, key = start_session("anna", PASSWORD, "10.0.0.7")
    clock.advance(minutes=29)
    assert _resume(anna, key) is not None  # and seen now: the 30 minutes start again
    clock.advance(minutes=29)
    assert _resume(anna, key) is not None
    clock.advance(minutes=30, seconds=1)
    assert _resume(anna, key) is None


def test_last_seen_is_written_at_most_once_a_minute(anna, clock):
    _, key = start_session("anna", PASSWORD, "10.0.0.7")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        clock.advance(seconds=30)
        _resume(anna, key)
        assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)
        assert _sessions()[0].last_seen_at.replace(tzinfo=None) == (clock.now - timedelta(seconds=30)).replace(
            tzinfo=None
        )
        statements.clear()
        clock.advance(seconds=31)
        _resume(anna, key)
        assert sum(s.lstrip().upper().startswith("UPDATE") for s in statements) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert _sessions()[0].last_seen_at.replace(tzinfo=None) == clock.now.replace(tzinfo=None)


def test_user_row_records_the_cut_off(anna, clock):
    set_user_active("anna", False)
    assert db.session.get(User, anna.id).cut_off_at is not None
