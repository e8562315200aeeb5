"""transfers: stock sent between locations, in transit until the destination receives it

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_location_id", sa.Integer(), nullable=False),
        sa.Column("to_location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("for_order_id", sa.Integer(), nullable=True),
        sa.Column("variance", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'picking', 'packed', 'in_transit', 'received', 'cancelled')",
            name=op.f("ck_transfer_status"),
        ),
        sa.ForeignKeyConstraint(
            ["from_location_id"], ["location.id"], name=op.f("fk_transfer_from_location_id_location")
        ),
        sa.ForeignKeyConstraint(["to_location_id"], ["location.id"], name=op.f("fk_transfer_to_location_id_location")),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_transfer_order_id_order")),
        sa.ForeignKeyConstraint(["for_order_id"], ["order.id"], name=op.f("fk_transfer_for_order_id_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer")),
        sa.UniqueConstraint("order_id", "from_location_id", name=op.f("uq_transfer_order_id_from_location_id")),
    )
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfer_to_location_id"), ["to_location_id"], unique=False)

    op.create_table(
        "transfer_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("shipped", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("damaged", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfer.id"], name=op.f("fk_transfer_line_transfer_id_transfer")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_transfer_line_product_id_product")),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_line.id"], name=op.f("fk_transfer_line_order_line_id_order_line")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_line")),
    )
    with op.batch_alter_table("transfer_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_line_transfer_id"), ["transfer_id"], unique=False)


def downgrade():
    with op.batch_alter_table("transfer_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_line_transfer_id"))
    op.drop_table("transfer_line")
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_to_location_id"))
        batch_op.drop_index(batch_op.f("ix_transfer_order_id"))
    op.drop_table("transfer")
