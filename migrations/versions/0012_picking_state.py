"""picking state: a task line's bin confirmed by scan, its order line and short units; an order's tote and flag

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 01:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task_line") as batch_op:
        batch_op.add_column(sa.Column("bin_scanned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("short", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("order_line_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_task_line_order_line_id_order_line"), "order_line", ["order_line_id"], ["id"]
        )
        batch_op.create_index(op.f("ix_task_line_order_line_id"), ["order_line_id"])
    with op.batch_alter_table("order") as batch_op:
        batch_op.add_column(sa.Column("tote", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("attention", sa.String(length=500), nullable=True))
        batch_op.create_index(op.f("ix_order_tote"), ["tote"])


def downgrade():
    with op.batch_alter_table("order") as batch_op:
        batch_op.drop_index(op.f("ix_order_tote"))
        batch_op.drop_column("attention")
        batch_op.drop_column("tote")
    with op.batch_alter_table("task_line") as batch_op:
        batch_op.drop_index(op.f("ix_task_line_order_line_id"))
        batch_op.drop_constraint(op.f("fk_task_line_order_line_id_order_line"), type_="foreignkey")
        batch_op.drop_column("order_line_id")
        batch_op.drop_column("short")
        batch_op.drop_column("bin_scanned")
