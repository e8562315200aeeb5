"""where each channel stands in the availability change feed: the managers see a channel whose feed lags

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 11:05:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "channel_feed_read",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], name=op.f("fk_channel_feed_read_channel_id_channel")),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_feed_read")),
    )


def downgrade():
    op.drop_table("channel_feed_read")
