import pytest

from wms.auth.rules import new_user_problems, normalise_username, safe_next


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
