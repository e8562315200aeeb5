"""The stock check on a schedule: ``wms worker`` recomputes every quantity from the ledger (``check_stock``) every
``STOCK_CHECK_MINUTES`` (default 60) and records what it found, so that a manager sees drift without running
``wms check``; a manager may run it at once from the exceptions page."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from wms.extensions import db
from wms.stock.models import StockCheck
from wms.stock.service import check_stock
from wms.timeutil import utcnow
from wms.uow import unit_of_work

#: problems kept with a check (the count says how many there were in all)
KEEP = 200
DEFAULT_MINUTES = 60


def run_check(actor: str = "worker") -> StockCheck:
    """Run the check now and record it; the recorded check. Reads everything in one transaction, then writes the
    result in a unit of work of its own."""
    started = utcnow()
    problems = check_stock(db.session)
    db.session.rollback()
    with unit_of_work() as session:
        check = StockCheck(
            started_at=started, finished_at=utcnow(), problems=problems[:KEEP], drift=len(problems), actor=actor
        )
        session.add(check)
    return check


def latest_check() -> StockCheck | None:
    return db.session.execute(select(StockCheck).order_by(StockCheck.id.desc()).limit(1)).scalar_one_or_none()


def check_due(now: datetime | None = None) -> int:
    """Worker stage: run the check when the last one is older than ``STOCK_CHECK_MINUTES``; 1 when it ran."""
    now = now or utcnow()
    minutes = float(current_app.config.get("STOCK_CHECK_MINUTES") or DEFAULT_MINUTES)
    last = db.session.execute(select(StockCheck.started_at).order_by(StockCheck.id.desc()).limit(1)).scalar()
    db.session.rollback()
    if last is not None:
        if last.tzinfo is None:  # SQLite hands times back without their zone
            last = last.replace(tzinfo=now.tzinfo)
        if now - last < timedelta(minutes=minutes):
            return 0
    run_check()
    return 1
