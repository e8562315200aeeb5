"""quantities that are summed are 64-bit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
