"""auth: staff tokens, token expiry and last use, server-side sessions, sign-in failures

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
