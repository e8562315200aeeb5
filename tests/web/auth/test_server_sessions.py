"""Sessions end on the server: a copied cookie stops working after sign-out, a password change or a deactivation
ends the sessions it should, an idle session ends, and the cookie flags follow the settings."""

from sqlalchemy import text

from tests.web.auth.conftest import sign_in
from tests.web.staff import new_client
from wms import create_app
from wms.auth.service import set_password, set_user_active
from wms.extensions import db


def _copy_of(client, app):
    """Another browser holding a copy of ``client``'s session cookie (as an attacker who lifted it would)."""
    thief = new_client(app)
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _signed_out(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_copied_cookie_stops_working_after_sign_out(staff, browser):
    kasia = browser()
    assert sign_in(kasia).status_code == 303
    thief = _copy_of(kasia, staff)
    assert thief.get("/").status_code == 200  # the copy works while the session is open
    assert kasia.post("/logout").status_code == 303
    assert _signed_out(thief.get("/"))
    assert _signed_out(thief.get("/products"))


def test_a_password_change_ends_the_users_sessions(staff, browser):
    at_counter, at_home, other = browser(), browser(), browser()
    sign_in(at_counter)
    sign_in(at_home)
    sign_in(other, "boss")
    set_password("kasia", "a new password", actor="cli")
    assert _signed_out(at_counter.get("/")) and _signed_out(at_home.get("/"))
    assert other.get("/").status_code == 200  # only hers
    assert sign_in(at_counter).status_code == 401
    assert sign_in(at_counter, password="a new password").status_code == 303


def test_deactivation_ends_every_session_and_a_copy_of_it(staff, browser):
    kasia = browser()
    sign_in(kasia)
    thief = _copy_of(kasia, staff)
    set_user_active("kasia", False, actor="cli")
    assert _signed_out(kasia.get("/")) and _signed_out(thief.get("/"))
    set_user_active("kasia", True, actor="cli")
    assert _signed_out(thief.get("/"))  # a new sign-in is needed
    assert sign_in(kasia).status_code == 303


def test_an_idle_session_ends(staff, browser, monkeypatch):
    monkeypatch.setitem(staff.config, "SESSION_IDLE_MINUTES", 30)
    kasia = browser()
    sign_in(kasia)
    _idle(minutes=29)
    assert kasia.get("/").status_code == 200  # seen now: the idle time starts again
    _idle(minutes=31)
    assert _signed_out(kasia.get("/"))


def _idle(minutes: int) -> None:
    interval = f"{minutes} minutes"
    if db.engine.dialect.name == "postgresql":
        sql = f"UPDATE user_session SET last_seen_at = last_seen_at - interval '{interval}'"
    else:
        sql = f"UPDATE user_session SET last_seen_at = strftime('%Y-%m-%d %H:%M:%f', last_seen_at, '-{interval}')"
    db.session.execute(text(sql))
    db.session.commit()


def test_a_session_cookie_from_before_the_server_sessions_is_refused(staff, browser):
    # A cookie that names a user but carries no server-side session key (forged with the secret, or older than
    # this version) is not a session.
    old = browser()
    with old.session_transaction() as session:
        session["_user_id"] = "1"
        session["_fresh"] = True
    assert _signed_out(old.get("/"))


def test_cookies_are_secure_when_the_setting_says_so(staff):
    url = staff.config["DATABASE_URL"]
    for secure in (False, True):
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False, "SECURE_COOKIES": secure})
        response = sign_in(new_client(app))
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("session=") and "HttpOnly" in cookie
        assert ("; Secure" in cookie) is secure
        with app.app_context():
            db.engine.dispose()
