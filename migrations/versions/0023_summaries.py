"""summaries for the managers' pages: each product's last movement per location (kept from the ledger after a
cursor, so the ledger rows carry their writing transaction's id on PostgreSQL) and each location's stock totals;
a location's stock levels indexed by units on hand

The last movements are filled here from the whole ledger, so that the health page is right from the first request;
on a large ledger (10M rows) that takes a minute or so, with ledger writes waiting for it (the new column locks the
table until the migration commits). The stock totals are left for the worker's first round: until then the home
page reads the levels themselves.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 09:00:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

#: the summaries' cursor in the ledger (wms.summaries.last_movement.CURSOR)
CURSOR = "summaries.last_movement"

# Each side of a ledger row is a movement at its bin's location (a move within a location counts once).
FILL = """
INSERT INTO stock_last_movement (location_id, product_id, last_at)
SELECT b.location_id, s.product_id, max(s.created_at)
FROM (SELECT product_id, from_bin_id AS bin_id, created_at FROM stock_movement WHERE from_bin_id IS NOT NULL
      UNION ALL
      SELECT product_id, to_bin_id AS bin_id, created_at FROM stock_movement WHERE to_bin_id IS NOT NULL) AS s
JOIN bin b ON b.id = s.bin_id
GROUP BY b.location_id, s.product_id
"""


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
    if postgres:
        # Rows written from now on carry their transaction's id; the ones before have none and are all read by
        # the fill below (the new column locked the table: every earlier writer has committed or rolled back).
        op.execute("ALTER TABLE stock_movement ALTER COLUMN txid SET DEFAULT txid_current()")
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_movement_txid_id",
            ["txid", "id"],
            unique=False,
            postgresql_where=sa.text("txid IS NOT NULL"),
            sqlite_where=sa.text("txid IS NOT NULL"),
        )
    with op.batch_alter_table("stock_level", schema=None) as batch_op:
        # the location's levels by units on hand (the slow movers, most units first); it leads with location_id, so
        # it replaces the index on location_id alone
        batch_op.drop_index("ix_stock_level_location_id")
        batch_op.create_index(
            "ix_stock_level_location_on_hand", ["location_id", "on_hand_sellable", "product_id"], unique=False
        )
    op.create_table(
        "stock_last_movement",
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_stock_last_movement_location_id_location")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_stock_last_movement_product_id_product")),
        sa.PrimaryKeyConstraint("location_id", "product_id", name=op.f("pk_stock_last_movement")),
    )
    with op.batch_alter_table("stock_last_movement", schema=None) as batch_op:
        batch_op.create_index("ix_stock_last_movement_location_last_at", ["location_id", "last_at"], unique=False)
    op.create_table(
        "location_stock_summary",
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("skus_in_stock", sa.BigInteger(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_location_stock_summary_location_id_location")
        ),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_location_stock_summary")),
    )
    op.create_table(
        "network_stock_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("skus_in_stock", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_stock_summary")),
    )
    if postgres:
        op.execute("SET LOCAL work_mem = '256MB'")  # one grouping of the whole ledger: in memory, not in batches
    op.execute(FILL)
    # The cursor starts past what the fill read: on PostgreSQL every row written from now on has a txid (and the
    # old ones have none, so they are never read again); on SQLite, where id order is commit order, the last id.
    start = "0" if postgres else "(SELECT COALESCE(MAX(id), 0) FROM stock_movement)"
    op.execute(
        sa.text(f"INSERT INTO worker_cursor (name, txid, seq, updated_at) VALUES (:name, 0, {start}, :at)").bindparams(
            sa.bindparam("name", CURSOR), sa.bindparam("at", datetime.now(UTC), type_=sa.DateTime(timezone=True))
        )
    )


def downgrade():
    op.execute(sa.text("DELETE FROM worker_cursor WHERE name = :name").bindparams(name=CURSOR))
    op.drop_table("network_stock_summary")
    op.drop_table("location_stock_summary")
    with op.batch_alter_table("stock_last_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_last_movement_location_last_at")
    op.drop_table("stock_last_movement")
    with op.batch_alter_table("stock_level", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_level_location_on_hand")
        batch_op.create_index("ix_stock_level_location_id", ["location_id"], unique=False)
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movement_txid_id")
    if op.get_bind().dialect.name == "sqlite":
        # batch mode would copy the whole ledger to drop one column; SQLite drops it in place
        op.execute("ALTER TABLE stock_movement DROP COLUMN txid")
    else:
        with op.batch_alter_table("stock_movement", schema=None) as batch_op:
            batch_op.drop_column("txid")
