"""quantities that are summed are 64-bit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: (table, column) of every quantity a sum can push past 2**31 - 1
BIG_QUANTITIES = [
    ("stock_quant", "qty"),
    ("stock_level", "on_hand_sellable"),
    ("stock_level", "reserved"),
    ("stock_movement", "qty"),
    ("reservation", "qty"),
    ("reservation", "open_qty"),
]


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    # SQLite's INTEGER already holds 64 bits (and the models keep Integer there): nothing to rebuild.
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in BIG_QUANTITIES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=False)


def upgrade():
    _retype(sa.Integer(), sa.BigInteger())


def downgrade():
    # Fails (integer out of range) if a quantity no longer fits: better than cutting stock figures.
    _retype(sa.BigInteger(), sa.Integer())
