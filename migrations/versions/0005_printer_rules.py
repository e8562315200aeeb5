"""printing: printers that can be disabled

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 23:10:00

"""

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # Nothing to change: a disabled printer is `printer.active` false (there since 0003), and the printer URL rules
    # are checked in code wherever a URL is stored and again before the worker opens one, so URLs stored before
    # them need no data migration (their jobs fail with the reason; a manager edits the URL).
    pass


def downgrade():
    pass
