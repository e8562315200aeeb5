"""Read models of the auth pages: what managers see of sign-in failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from wms.auth.models import SignInFailure
from wms.auth.rules import FAILURE_RETENTION
from wms.extensions import db
from wms.timeutil import utcnow


@dataclass(frozen=True)
class FailureCount:
    key: str
    failures: int
    last_at: datetime


@dataclass(frozen=True)
class SignInFailuresView:
    #: newest first, at most ``limit``
    recent: list[SignInFailure]
    #: failures of the last hour per user name and per address, most first
    by_username: list[FailureCount]
    by_address: list[FailureCount]
    total_day: int


def sign_in_failures_view(limit: int = 200, now: datetime | None = None) -> SignInFailuresView:
    """The sign-in failures of the last day (what is kept), with the last hour's counts per name and address."""
    now = now or utcnow()
    session = db.session
    day_ago = now - FAILURE_RETENTION
    recent = list(
        session.execute(
            select(SignInFailure)
            .where(SignInFailure.at > day_ago)
            .order_by(SignInFailure.at.desc(), SignInFailure.id.desc())
            .limit(limit)
        ).scalars()
    )
    total = session.execute(select(func.count()).select_from(SignInFailure).where(SignInFailure.at > day_ago))
    return SignInFailuresView(
        recent=recent,
        by_username=_counts(SignInFailure.username, now - timedelta(hours=1)),
        by_address=_counts(SignInFailure.address, now - timedelta(hours=1)),
        total_day=total.scalar_one(),
    )


def _counts(column, since: datetime, most: int = 20) -> list[FailureCount]:
    rows = db.session.execute(
        select(column, func.count(), func.max(SignInFailure.at))
        .where(SignInFailure.at > since)
        .group_by(column)
        .order_by(func.count().desc(), column)
        .limit(most)
    )
    return [FailureCount(key, count, last) for key, count, last in rows]
