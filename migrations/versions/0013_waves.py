"""waves: the pick work one release made at a location; an order a manager marked urgent

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_wave_location_id_location")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wave")),
    )
    with op.batch_alter_table("wave") as batch_op:
        batch_op.create_index(op.f("ix_wave_location_id"), ["location_id"])
    with op.batch_alter_table("order") as batch_op:
        batch_op.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("order") as batch_op:
        batch_op.drop_column("urgent")
    with op.batch_alter_table("wave") as batch_op:
        batch_op.drop_index(op.f("ix_wave_location_id"))
    op.drop_table("wave")
