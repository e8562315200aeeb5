"""The unit of work: one transaction per public service function, committed once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.extensions import db

#: key in ``Session.info`` counting the units of work open on that session
_DEPTH = "wms_uow_depth"


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Open a write transaction, commit it once at the end, roll it back on any error.

    On SQLite a read transaction the caller left open is ended first, so that the write lock is taken at BEGIN
    (``BEGIN IMMEDIATE``) instead of by an upgrade that may fail at once. On PostgreSQL (READ COMMITTED: every
    statement sees what is committed when it starts) the open transaction simply goes on: that saves a COMMIT
    and a BEGIN round trip on every write, which matters most on the hottest path, order intake.

    A unit of work opened inside another one (a service calling a service) does not commit: it runs in a
    savepoint of the outer transaction. What it wrote is committed with the outer unit, or rolled back with it;
    when the inner one fails, only its own writes are rolled back and its error goes on to the caller.
    """
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    if depth:
        session.info[_DEPTH] = depth + 1
        try:
            with session.begin_nested():
                yield session
        finally:
            session.info[_DEPTH] = depth
        return
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        session.commit()
    if not session.in_transaction():
        session.connection(execution_options={"wms_write": True})
    session.info[_DEPTH] = 1
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[_DEPTH] = 0


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def current_txid_expr():
    """SQL expression for the writing transaction's id (PostgreSQL), 0 elsewhere."""
    return func.txid_current() if is_postgres() else 0


def txid_horizon(session: Session) -> int | None:
    """Oldest transaction id still running (PostgreSQL); rows of older transactions are final. None: no limit."""
    if not is_postgres():
        return None
    return session.execute(select(func.txid_snapshot_xmin(func.txid_current_snapshot()))).scalar_one()
