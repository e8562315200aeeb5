"""pickup orders on the shelf: the pickup bin an order waits in, until when, its reminder, the handover's id

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("order") as batch_op:
        batch_op.add_column(sa.Column("shelf_bin_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("handover_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(op.f("fk_order_shelf_bin_id_bin"), "bin", ["shelf_bin_id"], ["id"])
        # the worker's pickup stages ask these every round
        batch_op.create_index("ix_order_status_hold_until", ["status", "hold_until"], unique=False)
        batch_op.create_index("ix_order_pickup_location_status", ["pickup_location_id", "status"], unique=False)


def downgrade():
    with op.batch_alter_table("order") as batch_op:
        batch_op.drop_index("ix_order_pickup_location_status")
        batch_op.drop_index("ix_order_status_hold_until")
        batch_op.drop_constraint(op.f("fk_order_shelf_bin_id_bin"), type_="foreignkey")
        batch_op.drop_column("handover_id")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("hold_until")
        batch_op.drop_column("shelf_bin_id")
