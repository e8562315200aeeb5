"""A signed-in user changes their own password: the current one is checked like a sign-in, their other sessions
and staff tokens end, this one goes on."""

import pytest

from tests.web.auth.conftest import PASSWORD, sign_in
from wms.auth.service import authenticate_user
from wms.channels.service import authenticate, create_token
from wms.errors import Unauthorized
from wms.extensions import db

NEW = "nowe-haslo-9"


def _change(client, current=PASSWORD, new=NEW, repeat=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "repeat": new if repeat is None else repeat},
    )


def _signed_out(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(staff, browser):
    here, elsewhere = browser(), browser()
    sign_in(here)
    sign_in(elsewhere)
    token = create_token("staff", username="kasia")
    assert 'href="/account/password"' in here.get("/").get_data(as_text=True)
    assert here.get("/account/password").status_code == 200
    r = _change(here)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert "Your password is changed" in here.get("/").get_data(as_text=True)
    assert here.get("/").status_code == 200
    assert _signed_out(elsewhere.get("/"))
    with pytest.raises(Unauthorized):
        authenticate(token)
    db.session.rollback()
    assert authenticate_user("kasia", NEW) is not None and authenticate_user("kasia", PASSWORD) is None


@pytest.mark.parametrize(
    ("current", "new", "repeat", "status", "message"),
    [
        ("wrong password", NEW, None, 401, "Your current password is not right."),
        (PASSWORD, NEW, "nowe-haslo-8", 422, "The two new passwords differ."),
        (PASSWORD, "short", None, 422, "The new password must have at least 8 characters."),
        ("", NEW, None, 422, "Fill in your current password and the new one twice."),
    ],
)
def test_a_refused_change_changes_nothing(staff, browser, current, new, repeat, status, message):
    here, elsewhere = browser(), browser()
    sign_in(here)
    sign_in(elsewhere)
    r = _change(here, current, new, repeat)
    assert r.status_code == status and message in r.get_data(as_text=True)
    assert NEW not in r.get_data(as_text=True)
    assert elsewhere.get("/").status_code == 200
    db.session.rollback()
    assert authenticate_user("kasia", PASSWORD) is not None


def test_guessing_the_current_password_is_throttled(staff, browser):
    here = browser()
    sign_in(here)
    for _ in range(10):
        assert _change(here, "wrong password").status_code == 401
    r = _change(here)
    assert r.status_code == 429 and "Too many attempts" in r.get_data(as_text=True) and r.headers["Retry-After"]


def test_the_page_needs_a_signed_in_user(staff, browser):
    assert _signed_out(browser().get("/account/password"))
    assert _signed_out(_change(browser()))
