"""waves (placeholder: filled in by the work on waves)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:40:00

"""

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
