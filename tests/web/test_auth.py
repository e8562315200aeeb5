"""Staff sign-in and sign-out through the test client."""

import re

import pytest

from tests.factories import Api, fast_password_hashing, make_location, make_world, order_body
from wms.auth.service import create_user, set_user_active
from wms.auth.views import WRONG_LOGIN


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    # Real hashes, but cheap ones: the default scrypt costs ~0.1 s per user.
    fast_password_hashing(monkeypatch)


@pytest.fixture
def clerk(app):
    make_location("ST1", "store", name="Sklep Kraków")
    return create_user("kasia", "clerk", "ST1", "sekret-123")


def login(client, username="kasia", password="sekret-123", **query):
    return client.post("/login", query_string=query, data={"username": username, "password": password})


def signed_in_as(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def test_login_page_is_a_plain_form(client):
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="viewport"' in html
    assert 'autocomplete="current-password"' in html
    assert 'autocapitalize="none"' in html
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere (no CDN)


def test_login_then_home_then_logout(client, clerk):
    r = login(client)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert signed_in_as(client) == str(clerk.id)
    home = client.get("/")
    assert home.status_code == 200 and "kasia" in home.get_data(as_text=True)

    r = client.post("/logout")
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert signed_in_as(client) is None
    assert "You are signed out." in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_username_is_not_case_sensitive(client, clerk):
    assert login(client, " KASIA").status_code == 303


@pytest.mark.parametrize(
    ("username", "password"),
    [("kasia", "wrong-password"), ("nobody", "sekret-123"), ("kasia", "SEKRET-123")],
)
def test_wrong_login_says_the_same_whatever_was_wrong(client, clerk, username, password):
    r = login(client, username, password)
    html = r.get_data(as_text=True)
    assert r.status_code == 401
    assert WRONG_LOGIN in html
    assert password not in html  # the password is never sent back
    assert signed_in_as(client) is None


def test_inactive_user_cannot_sign_in_and_gets_the_same_message(client, clerk):
    set_user_active("kasia", False)
    r = login(client)
    assert r.status_code == 401 and WRONG_LOGIN in r.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_deactivating_a_user_ends_their_session(client, clerk):
    login(client)
    assert client.get("/").status_code == 200
    set_user_active("kasia", False)
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_empty_form_asks_for_both_fields(client, clerk):
    r = client.post("/login", data={"username": "", "password": ""})
    assert r.status_code == 401 and "Enter your username and password." in r.get_data(as_text=True)


def test_next_brings_the_user_back(client, clerk):
    r = login(client, next="/?tab=stock")
    assert r.headers["Location"] == "/?tab=stock"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example", "javascript:x"]
)
def test_next_never_leaves_the_site(client, clerk, target):
    form = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert "evil.example" not in form  # not carried in the form either
    r = login(client, next=target)
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_signed_in_user_visiting_login_goes_home(client, clerk):
    login(client)
    r = client.get("/login", query_string={"next": "//evil.example/"})
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_logout_needs_post(client, clerk):
    login(client)
    assert client.get("/logout").status_code == 405
    assert signed_in_as(client) == str(clerk.id)


def test_session_cookie_is_httponly_and_samesite_lax(client, clerk):
    r = login(client)
    cookie = next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_carry_security_headers(client):
    r = client.get("/login")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


# --- CSRF: the conftest switches it off; these tests switch it back on -------------------------------------


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_login_without_csrf_token_is_refused(client, clerk, csrf_on):
    client.get("/login")
    r = login(client)
    assert r.status_code == 400
    assert "This form is no longer valid" in r.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_login_with_a_forged_csrf_token_is_refused(client, clerk, csrf_on):
    client.get("/login")
    r = client.post("/login", data={"username": "kasia", "password": "sekret-123", "csrf_token": "forged"})
    assert r.status_code == 400 and signed_in_as(client) is None


def test_login_and_logout_with_csrf_tokens(client, clerk, csrf_on):
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": "kasia", "password": "sekret-123", "csrf_token": token})
    assert r.status_code == 303 and signed_in_as(client) == str(clerk.id)

    assert client.post("/logout").status_code == 400  # a cross-site sign-out attempt has no token
    assert signed_in_as(client) == str(clerk.id)
    token = _csrf_token(client.get("/").get_data(as_text=True))  # the header's sign-out form
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert signed_in_as(client) is None


def test_bearer_token_api_is_exempt_from_csrf(app, client, csrf_on):
    world = make_world()
    r = Api(client, world.web).post("/api/v1/orders", order_body())
    assert r.status_code == 201, r.json
