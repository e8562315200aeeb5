"""min/max: how much of a product a location keeps, for replenishment suggestions

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "min_max",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("min_qty", sa.Integer(), nullable=False),
        sa.Column("max_qty", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("min_qty >= 0 AND max_qty >= min_qty AND max_qty > 0", name=op.f("ck_min_max_levels")),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_min_max_location_id_location")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_min_max_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_min_max")),
        sa.UniqueConstraint("location_id", "product_id", name=op.f("uq_min_max_location_id_product_id")),
    )
    with op.batch_alter_table("min_max", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_min_max_product_id"), ["product_id"], unique=False)


def downgrade():
    with op.batch_alter_table("min_max", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_min_max_product_id"))
    op.drop_table("min_max")
