"""order events record their writing transaction, for the order list's cursor

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # Events written before this revision are final: 0 puts them first.
    with op.batch_alter_table("order_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.create_index("ix_order_event_txid_id", ["txid", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # The column's default, so that every writer of an event (the one-statement intake included) records its
        # transaction without naming the column. SQLite serialises writers: 0 and the id order are commit order.
        op.alter_column("order_event", "txid", server_default=sa.text("txid_current()"))


def downgrade():
    with op.batch_alter_table("order_event", schema=None) as batch_op:
        batch_op.drop_index("ix_order_event_txid_id")
        batch_op.drop_column("txid")
