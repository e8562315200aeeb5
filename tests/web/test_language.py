"""Pages in Polish or English: the user's own language, else the browser's Accept-Language, else English; the
header's switch (CSRF-protected); the demo's floor staff in Polish."""

import re

import pytest
from sqlalchemy import select

from tests.factories import make_location, make_product
from tests.web.staff import cheap_hashes_fixture, client_fixture, new_client  # noqa: F401  (fixtures)
from wms.auth.models import User
from wms.auth.service import create_user, find_user
from wms.errors import ValidationError
from wms.extensions import db

PASSWORD = "sekret-123"


@pytest.fixture
def place(app, cheap_hashes):
    make_location("WH1", "warehouse", name="Magazyn Łódź")
    make_product("SKU-1")
    return app


def sign_in(client, username, language=None, role="picker", **headers):
    create_user(username, role, "WH1" if role == "picker" else None, PASSWORD, language=language)
    r = client.post("/login", data={"username": username, "password": PASSWORD}, headers=headers)
    assert r.status_code == 303


def language_of(user: str) -> str | None:
    db.session.rollback()
    return db.session.execute(select(User.language).where(User.username == user)).scalar_one()


def test_a_polish_user_sees_the_layout_and_home_page_in_polish(client, place):
    sign_in(client, "ola", "pl")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="pl">' in html
    for polish in ("Wyloguj", "Produkty", "Lokalizacje", "Drukarki", "Cześć, ola", "Zalogowano jako", "magazynier"):
        assert polish in html
    for english in (">Sign out<", ">Products<", "Signed in as", "Home location"):
        assert english not in html
    # the switch offers the other language, named in itself
    assert re.search(r'<button[^>]*lang="en"[^>]*>English</button>', html)


def test_a_polish_user_sees_the_products_page_in_polish(client, place):
    sign_in(client, "ola", "pl")
    html = client.get("/products").get_data(as_text=True)
    assert "<h1>Produkty</h1>" in html and "Szukaj" in html and "1 produkt" in html
    html = client.get("/products?q=nothing-like-it").get_data(as_text=True)
    assert "Żaden produkt nie pasuje do „nothing-like-it”" in html


def test_an_english_user_sees_english_even_when_the_browser_asks_for_polish(client, place):
    sign_in(client, "tom", "en", **{"Accept-Language": "pl"})
    html = client.get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign out" in html and "Hello, tom" in html
    assert "Wyloguj" not in html


def test_without_a_choice_or_accept_language_pages_are_english(client, place):
    sign_in(client, "nobody")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign out" in html and "Home location" in html


def test_without_a_choice_the_browser_decides(client, place):
    sign_in(client, "ania")
    html = client.get("/", headers={"Accept-Language": "de-DE,pl;q=0.8,en;q=0.5"}).get_data(as_text=True)
    assert "Wyloguj" in html


def test_the_sign_in_page_follows_accept_language(client, place):
    html = client.get("/login", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="pl">' in html
    for polish in ("Zaloguj się", "Nazwa użytkownika", "Hasło", "Pracownicy magazynu i sklepów."):
        assert polish in html
    create_user("ola", "picker", "WH1", PASSWORD)
    r = client.post("/login", data={"username": "ola", "password": "wrong-one"}, headers={"Accept-Language": "pl"})
    assert r.status_code == 401 and "Błędna nazwa użytkownika lub hasło." in r.get_data(as_text=True)
    assert "Sign in" in client.get("/login").get_data(as_text=True)  # no Accept-Language: English


def test_the_default_language_setting_applies_when_nothing_else_decides(app, place, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_LANGUAGE", "pl")
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "pl")
    html = new_client(app).get("/login").get_data(as_text=True)
    assert "Zaloguj się" in html


def test_switching_language(client, place):
    sign_in(client, "ola")
    r = client.post("/account/language?next=/products", data={"language": "pl"})
    assert r.status_code == 303 and r.headers["Location"] == "/products"
    assert language_of("ola") == "pl"
    assert "Wyloguj" in client.get("/").get_data(as_text=True)
    r = client.post("/account/language?next=//evil.example/", data={"language": "en"})
    assert r.status_code == 303 and r.headers["Location"] == "/"  # never off the site
    assert language_of("ola") == "en"
    assert "Sign out" in client.get("/", headers={"Accept-Language": "pl"}).get_data(as_text=True)


@pytest.mark.parametrize("value", ["de", "", "PL", "polski"])
def test_an_unknown_language_is_refused_and_nothing_changes(client, place, value):
    sign_in(client, "ola", "pl")
    r = client.post("/account/language", data={"language": value})
    assert r.status_code in (400, 422) and r.status_code != 500
    assert language_of("ola") == "pl"


def test_switching_needs_a_signed_in_user(client, place):
    r = client.post("/account/language", data={"language": "pl"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_switching_is_csrf_protected(client, place, csrf_on):
    create_user("ola", "picker", "WH1", PASSWORD)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": "ola", "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 303
    r = client.post("/account/language", data={"language": "pl"})
    assert r.status_code == 400 and language_of("ola") is None
    r = client.post("/account/language", data={"language": "pl", "csrf_token": "forged"})
    assert r.status_code == 400 and language_of("ola") is None
    html = client.get("/").get_data(as_text=True)
    switch = re.search(r'<form[^>]*action="/account/language[^"]*"[^>]*>(.*?)</form>', html, re.S).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', switch).group(1)
    r = client.post("/account/language", data={"language": "pl", "csrf_token": token})
    assert r.status_code == 303 and language_of("ola") == "pl"


def test_a_user_is_created_with_a_language_or_refused(place):
    assert create_user("ola", "picker", "WH1", PASSWORD, language="pl").language == "pl"
    assert create_user("tom", "manager", None, PASSWORD).language is None
    with pytest.raises(ValidationError) as refused:
        create_user("hans", "manager", None, PASSWORD, language="de")
    assert [d["field"] for d in refused.value.details] == ["language"]
    assert find_user("hans") is None


def test_the_demo_floor_staff_see_polish_pages(client, place):
    from wms.demo import USERS, _seed_users

    for code in {loc for _user, _role, loc, _password in USERS if loc and loc != "WH1"}:
        make_location(code, "store")
    _seed_users()
    assert language_of("picker") == "pl" and language_of("clerk.krk") == "pl"
    assert language_of("manager") is None  # follows the browser
    r = client.post("/login", data={"username": "picker", "password": "demo-picker"})
    assert r.status_code == 303
    assert "Wyloguj" in client.get("/").get_data(as_text=True)


def test_error_pages_speak_the_users_language(client, place):
    sign_in(client, "ola", "pl")
    r = client.get("/products/NO-SUCH-SKU")
    html = r.get_data(as_text=True)
    assert r.status_code == 404 and "Nie znaleziono" in html and "Przejdź do strony głównej" in html


def test_the_password_page_and_an_expired_form_speak_polish(client, place, csrf_on):
    create_user("ola", "picker", "WH1", PASSWORD, language="pl")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "ola", "password": PASSWORD, "csrf_token": token.group(1)})
    html = client.get("/account/password").get_data(as_text=True)
    assert "Zmień hasło" in html and "Obecne hasło" in html and "Powtórz nowe hasło" in html
    r = client.post("/account/password", data={"current_password": PASSWORD})
    assert r.status_code == 400 and "Ten formularz stracił ważność" in r.get_data(as_text=True)
