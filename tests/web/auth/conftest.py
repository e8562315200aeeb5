"""Fixtures of the sign-in page tests: users on each database, cheap hashes, fresh clients."""

from __future__ import annotations

from functools import partial

import pytest

from tests.factories import fast_password_hashing, make_location
from tests.web.staff import new_client
from wms.auth.service import create_user

PASSWORD = "sekret-123"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    # Real hashes, but cheap ones: the default scrypt costs ~0.1 s per user.
    fast_password_hashing(monkeypatch)


@pytest.fixture
def staff(any_app):
    """A clerk at ST1 and a manager, on SQLite and on PostgreSQL."""
    make_location("ST1", "store")
    create_user("kasia", "clerk", "ST1", PASSWORD)
    create_user("boss", "manager", None, PASSWORD)
    return any_app


@pytest.fixture
def browser(staff):
    """A new browser: its own cookies, its own app context per request."""
    return partial(new_client, staff)


def sign_in(client, username="kasia", password=PASSWORD, **environ):
    return client.post("/login", data={"username": username, "password": password}, environ_overrides=environ or None)
