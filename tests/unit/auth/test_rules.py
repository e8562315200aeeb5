from datetime import UTC, datetime, timedelta

import pytest

from wms.auth.rules import (
    needs_touch,
    new_user_problems,
    normalise_username,
    password_problems,
    safe_next,
    session_idle_cutoff,
    throttle_wait,
    token_expiry,
)


@pytest.mark.parametrize("target", ["/", "/orders", "/orders/12?tab=lines", "/hh/pick?wave=3#top"])
def test_paths_on_this_site_are_safe(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "orders",  # relative: resolved against the login URL, never meant
        "http://evil.example/",
        "https://evil.example/login",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",  # browsers drop tabs and newlines: this is //evil.example
        "/\n/evil.example/",
        "javascript:alert(1)",
        "https:/evil.example",
        " /orders",
        "/" + "a" * 2001,
    ],
)
def test_other_sites_and_odd_targets_are_refused(target):
    assert safe_next(target) is None


def test_usernames_ignore_case_and_blanks():
    assert normalise_username("  Clerk.KRK ") == "clerk.krk"
    assert normalise_username(None) == ""


def test_a_good_account_has_no_problems():
    assert new_user_problems("anna", "manager", "long enough", None, None) == []
    assert new_user_problems("piotr", "picker", "long enough", "WH1", "warehouse") == []
    assert new_user_problems("piotr", "picker", "long enough", "ST1", "store") == []
    assert new_user_problems("kasia", "clerk", "long enough", "ST1", "store") == []
    assert new_user_problems("boss", "admin", "long enough", "WH1", "warehouse") == []


def _fields(problems):
    return {p["field"]: p["message"] for p in problems}


def test_every_problem_is_reported_at_once():
    problems = _fields(new_user_problems("", "boss", "short", None, None))
    assert set(problems) == {"username", "role", "password"}
    assert "at least 8" in problems["password"]


@pytest.mark.parametrize(
    ("role", "code", "kind", "fragment"),
    [
        ("picker", None, None, "needs a home location"),
        ("clerk", None, None, "needs a home location"),
        ("clerk", "WH1", "warehouse", "must be a store"),
        ("manager", "NOPE", None, "unknown location"),
    ],
)
def test_home_location_rules(role, code, kind, fragment):
    problems = _fields(new_user_problems("someone", role, "long enough", code, kind))
    assert list(problems) == ["location"]
    assert fragment in problems["location"]


@pytest.mark.parametrize("username", ["with space", "-dash-first", "ąę", "x" * 65, "semi;colon"])
def test_bad_usernames(username):
    assert "username" in _fields(new_user_problems(username, "manager", "long enough", None, None))


def test_overlong_password_is_refused():
    assert "password" in _fields(new_user_problems("anna", "manager", "x" * 257, None, None))


# --- throttling, touching, expiry ----------------------------------------------------------------------------

NOW = datetime(2026, 12, 6, 22, 0, 0, tzinfo=UTC)


def test_no_throttle_below_the_limit():
    assert throttle_wait(None, NOW) is None


@pytest.mark.parametrize(
    ("ago", "wait"),
    [(timedelta(0), 60), (timedelta(seconds=1), 59), (timedelta(seconds=59.5), 1), (timedelta(seconds=0.2), 60)],
)
def test_throttle_lasts_until_the_limit_th_failure_leaves_the_window(ago, wait):
    assert throttle_wait(NOW - ago, NOW) == wait


def test_throttle_ends_when_the_failure_has_left_the_window():
    assert throttle_wait(NOW - timedelta(seconds=60), NOW) is None
    assert throttle_wait(NOW - timedelta(minutes=5), NOW) is None


def test_throttle_never_says_zero_seconds():
    assert throttle_wait(NOW - timedelta(seconds=59, microseconds=999_999), NOW) == 1


def test_touch_at_most_once_a_minute():
    assert needs_touch(None, NOW)
    assert not needs_touch(NOW - timedelta(seconds=59), NOW)
    assert needs_touch(NOW - timedelta(seconds=60), NOW)


def test_idle_cutoff():
    assert session_idle_cutoff(NOW, 720) == NOW - timedelta(hours=12)


def test_token_expiry():
    assert token_expiry(NOW, None) is None
    assert token_expiry(NOW, 30) == NOW + timedelta(days=30)
    for days in (0, -1, 3651):
        with pytest.raises(ValueError, match="1 to 3650 days"):
            token_expiry(NOW, days)


def test_password_problems():
    assert password_problems("long enough") == []
    assert password_problems("short")[0]["field"] == "password"
    assert "at most" in password_problems("x" * 257)[0]["message"]
