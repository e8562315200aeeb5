"""The migrated database refuses a value outside its enum in every fixed-list column, on SQLite and PostgreSQL
(migration 0006 added the CHECKs that were missing: stock status, movement reason, order status and fulfilment)."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.factories import make_world, order_body
from wms import create_app
from wms.channels.models import Channel
from wms.extensions import db
from wms.orders.service import place_order

#: (table, column): a row of each exists after ``world``
COLUMNS = [
    ("stock_quant", "status"),
    ("stock_movement", "from_status"),
    ("stock_movement", "to_status"),
    ("stock_movement", "reason"),
    ("order", "status"),
    ("order", "fulfilment"),
    ("order_event", "status"),
    ("location", "kind"),
    ("bin", "kind"),
    ("api_token", "scope"),
]


@pytest.fixture
def world(any_app):
    make_world()
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    db.session.rollback()
    place_order(channel_id, order_body(), actor="channel:WEB")


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_a_value_outside_the_enum_is_refused(world, table, column):
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        # from_status is NULL on receipts: set it everywhere, so that at least one row is tested
        db.session.execute(text(f'UPDATE "{table}" SET {column} = :bad'), {"bad": "no_such_value"})
    db.session.rollback()


def test_null_still_passes_where_the_column_allows_it(world):
    # A receipt has no source bin, so no source status: the CHECK lets NULL through.
    db.session.execute(text("UPDATE stock_movement SET from_status = NULL"))
    db.session.rollback()


ROWS_AT_0005 = [
    "INSERT INTO location (id, code, name, kind, ships, pickup, pickup_hold_days, priority, created_at, updated_at) "
    "VALUES (1, 'WH1', 'WH1', 'warehouse', 1, 0, 7, 10, '2026-01-01', '2026-01-01')",
    "INSERT INTO channel (id, code, name, buffer, created_at) VALUES (1, 'WEB', 'Web', 0, '2026-01-01')",
    "INSERT INTO product (id, sku, name, track_lots, created_at, updated_at) "
    "VALUES (1, 'A', 'A', 0, '2026-01-01', '2026-01-01')",
    'INSERT INTO "order" (id, channel_id, external_id, fulfilment, status, customer, request_hash, created_at, '
    "updated_at) VALUES (1, 1, 'WEB-1', 'ship', 'reserved', '{}', 'x', '2026-01-01', '2026-01-01')",
    "INSERT INTO order_line (id, order_id, line_no, product_id, qty, picked, shipped, collected, declined) "
    "VALUES (1, 1, 1, 1, 2, 0, 0, 0, 0)",
    "INSERT INTO order_event (id, order_id, status, actor, at) VALUES (1, 1, 'reserved', 'WEB', '2026-01-01')",
]


def test_0006_copies_tables_that_other_rows_point_at_on_sqlite(tmp_path):
    # SQLite adds a CHECK by copying the table: with foreign keys enforced, dropping the old "order" table that
    # order lines point at failed. An installed database with orders must upgrade, and downgrade again.
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'orders.sqlite'}", "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as conn:
            for statement in ROWS_AT_0005:
                conn.exec_driver_sql(statement)
        upgrade(revision="0006")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM order_line").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(IntegrityError):
                conn.exec_driver_sql("UPDATE \"order\" SET status = 'lost'")
            conn.rollback()
        downgrade(revision="0005")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM order_event").scalar() == 1
            conn.exec_driver_sql("UPDATE \"order\" SET status = 'lost'")  # no CHECK before 0006
            conn.rollback()
        db.engine.dispose()
