"""counts (placeholder: filled in by the work on counts)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:40:00

"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
