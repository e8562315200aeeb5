"""stock checks: the worker recomputes every quantity from the ledger on a schedule and records what it found

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 07:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stock_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("drift", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_check")),
    )
    with op.batch_alter_table("stock_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_check_started_at"), ["started_at"], unique=False)


def downgrade():
    with op.batch_alter_table("stock_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_check_started_at"))
    op.drop_table("stock_check")
