"""locations have a time zone for the times shown on pages

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: a location without a zone of its own follows the WMS_TIMEZONE setting, so existing rows need none.
    with op.batch_alter_table("location") as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("location") as batch_op:
        batch_op.drop_column("timezone")
