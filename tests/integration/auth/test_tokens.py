"""API tokens: staff tokens, expiry, revocation, cut-off by deactivation or a new password, the listing, and
"last used" written at most once a minute without a second round trip on other requests."""

import pytest
from sqlalchemy import event, select

from tests.factories import make_channel, make_location
from wms.auth.service import create_user, set_password, set_user_active
from wms.channels.models import ApiToken
from wms.channels.service import (
    authenticate,
    create_token,
    issue_staff_token,
    list_tokens,
    revoke_token,
)
from wms.errors import NotFound, TooManyAttempts, Unauthorized, ValidationError
from wms.extensions import db

PASSWORD = "long enough"


@pytest.fixture
def piotr(any_app):
    make_location("WH1", "warehouse")
    return create_user("piotr", "picker", "WH1", PASSWORD)


def _refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        authenticate(token)


def test_a_staff_token_names_its_user_and_device(piotr, clock):
    user, token = issue_staff_token(" Piotr", PASSWORD, "TC52 #7", "10.0.0.7")
    assert user.id == piotr.id and token.startswith("wmsu_")
    principal = authenticate(token)
    assert (principal.scope, principal.user_id, principal.username, principal.role, principal.device) == (
        "staff",
        piotr.id,
        "piotr",
        "picker",
        "TC52 #7",
    )
    assert principal.channel_id is None and principal.station_id is None


def test_a_wrong_name_or_password_gets_no_token_and_the_same_answer(piotr, clock):
    answers = []
    for name, password in (("piotr", "wrong password"), ("nobody", PASSWORD)):
        with pytest.raises(Unauthorized) as refused:
            issue_staff_token(name, password, None, "10.0.0.7")
        answers.append(refused.value.to_dict())
    assert answers[0] == answers[1]
    assert db.session.execute(select(ApiToken)).first() is None


def test_staff_tokens_are_throttled_with_the_sign_in_page(piotr, clock):
    for _ in range(10):
        with pytest.raises(Unauthorized):
            issue_staff_token("piotr", "wrong password", None, "10.0.0.7")
    with pytest.raises(TooManyAttempts):
        issue_staff_token("piotr", PASSWORD, None, "10.0.0.7")


def test_an_inactive_user_gets_no_token_and_loses_the_ones_they_had(piotr, clock):
    _, token = issue_staff_token("piotr", PASSWORD, None, "10.0.0.7")
    cli_token = create_token("staff", username="piotr")
    set_user_active("piotr", False)
    _refused(token)
    _refused(cli_token)
    with pytest.raises(Unauthorized):
        issue_staff_token("piotr", PASSWORD, None, "10.0.0.7")
    with pytest.raises(ValidationError, match="not active"):
        create_token("staff", username="piotr")
    clock.advance(seconds=1)
    set_user_active("piotr", True)
    _refused(token)  # activating again does not revive them
    clock.advance(seconds=1)
    assert authenticate(issue_staff_token("piotr", PASSWORD, None, "10.0.0.7")[1]).username == "piotr"


def test_a_new_password_ends_the_users_staff_tokens(piotr, clock):
    _, token = issue_staff_token("piotr", PASSWORD, None, "10.0.0.7")
    integration = create_token("integration", "ERP")
    clock.advance(seconds=1)
    set_password("piotr", "a new password")
    _refused(token)
    assert authenticate(integration).scope == "integration"  # other tokens are not the user's
    clock.advance(seconds=1)
    assert authenticate(issue_staff_token("piotr", "a new password", None, "10.0.0.7")[1]).user_id == piotr.id


def test_a_revoked_token_is_refused_at_once(piotr, clock):
    token = create_token("integration", "ERP")
    (listed,) = list_tokens()
    assert revoke_token(listed.id).revoked_at is not None
    _refused(token)
    again = revoke_token(listed.id)  # revoking twice changes nothing
    assert again.revoked_at is not None
    with pytest.raises(NotFound):
        revoke_token(listed.id + 1000)


def test_an_expired_token_is_refused(piotr, clock):
    token = create_token("integration", "ERP", expires_in_days=2)
    clock.advance(days=2, seconds=-1)
    assert authenticate(token).scope == "integration"
    clock.advance(seconds=1)
    _refused(token)
    with pytest.raises(ValidationError) as error:
        create_token("integration", expires_in_days=0)
    assert error.value.details == [{"field": "expires_in", "message": "must be 1 to 3650 days"}]


def test_create_staff_token_needs_a_known_user(any_app, clock):
    with pytest.raises(ValidationError, match="unknown user 'ghost'"):
        create_token("staff", username="ghost")
    with pytest.raises(ValidationError, match="unknown user"):
        create_token("staff")


def test_last_used_is_written_at_most_once_a_minute_in_one_round_trip_otherwise(piotr, clock):
    token = create_token("integration", "ERP")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.lstrip().split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        authenticate(token)  # never used: written now
        assert statements == ["SELECT", "UPDATE"]
        statements.clear()
        clock.advance(seconds=59)
        authenticate(token)
        assert statements == ["SELECT"]
        statements.clear()
        clock.advance(seconds=1)
        authenticate(token)
        assert statements == ["SELECT", "UPDATE"]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    (listed,) = list_tokens()
    assert listed.last_used_at.replace(tzinfo=None) == clock.now.replace(tzinfo=None)


def test_the_listing_names_owners_and_why_tokens_stopped(piotr, clock):
    make_channel("WEB")
    create_token("integration", "ERP", expires_in_days=30)
    staff = create_token("staff", username="piotr", device="TC52 #7")
    clock.advance(seconds=1)
    set_password("piotr", "a new password")
    listing = {t.scope: t for t in list_tokens()}
    assert listing["channel"].owner == "WEB" and listing["channel"].revoked_at is None
    assert listing["integration"].owner is None and listing["integration"].expires_at is not None
    assert listing["staff"].owner == "piotr" and listing["staff"].revoked_at is not None
    assert listing["staff"].name == "piotr staff token"
    assert all(staff not in repr(t) for t in listing.values())
