"""Fixtures of the auth service tests: cheap password hashes and a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import fast_password_hashing
from wms.auth import service as auth_service
from wms.channels import service as channels_service


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    # Real hashes, but cheap ones: the default scrypt costs ~0.1 s per user.
    fast_password_hashing(monkeypatch)


class Clock:
    """``utcnow`` of the auth and token services, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(auth_service, "utcnow", clock)
    monkeypatch.setattr(channels_service, "utcnow", clock)
    return clock
