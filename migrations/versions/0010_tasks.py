"""tasks: floor and counter work as tasks with lines, worked by scans stored with their answers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TASK_KINDS = "kind IN ('putaway', 'pick', 'pack', 'count', 'transfer_receive', 'stage')"
TASK_STATUSES = "status IN ('open', 'in_progress', 'done', 'cancelled', 'awaiting_approval')"


def upgrade():
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("tote", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(TASK_KINDS, name=op.f("ck_task_kind")),
        sa.CheckConstraint(TASK_STATUSES, name=op.f("ck_task_status")),
        sa.ForeignKeyConstraint(["assignee_id"], ["user.id"], name=op.f("fk_task_assignee_id_user")),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_task_location_id_location")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index("ix_task_location_id_status", ["location_id", "status"], unique=False)

    op.create_table(
        "task_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("bin_id", sa.Integer(), nullable=True),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("item_scanned", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["bin_id"], ["bin.id"], name=op.f("fk_task_line_bin_id_bin")),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_task_line_order_id_order")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_task_line_product_id_product")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_task_line_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_line")),
        sa.UniqueConstraint("task_id", "line_no", name=op.f("uq_task_line_task_id_line_no")),
    )
    with op.batch_alter_table("task_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_line_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_line_product_id"), ["product_id"], unique=False)

    op.create_table(
        "task_scan",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.String(length=2000), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_task_scan_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_scan")),
        sa.UniqueConstraint("task_id", "client_id", name=op.f("uq_task_scan_task_id_client_id")),
    )


def downgrade():
    op.drop_table("task_scan")
    op.drop_table("task_line")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_location_id_status")
        batch_op.drop_index(batch_op.f("ix_task_assignee_id"))
    op.drop_table("task")
