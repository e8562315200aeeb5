"""Each product's last movement per location: what the worker stage folds from the ledger, what a page reads (the
summary plus the rows the stage has not read yet) and a rebuild all equal the same thing recomputed from scratch,
whatever the stage's lag and batch size; on PostgreSQL a row committed late with a lower id is not skipped."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tests.factories import add_stock, make_product, make_world
from wms.catalog.models import Product
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.stock.models import StockMovement
from wms.stock.service import adjust, move
from wms.summaries.last_movement import catch_up, rebuild, with_last_movement
from wms.summaries.models import StockLastMovement
from wms.timeutil import utcnow

Key = tuple[int, int]  # (location id, product id)


def _naive(value: datetime) -> datetime:
    # SQLite hands times back without their zone; both databases keep UTC
    return value.replace(tzinfo=None) if value.tzinfo else value


def recomputed() -> dict[Key, datetime]:
    """From scratch, in Python: the latest time of a ledger row on either side of each (location, product)."""
    where = dict(db.session.execute(select(Bin.id, Bin.location_id)).all())
    out: dict[Key, datetime] = {}
    for product_id, from_bin, to_bin, at in db.session.execute(
        select(StockMovement.product_id, StockMovement.from_bin_id, StockMovement.to_bin_id, StockMovement.created_at)
    ):
        for bin_id in {from_bin, to_bin} - {None}:
            key = (where[bin_id], product_id)
            out[key] = max(out.get(key, _naive(at)), _naive(at))
    db.session.rollback()
    return out


def kept() -> dict[Key, datetime]:
    rows = db.session.execute(select(StockLastMovement)).scalars()
    out = {(r.location_id, r.product_id): _naive(r.last_at) for r in rows}
    db.session.rollback()
    return out


def read(location_id: int) -> dict[int, datetime]:
    """What a page reads: every product's last movement at the location (the summary and the unread rows)."""
    query, last = with_last_movement(select(Product.id), Product.id, location_id)
    out = {p: _naive(at) for p, at in db.session.execute(query.add_columns(last)) if at is not None}
    db.session.rollback()
    return out


def read_everywhere() -> dict[Key, datetime]:
    locations = list(db.session.execute(select(Location.id)).scalars())
    return {(loc, p): at for loc in locations for p, at in read(loc).items()}


def drain(batch: int) -> int:
    """Run the stage until it has nothing left; how many rounds did work."""
    rounds = 0
    while catch_up(batch):
        rounds += 1
        assert rounds < 1000
    return rounds


def backdate(hours: dict[int, float]) -> None:
    """Re-date ledger rows by id, ``hours`` before now (as the tests' time machine; the ledger itself never does)."""
    now = utcnow()
    for row_id, h in hours.items():
        db.session.execute(
            update(StockMovement).where(StockMovement.id == row_id).values(created_at=now - timedelta(hours=h))
        )
    db.session.commit()


def ledger_ids() -> list[int]:
    ids = list(db.session.execute(select(StockMovement.id).order_by(StockMovement.id)).scalars())
    db.session.rollback()
    return ids


@pytest.fixture
def floor(any_app):
    """Receipts at two locations, moves within WH1, an adjustment out, each row at a time of its own."""
    make_world(stock_a=10, stock_b=5)
    make_product("C")
    add_stock("ST2", "S-01", "A", 4)
    add_stock("WH2", "A-01", "C", 3)
    move("WH1", "A-01", "B-01", "A", 2)
    move("WH1", "A-02", "DOCK", "B", 1)
    adjust("WH1", "A-01", "A", -1, "broken")
    # times out of id order, so that the latest row of a key is not always the last one written
    ids = ledger_ids()
    backdate({row_id: (37 * n) % 11 + n / 7 for n, row_id in enumerate(ids)})
    return any_app


def test_the_stage_folds_the_ledger_into_what_a_recomputation_gives(floor):
    expected = recomputed()
    assert kept() == {}
    assert read_everywhere() == expected  # before the stage ran: all from the unread rows
    assert drain(batch=2) >= 4  # a few rows at a time
    assert kept() == expected
    assert read_everywhere() == expected  # now from the summary
    assert catch_up() == 0


def test_moves_after_a_partial_catch_up_and_rows_dated_before_being_read(floor):
    catch_up(batch=3)  # part of the ledger folded
    assert read_everywhere() == recomputed()  # half summary, half unread rows: still the ledger's answer
    first = len(ledger_ids())
    move("WH1", "B-01", "A-01", "A", 1)
    add_stock("ST1", "S-01", "B", 2)
    adjust("ST2", "S-01", "A", -1, "broken")
    new = ledger_ids()[first:]
    backdate({new[0]: 200, new[1]: 0.5})  # an old row and a recent one, not yet read by the stage
    assert read_everywhere() == recomputed()
    drain(batch=4)
    assert kept() == recomputed()
    assert read_everywhere() == recomputed()


def test_rebuild_after_rows_were_redated_behind_the_stages_back(floor):
    drain(batch=50)
    wh1 = db.session.execute(select(Location.id).where(Location.code == "WH1")).scalar_one()
    db.session.rollback()
    # Every row at WH1 pushed 30 days back after the stage read it: the summary still holds the later times ...
    db.session.execute(
        update(StockMovement)
        .where(StockMovement.to_bin_id.in_(select(Bin.id).where(Bin.location_id == wh1)))
        .values(created_at=utcnow() - timedelta(days=30))
    )
    db.session.commit()
    assert kept() != recomputed()
    # ... which is why whatever re-dates the ledger rebuilds the summary
    assert rebuild() == len(recomputed())
    assert kept() == recomputed()
    assert read_everywhere() == recomputed()
    assert catch_up() == 0  # the cursor moved past what the rebuild read
    move("WH1", "B-01", "A-01", "A", 1)
    assert catch_up() == 1
    assert kept() == recomputed()


@pytest.mark.postgres
def test_a_late_commit_with_a_lower_id_is_not_skipped(pg_app):
    """T1 writes a ledger row first (lower id, lower txid) and commits last; the stage must wait for it."""
    make_world(stock_a=10, stock_b=5)
    drain(batch=100)
    ids = dict(db.session.execute(text("SELECT code, id FROM bin")).all())
    a = db.session.execute(select(Product.id).where(Product.sku == "A")).scalar_one()
    db.session.rollback()
    t1_conn = db.engine.connect()
    t1 = Session(bind=t1_conn)
    try:
        t1.execute(
            text(
                "INSERT INTO stock_movement (product_id, lot, qty, from_bin_id, from_status, to_bin_id, to_status,"
                " reason, created_at) VALUES (:p, '', 1, :f, 'sellable', :t, 'sellable', 'move', :at)"
            ),
            {"p": a, "f": ids["A-01"], "t": ids["B-01"], "at": utcnow() + timedelta(hours=1)},
        )
        move("WH1", "A-02", "DOCK", "B", 1)  # T2: a later id and txid, committed
        assert catch_up() == 0, "T2 is held back while the older T1 runs"
        assert read_everywhere() == recomputed()  # a page sees T2's row all the same
        t1.commit()
    finally:
        t1.close()
        t1_conn.close()
    assert catch_up() == 2
    assert kept() == recomputed()
    wh1 = db.session.execute(select(Location.id).where(Location.code == "WH1")).scalar_one()
    assert kept()[(wh1, a)] > _naive(utcnow())  # T1's row, dated an hour ahead, is the latest of A at WH1
