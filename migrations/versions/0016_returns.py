"""returns: a return of an order, its lines, its intakes, the units taken in, its status history

Each intake is stored by its client id; the units it took in keep their grade, disposition and bin, and a
quarantined one a manager's decision.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 04:06:49

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "return_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rma", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("method IN ('ship', 'store')", name=op.f("ck_return_request_method")),
        sa.CheckConstraint(
            "status IN ('requested', 'received', 'inspected', 'closed')", name=op.f("ck_return_request_status")
        ),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], name=op.f("fk_return_request_channel_id_channel")),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_return_request_location_id_location")),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_return_request_order_id_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_request")),
        sa.UniqueConstraint("rma", name=op.f("uq_return_request_rma")),
    )
    with op.batch_alter_table("return_request", schema=None) as batch_op:
        batch_op.create_index("ix_return_request_order", ["order_id"], unique=False)

    op.create_table(
        "return_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'received', 'inspected', 'closed')", name=op.f("ck_return_event_status")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["return_request.id"], name=op.f("fk_return_event_return_id_return_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_event")),
    )
    with op.batch_alter_table("return_event", schema=None) as batch_op:
        batch_op.create_index("ix_return_event_return", ["return_id"], unique=False)

    op.create_table(
        "return_intake",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_return_intake_location_id_location")),
        sa.ForeignKeyConstraint(
            ["return_id"], ["return_request.id"], name=op.f("fk_return_intake_return_id_return_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_intake")),
        sa.UniqueConstraint("return_id", "client_id", name=op.f("uq_return_intake_return_id_client_id")),
    )
    op.create_table(
        "return_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_line.id"], name=op.f("fk_return_line_order_line_id_order_line")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_return_line_product_id_product")),
        sa.ForeignKeyConstraint(
            ["return_id"], ["return_request.id"], name=op.f("fk_return_line_return_id_return_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_line")),
        sa.UniqueConstraint("return_id", "line_no", name=op.f("uq_return_line_return_id_line_no")),
    )
    with op.batch_alter_table("return_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_line_order_line_id"), ["order_line_id"], unique=False)

    op.create_table(
        "return_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_line_id", sa.Integer(), nullable=False),
        sa.Column("intake_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("disposition", sa.String(length=16), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("bin_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision IN ('restock', 'scrap')", name=op.f("ck_return_item_decision")),
        sa.CheckConstraint(
            "disposition IN ('restock', 'quarantine', 'scrap')", name=op.f("ck_return_item_disposition")
        ),
        sa.CheckConstraint("grade IN ('new', 'opened', 'damaged')", name=op.f("ck_return_item_grade")),
        sa.ForeignKeyConstraint(["bin_id"], ["bin.id"], name=op.f("fk_return_item_bin_id_bin")),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["return_intake.id"], name=op.f("fk_return_item_intake_id_return_intake")
        ),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_return_item_location_id_location")),
        sa.ForeignKeyConstraint(
            ["return_line_id"], ["return_line.id"], name=op.f("fk_return_item_return_line_id_return_line")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_item")),
    )
    with op.batch_alter_table("return_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_item_return_line_id"), ["return_line_id"], unique=False)


def downgrade():
    with op.batch_alter_table("return_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_item_return_line_id"))

    op.drop_table("return_item")
    with op.batch_alter_table("return_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_line_order_line_id"))

    op.drop_table("return_line")
    op.drop_table("return_intake")
    with op.batch_alter_table("return_event", schema=None) as batch_op:
        batch_op.drop_index("ix_return_event_return")

    op.drop_table("return_event")
    with op.batch_alter_table("return_request", schema=None) as batch_op:
        batch_op.drop_index("ix_return_request_order")

    op.drop_table("return_request")
