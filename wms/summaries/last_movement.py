"""Each product's last movement per location (``stock_last_movement``), for the health page's slow movers.

The ``summaries.last_movement`` stage folds the ledger into the summary after its cursor, a bounded batch a
transaction: on PostgreSQL in (txid, id) order and only rows of transactions older than the oldest one still
running (the change feed's horizon rule: ids are handed out before commit, so a row committed late may carry a
lower id than one already read); on SQLite, where writers are serialised, in id order. Folding keeps the later of
two times, so a row read twice does no harm; the horizon is what makes sure none is skipped.

Readers add the ledger rows the stage has not read yet (:func:`with_last_movement`), so a page is as right as the
ledger whatever the worker's lag: a lagging worker costs the page time, not truth.

The ledger is append-only, so a time once folded stays true. Whatever re-dates ledger rows (the demo's history)
rebuilds the summary afterwards (:func:`rebuild`).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    case,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)

from wms.channels.models import WorkerCursor
from wms.channels.worker import claim_cursor
from wms.extensions import db
from wms.locations.models import Bin
from wms.stock.models import StockMovement
from wms.summaries.models import StockLastMovement
from wms.timeutil import utcnow
from wms.uow import is_postgres, unit_of_work

#: the stage's row in ``worker_cursor``: (txid, id) of the last ledger row folded (txid 0 on SQLite)
CURSOR = "summaries.last_movement"
#: ledger rows folded per transaction: ~0.1-0.3 s at a chain's scale, so the horizon the stage holds back (and, on
#: SQLite, the write lock) stays short
BATCH = 20_000

# The end of the next batch, and how many rows it holds: on PostgreSQL below the horizon, by the (txid, id) index.
_BATCH_END = {
    "postgresql": text(
        "SELECT txid, id, count(*) OVER () AS n FROM ("
        " SELECT txid, id FROM stock_movement"
        " WHERE txid IS NOT NULL AND (txid, id) > (:txid, :id) AND txid < txid_snapshot_xmin(txid_current_snapshot())"
        " ORDER BY txid, id LIMIT :n) AS batch "
        "ORDER BY txid DESC, id DESC LIMIT 1"
    ),
    "sqlite": text(
        "SELECT 0, max(id), count(*) FROM (SELECT id FROM stock_movement WHERE id > :id ORDER BY id LIMIT :n)"
    ),
}
_BATCH_RANGE = {
    "postgresql": "txid IS NOT NULL AND (txid, id) > (:txid, :id) AND (txid, id) <= (:end_txid, :end_id)",
    "sqlite": "id > :id AND id <= :end_id",
}
_LATER = {
    "postgresql": "GREATEST(stock_last_movement.last_at, excluded.last_at)",
    "sqlite": "max(stock_last_movement.last_at, excluded.last_at)",
}
# Each side of a ledger row is a movement at its bin's location (a move within a location counts once). The same
# grouping, over the whole ledger, fills the summary in migration 0023. The WHERE is for SQLite: an INSERT ... SELECT
# with an upsert must have one, or it reads ON CONFLICT as the ON of the join.
_GROUPED = """
SELECT b.location_id, s.product_id, max(s.created_at)
FROM (SELECT product_id, from_bin_id AS bin_id, created_at FROM {rows} WHERE from_bin_id IS NOT NULL
      UNION ALL
      SELECT product_id, to_bin_id AS bin_id, created_at FROM {rows} WHERE to_bin_id IS NOT NULL) AS s
JOIN bin b ON b.id = s.bin_id
WHERE b.location_id IS NOT NULL
GROUP BY b.location_id, s.product_id
"""


_FILL = "INSERT INTO stock_last_movement (location_id, product_id, last_at) " + _GROUPED.format(rows="stock_movement")


@cache
def _fold(dialect: str) -> TextClause:
    return text(
        f"WITH batch AS (SELECT product_id, from_bin_id, to_bin_id, created_at FROM stock_movement"
        f" WHERE {_BATCH_RANGE[dialect]}) "
        f"INSERT INTO stock_last_movement (location_id, product_id, last_at) {_GROUPED.format(rows='batch')}"
        f"ON CONFLICT (location_id, product_id) DO UPDATE SET last_at = {_LATER[dialect]}"
    )


def catch_up(batch: int = BATCH) -> int:
    """Worker stage: fold up to ``batch`` ledger rows after the cursor into the summary; how many were read (0:
    none final yet, or another worker holds the cursor). Locks the cursor row (``SKIP LOCKED``) and moves it in the
    same transaction as the summary rows are written."""
    with unit_of_work() as session:
        cursor = claim_cursor(session, CURSOR)
        if cursor is None:
            return 0
        conn = session.connection()
        dialect = conn.dialect.name
        end = conn.execute(_BATCH_END[dialect], {"txid": cursor.txid, "id": cursor.seq, "n": batch}).first()
        if end is None or not end[2]:
            return 0
        position = {"txid": cursor.txid, "id": cursor.seq, "end_txid": end[0], "end_id": end[1]}
        conn.execute(_fold(dialect), position)
        cursor.txid, cursor.seq, cursor.updated_at = end[0], end[1], utcnow()
        return int(end[2])


def rebuild() -> int:
    """The summary from scratch, from the whole ledger, with the cursor moved past what was read; how many
    (location, product) rows it holds. Locks the cursor row (waits for a stage round that holds it). For what
    re-dates ledger rows (the demo's history); the stage keeps the summary from then on."""
    with unit_of_work() as session:
        cursor = claim_cursor(session, CURSOR, wait=True)
        conn = session.connection()
        if is_postgres():
            # Every transaction below the horizon has ended, so the fill (a later statement) sees all of its rows.
            position = (conn.execute(text("SELECT txid_snapshot_xmin(txid_current_snapshot())")).scalar_one(), 0)
        else:
            position = (0, conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM stock_movement")).scalar_one())
        conn.execute(delete(StockLastMovement))
        filled = conn.execute(text(_FILL)).rowcount
        cursor.txid, cursor.seq, cursor.updated_at = *position, utcnow()
        return filled


def with_last_movement(
    query: Select, product_id: ColumnElement[int], location_id: int
) -> tuple[Select, ColumnElement[datetime]]:
    """``query`` outer-joined to each product's last movement at the location, and that time as an expression
    (NULL: it never moved there): the summary, and the ledger rows its stage has not read yet. Reads the cursor;
    no locks."""
    position = db.session.execute(
        select(WorkerCursor.txid, WorkerCursor.seq).where(WorkerCursor.name == CURSOR)
    ).first()
    txid, seq = position if position is not None else (0, 0)
    m = StockMovement
    unread = m.txid.is_not(None) & (tuple_(m.txid, m.id) > tuple_(txid, seq)) if is_postgres() else m.id > seq
    here = select(Bin.id).where(Bin.location_id == location_id)
    # SQLite would rather walk the whole ledger by its product index (for the grouping) than read the few rows
    # after the cursor by id: grouped by an expression, it has no index to walk.
    product = m.product_id if is_postgres() else (m.product_id + literal_column("0"))
    tail = (
        select(product.label("product_id"), func.max(m.created_at).label("last_at"))
        .where(unread, or_(m.from_bin_id.in_(here), m.to_bin_id.in_(here)))
        .group_by(product)
        .subquery("unread")
    )
    kept = StockLastMovement.last_at
    last = case(
        (tail.c.last_at.is_(None), kept),
        (kept.is_(None), tail.c.last_at),
        (tail.c.last_at > kept, tail.c.last_at),
        else_=kept,
    )
    joined = query.outerjoin(
        StockLastMovement,
        (StockLastMovement.location_id == location_id) & (StockLastMovement.product_id == product_id),
    ).outerjoin(tail, tail.c.product_id == product_id)
    return joined, last
