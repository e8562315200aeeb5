"""the ledger by reason and time: the managers' charts read a window of one reason (pick lines per hour)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 07:10:00

"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index("ix_stock_movement_reason_created_at", ["reason", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movement_reason_created_at")
