"""Test helpers for readers of the stock change log."""

from __future__ import annotations

import time

from sqlalchemy import text

from wms.extensions import db


def settle(timeout: float = 10.0, table: str = "stock_change") -> None:
    """PostgreSQL: wait until every row ``table`` (a log with a ``txid`` column) holds so far is below the horizon,
    i.e. final for its readers.

    Transaction ids and the horizon are server-wide: a transaction running in another database of the same
    server (another test run) holds the horizon back for a moment, and readers then rightly return less.
    Tests that expect everything written to be readable wait for that here. SQLite: nothing to wait for.
    """
    if db.engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while True:
            top = conn.execute(text(f"SELECT coalesce(max(txid), 0) FROM {table}")).scalar_one()
            horizon = conn.execute(text("SELECT txid_snapshot_xmin(txid_current_snapshot())")).scalar_one()
            if horizon > top:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the horizon {horizon} stayed at or below txid {top} for {timeout} s")
            time.sleep(0.01)
