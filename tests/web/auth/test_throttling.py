"""Sign-in throttling on the sign-in page, the managers' page of failures, and client addresses behind a proxy."""

import re

from sqlalchemy import select

from tests.web.auth.conftest import PASSWORD, sign_in
from tests.web.staff import new_client
from wms import create_app
from wms.auth.models import SignInFailure
from wms.extensions import db


def _wrong(client, username="kasia", **environ):
    response = sign_in(client, username, "wrong password", **environ)
    assert response.status_code == 401, response.status_code
    return response


def test_the_eleventh_try_in_a_minute_gets_429_with_a_plain_message(staff, browser):
    attacker = browser()
    for _ in range(10):
        _wrong(attacker)
    refused = sign_in(browser(), "KASIA")  # even the right password, from anywhere
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 55 <= seconds <= 60
    html = refused.get_data(as_text=True)
    assert re.search(rf"Too many attempts, try again in {seconds} s\.", html)
    assert 'name="username"' in html  # the form is still there
    assert sign_in(browser(), "boss").status_code == 303  # another name is not held up


def test_one_address_is_limited_across_user_names(staff, browser, monkeypatch):
    monkeypatch.setitem(staff.config, "LOGIN_FAILURES_PER_ADDRESS", 4)
    spray = browser()
    for n in range(4):
        _wrong(spray, f"guess{n}", REMOTE_ADDR="198.51.100.7")
    refused = sign_in(spray, "boss", REMOTE_ADDR="198.51.100.7")
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert sign_in(browser(), "boss", REMOTE_ADDR="198.51.100.8").status_code == 303


def test_managers_see_the_failures_and_clerks_do_not(staff, browser):
    _wrong(browser(), "kasia", REMOTE_ADDR="203.0.113.9")
    _wrong(browser(), "ghost<script>", REMOTE_ADDR="203.0.113.10")
    manager = browser()
    sign_in(manager, "boss")
    home = manager.get("/").get_data(as_text=True)
    assert 'href="/security/sign-ins"' in home
    page = manager.get("/security/sign-ins")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "203.0.113.9" in html and "kasia" in html and "sign-in page" in html
    assert "ghost&lt;script&gt;" in html and "ghost<script>" not in html
    assert "2 failures in the last 24 hours" in html

    clerk = browser()
    sign_in(clerk, "kasia")
    assert clerk.get("/security/sign-ins").status_code == 403
    assert "/security/sign-ins" not in clerk.get("/").get_data(as_text=True)
    anonymous = browser().get("/security/sign-ins")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


def test_the_empty_page_says_so(staff, browser):
    manager = browser()
    sign_in(manager, "boss")
    assert "No failed sign-ins in the last 24 hours." in manager.get("/security/sign-ins").get_data(as_text=True)


def _recorded_addresses() -> list[str]:
    db.session.rollback()
    return list(db.session.execute(select(SignInFailure.address).order_by(SignInFailure.id)).scalars())


def test_the_client_address_comes_from_the_proxy_only_when_told(staff):
    url = staff.config["DATABASE_URL"]
    forwarded = {"HTTP_X_FORWARDED_FOR": "192.0.2.50", "REMOTE_ADDR": "10.0.0.1"}
    for hops in (0, 1):
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False, "BEHIND_PROXY": hops})
        sign_in(new_client(app), "kasia", "wrong password", **forwarded)
        with app.app_context():
            db.engine.dispose()
    # Without the setting a client could pick any address it likes, and so dodge the per-address limit.
    assert _recorded_addresses() == ["10.0.0.1", "192.0.2.50"]


def test_a_right_password_after_a_few_failures_still_signs_in(staff, browser):
    client = browser()
    for _ in range(9):
        _wrong(client)
    assert sign_in(client, "kasia", PASSWORD).status_code == 303
