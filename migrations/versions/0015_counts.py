"""counts: no schema change (a no-op kept so that the revision numbers stay as planned)

A count needs no column of its own: its lines are task lines (``done``: units counted, ``qty`` equal to it), and
what the count task remembers (bin scanned, who counted and when, the ledger row it was counted against, orders it
flagged, who approved it) is in the task's ``reference`` (JSON); see ``wms.tasks.kinds.count``.

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
