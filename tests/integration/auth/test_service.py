import pytest

from tests.factories import fast_password_hashing, make_location
from wms.auth.models import User
from wms.auth.service import (
    authenticate_user,
    can_see_location,
    create_user,
    resume_session,
    set_user_active,
    start_session,
    visible_locations,
)
from wms.errors import NotFound, ValidationError
from wms.extensions import db


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    # Real hashes, but cheap ones: the default scrypt costs ~0.1 s per user.
    fast_password_hashing(monkeypatch)


def _places():
    make_location("WH1", "warehouse")
    make_location("ST1", "store")
    make_location("ST2", "store", ships=True)


def test_create_user_stores_a_hash_and_a_lower_case_name(any_app):
    _places()
    user = create_user("Kasia.W", "clerk", "ST1", "sekret-123")
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.username == "kasia.w"
    assert stored.role == "clerk" and stored.location.code == "ST1" and stored.active
    assert "sekret-123" not in stored.password_hash
    assert stored.check_password("sekret-123") and not stored.check_password("sekret-124")


def test_duplicate_username_is_refused_whatever_its_case(any_app):
    create_user("anna", "manager", password="long enough")
    with pytest.raises(ValidationError) as error:
        create_user(" ANNA ", "admin", password="long enough")
    assert error.value.details == [{"field": "username", "message": "user anna exists already"}]
    assert db.session.query(User).count() == 1


def test_invalid_user_reports_every_field_and_creates_nothing(any_app):
    _places()
    with pytest.raises(ValidationError) as error:
        create_user("piotr", "clerk", "WH1", "short")
    assert {e["field"] for e in error.value.details} == {"password", "location"}
    with pytest.raises(ValidationError) as error:
        create_user("piotr", "picker", "NOWHERE", "long enough")
    assert error.value.details == [{"field": "location", "message": "unknown location 'NOWHERE'"}]
    assert db.session.query(User).count() == 0


def test_authenticate_needs_the_right_password_and_an_active_user(app):
    create_user("anna", "manager", password="long enough")
    assert authenticate_user("Anna", "long enough").username == "anna"
    assert authenticate_user("anna", "long enougH") is None
    assert authenticate_user("nobody", "long enough") is None
    assert authenticate_user("anna", "") is None
    set_user_active("anna", False)
    assert authenticate_user("anna", "long enough") is None
    set_user_active("anna", True)
    assert authenticate_user("anna", "long enough") is not None


def test_an_inactive_users_session_ends(app):
    user = create_user("anna", "manager", password="long enough")
    _, key = start_session("anna", "long enough", "127.0.0.1")
    assert resume_session(str(user.id), key).username == "anna"
    set_user_active("anna", False)
    assert resume_session(str(user.id), key) is None
    set_user_active("anna", True)
    assert resume_session(str(user.id), key) is None  # activating again does not revive old sessions
    assert resume_session("not a number", key) is None
    assert resume_session(str(user.id), None) is None


def test_set_user_active_on_unknown_user(app):
    with pytest.raises(NotFound):
        set_user_active("ghost", False)


def test_visible_locations_by_role(any_app):
    _places()
    manager = create_user("boss", "manager", password="long enough")
    admin = create_user("root", "admin", password="long enough")
    picker = create_user("piotr", "picker", "WH1", "long enough")
    clerk = create_user("kasia", "clerk", "ST2", "long enough")

    def codes(user):
        return [loc.code for loc in visible_locations(user)]

    assert codes(manager) == ["WH1", "ST1", "ST2"] == codes(admin)
    assert codes(picker) == ["WH1"]
    assert codes(clerk) == ["ST2"]
    st1 = next(loc for loc in visible_locations(manager) if loc.code == "ST1")
    assert not can_see_location(clerk, st1.id)
    assert can_see_location(manager, st1.id)
