"""Sign-in throttling: failures are rows in the database, counted per user name and per client address over the
last minute, so that every app process sees the same count."""

import pytest
from sqlalchemy import func, select

from wms.auth.models import SignInFailure
from wms.auth.queries import sign_in_failures_view
from wms.auth.service import create_user, start_session, verify_sign_in
from wms.errors import TooManyAttempts, Unauthorized
from wms.extensions import db

PASSWORD = "long enough"


@pytest.fixture
def anna(any_app):
    return create_user("anna", "manager", None, PASSWORD)


def _fail(username="anna", address="10.0.0.7", via="form"):
    with pytest.raises(Unauthorized):
        verify_sign_in(username, "wrong password", address, via)


def _failures() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(SignInFailure)).scalar_one()


def test_the_eleventh_try_in_a_minute_is_refused_even_with_the_right_password(anna, clock):
    for _ in range(10):
        _fail()
        clock.advance(seconds=1)
    with pytest.raises(TooManyAttempts) as refused:
        verify_sign_in("anna", PASSWORD, "10.0.0.8", "form")
    # The first failure leaves the window 60 s after it was made, 10 s ago.
    assert refused.value.retry_after == 50
    assert refused.value.code == "too_many_attempts" and refused.value.status == 429
    assert _failures() == 10  # a refused try is not counted: it was never checked
    clock.advance(seconds=50)
    assert verify_sign_in("anna", PASSWORD, "10.0.0.8", "form").username == "anna"


def test_the_user_name_limit_counts_every_address_and_both_ways_in(anna, clock):
    for n in range(10):
        _fail("Anna ", f"10.0.0.{n}", "form" if n % 2 else "token")
    with pytest.raises(TooManyAttempts):
        verify_sign_in("anna", PASSWORD, "10.9.9.9", "token")
    # Another name is not held up by anna's failures.
    create_user("piotr", "manager", None, PASSWORD)
    assert verify_sign_in("piotr", PASSWORD, "10.0.0.1", "form").username == "piotr"


def test_unknown_names_are_counted_like_real_ones(any_app, clock):
    for _ in range(10):
        _fail("nobody")
    with pytest.raises(TooManyAttempts):
        verify_sign_in("nobody", "whatever", "10.0.0.1", "form")


def test_the_address_limit_spans_user_names(anna, clock, any_app, monkeypatch):
    monkeypatch.setitem(any_app.config, "LOGIN_FAILURES_PER_ADDRESS", 15)
    for n in range(15):
        _fail(f"user{n}", "192.0.2.1")
    with pytest.raises(TooManyAttempts) as refused:
        verify_sign_in("anna", PASSWORD, "192.0.2.1", "form")
    assert refused.value.retry_after == 60
    # From another address anna gets in: her name has no failures.
    assert verify_sign_in("anna", PASSWORD, "192.0.2.2", "form").username == "anna"


def test_failures_older_than_a_minute_do_not_count(anna, clock):
    for _ in range(9):
        _fail()
    clock.advance(seconds=61)
    for _ in range(9):
        _fail()
    assert start_session("anna", PASSWORD, "10.0.0.7")[0].username == "anna"


def test_a_limit_of_zero_turns_throttling_off(anna, clock, any_app, monkeypatch):
    monkeypatch.setitem(any_app.config, "LOGIN_FAILURES_PER_USER", 0)
    for _ in range(12):
        _fail()
    assert verify_sign_in("anna", PASSWORD, "10.0.0.7", "form") is not None


def test_failures_older_than_a_day_are_pruned_as_new_ones_come(anna, clock):
    for _ in range(3):
        _fail()
    clock.advance(days=1, seconds=1)
    _fail()
    assert _failures() == 1


def test_failures_are_recorded_with_name_address_and_way_in(anna, clock):
    _fail(" ANNA", "2001:db8::1", "token")
    _fail("x" * 80, None, "form")
    clock.advance(minutes=90)
    _fail("piotr", "10.0.0.7", "form")
    view = sign_in_failures_view(now=clock.now)
    assert [(f.username, f.address, f.via) for f in view.recent] == [
        ("piotr", "10.0.0.7", "form"),
        ("x" * 64, "unknown", "form"),
        ("anna", "2001:db8::1", "token"),
    ]
    assert view.total_day == 3
    # The last hour only: piotr's failure.
    assert [(c.key, c.failures) for c in view.by_username] == [("piotr", 1)]
    assert [(c.key, c.failures) for c in view.by_address] == [("10.0.0.7", 1)]
    clock.advance(days=1)
    assert sign_in_failures_view(now=clock.now).recent == []


def test_retry_after_is_the_longer_of_the_two_waits(anna, clock, any_app, monkeypatch):
    monkeypatch.setitem(any_app.config, "LOGIN_FAILURES_PER_ADDRESS", 3)
    for n in range(10):
        _fail("anna", f"10.0.1.{n}")
    clock.advance(seconds=20)
    for _ in range(3):
        _fail("someone", "10.0.0.7")
    with pytest.raises(TooManyAttempts) as by_both:
        verify_sign_in("anna", PASSWORD, "10.0.0.7", "form")
    with pytest.raises(TooManyAttempts) as by_name:
        verify_sign_in("anna", PASSWORD, "10.0.0.9", "form")
    assert (by_both.value.retry_after, by_name.value.retry_after) == (60, 40)
