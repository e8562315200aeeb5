"""Staff tokens over HTTP: sign in for the staff API, throttled like the sign-in page; sign out; and the
``require_staff`` decorator that the floor endpoints build on."""

from __future__ import annotations

import re

import pytest
from flask import g

from tests.factories import fast_password_hashing, make_location
from tests.web.staff import new_client
from wms.api import require_staff
from wms.auth.service import create_user, set_password, set_user_active
from wms.channels.service import authenticate, create_token
from wms.errors import Forbidden, Unauthorized

PASSWORD = "sekret-123"
URL = "/api/v1/staff/tokens"


@pytest.fixture
def staff(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    make_location("WH1", "warehouse")
    create_user("piotr", "picker", "WH1", PASSWORD)
    create_user("boss", "manager", None, PASSWORD)
    return any_app


@pytest.fixture
def client(staff):
    return new_client(staff)


def _token_for(client, username="piotr", password=PASSWORD, **body):
    return client.post(URL, json={"username": username, "password": password, **body})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _caller(app, headers, method="GET"):
    """Who ``require_staff`` finds behind a request with these headers: (user name, device)."""
    view = require_staff()(lambda: (g.user.username, g.device))
    # A fresh app context, as every real request has: Flask-Login keeps the user it found in ``g``.
    with app.app_context(), app.test_request_context("/api/v1/anything", method=method, headers=headers):
        return view()


def test_sign_in_gives_a_token_that_reaches_the_staff_api(client, staff):
    r = _token_for(client, " Piotr", device="TC52 #7")
    assert r.status_code == 201, r.json
    assert set(r.json) == {"token", "user"}
    assert r.json["user"] == {"name": "piotr", "role": "picker", "location": "WH1"}
    assert _caller(staff, _bearer(r.json["token"])) == ("piotr", "TC52 #7")
    manager = _token_for(client, "boss")
    assert manager.json["user"] == {"name": "boss", "role": "manager", "location": None}


def test_a_wrong_name_and_a_wrong_password_get_the_same_401(client):
    wrong_password = _token_for(client, "piotr", "wrong password")
    wrong_name = _token_for(client, "nobody", PASSWORD)
    assert wrong_password.status_code == wrong_name.status_code == 401
    assert wrong_password.json == wrong_name.json
    assert wrong_password.json["error"]["code"] == "unauthorized"
    assert "token" not in wrong_password.json


def test_the_eleventh_failure_in_a_minute_gets_429_with_retry_after(client):
    for _ in range(10):
        assert _token_for(client, "piotr", "wrong password").status_code == 401
    r = _token_for(client)  # the right password too: nothing is checked while throttled
    assert r.status_code == 429
    assert r.json["error"]["code"] == "too_many_attempts"
    assert 55 <= int(r.headers["Retry-After"]) <= 60
    assert r.json["error"]["details"] == {"retry_after": int(r.headers["Retry-After"])}
    assert _token_for(client, "boss").status_code == 201


def test_the_form_and_the_api_share_one_count(client):
    for _ in range(5):
        assert client.post("/login", data={"username": "piotr", "password": "wrong password"}).status_code == 401
    for _ in range(5):
        assert _token_for(client, "piotr", "wrong password").status_code == 401
    assert _token_for(client).status_code == 429
    assert client.post("/login", data={"username": "piotr", "password": PASSWORD}).status_code == 429


def test_one_address_is_limited_across_names(client, staff, monkeypatch):
    monkeypatch.setitem(staff.config, "LOGIN_FAILURES_PER_ADDRESS", 3)
    for n in range(3):
        assert _token_for(client, f"guess{n}", "x").status_code == 401
    assert _token_for(client, "boss").status_code == 429


@pytest.mark.parametrize(
    "body",
    [
        {"username": "piotr"},
        {"username": "", "password": PASSWORD},
        {"username": "piotr", "password": 12345678},
        {"username": "x" * 65, "password": PASSWORD},
        {"username": "piotr", "password": PASSWORD, "device": ""},
    ],
)
def test_a_malformed_body_is_422_and_not_a_failure(client, body):
    r = client.post(URL, json=body)
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"
    for _ in range(10):
        client.post(URL, json=body)
    assert _token_for(client).status_code == 201  # none of those counted


def test_blanks_around_a_password_are_part_of_it(client):
    set_password("piotr", "  spaced out  ")
    assert _token_for(client, "piotr", "spaced out").status_code == 401
    assert _token_for(client, "piotr", "  spaced out  ").status_code == 201


def test_sign_out_revokes_the_calling_token_only(client):
    first = _token_for(client).json["token"]
    second = _token_for(client).json["token"]
    r = client.delete("/api/v1/staff/tokens/current", headers=_bearer(first))
    assert r.status_code == 204 and r.get_data() == b""
    gone = client.delete("/api/v1/staff/tokens/current", headers=_bearer(first))
    assert gone.status_code == 401 and gone.json["error"]["code"] == "unauthorized"
    with pytest.raises(Unauthorized):
        authenticate(first)
    assert authenticate(second).username == "piotr"


def test_sign_out_needs_a_staff_token(client):
    integration = create_token("integration", "ERP")
    r = client.delete("/api/v1/staff/tokens/current", headers=_bearer(integration))
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert client.delete("/api/v1/staff/tokens/current").status_code == 401


def test_an_inactive_users_token_is_refused_and_they_get_no_new_one(client):
    token = _token_for(client).json["token"]
    set_user_active("piotr", False)
    assert client.delete("/api/v1/staff/tokens/current", headers=_bearer(token)).status_code == 401
    r = _token_for(client)
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"


def test_other_tokens_do_not_reach_the_staff_api(client, staff):
    integration = create_token("integration", "ERP")
    with pytest.raises(Forbidden):
        _caller(staff, _bearer(integration))
    with pytest.raises(Unauthorized):
        _caller(staff, {})
    r = client.delete("/api/v1/staff/tokens/current")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


# --- the /hh pages: the session cookie with the CSRF token in a header ----------------------------------------


def test_a_signed_in_page_reaches_the_staff_api_with_its_csrf_token(client, staff, monkeypatch):
    monkeypatch.setitem(staff.config, "WTF_CSRF_ENABLED", True)
    html = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post("/login", data={"username": "piotr", "password": PASSWORD, "csrf_token": csrf})
    cookie_only = {"Cookie": _cookie(client)}
    assert _caller(staff, cookie_only) == ("piotr", None)
    page = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    cookie_only = {"Cookie": _cookie(client)}  # the session now holds the CSRF secret too
    # A state-changing request from a cookie needs the header; a cross-site form cannot send one.
    with pytest.raises(Forbidden):
        _caller(staff, cookie_only, "POST")
    assert _caller(staff, cookie_only | {"X-CSRFToken": csrf}, "POST") == ("piotr", None)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    with pytest.raises(Unauthorized):  # the session ended on the server
        _caller(staff, cookie_only)


def _cookie(client) -> str:
    return f"session={client.get_cookie('session').value}"


def test_require_staff_checks_the_role(client, staff):
    picker = _token_for(client).json["token"]
    manager = _token_for(client, "boss").json["token"]
    view = require_staff("manager", "admin")(lambda: "done")
    with staff.test_request_context("/api/v1/x", headers=_bearer(manager)):
        assert view() == "done"
    with staff.test_request_context("/api/v1/x", headers=_bearer(picker)):
        with pytest.raises(Forbidden) as refused:
            view()
        assert refused.value.details == {"role": "picker"}
    with staff.test_request_context("/api/v1/x", headers=_bearer("wmsu_forged")), pytest.raises(Unauthorized):
        view()
