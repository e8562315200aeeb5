"""one source for each list: CHECK constraints from the enums; who and which device on the ledger

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 23:10:00

"""

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The lists as they were at this revision, written out rather than imported from the enums: a migration stays what
# it was when the enums grow (a new value is a new migration that widens the CHECK).
STOCK_STATUSES = "'sellable', 'damaged', 'in_transit', 'quarantine'"
MOVEMENT_REASONS = "'receipt', 'adjustment', 'move', 'pick', 'ship', 'collect', 'count', 'return', 'transfer', 'scrap'"
ORDER_STATUSES = (
    "'reserved', 'in_transit', 'picking', 'packed', 'shipped', 'ready_for_pickup', 'collected', "
    "'partially_collected', 'expired', 'cancelled'"
)
FULFILMENTS = "'ship', 'pickup'"

#: table -> [(constraint name, column, listed values)]: the fixed lists that had no CHECK before
CHECKS = {
    "stock_quant": [("status", "status", STOCK_STATUSES)],
    "stock_movement": [
        ("from_status", "from_status", STOCK_STATUSES),
        ("to_status", "to_status", STOCK_STATUSES),
        ("reason", "reason", MOVEMENT_REASONS),
    ],
    "order": [("fulfilment", "fulfilment", FULFILMENTS), ("status", "status", ORDER_STATUSES)],
    "order_event": [("status", "status", ORDER_STATUSES)],
}

#: (table, column): who made a change, where the service that made it was given an ``actor`` and dropped it
ACTOR_COLUMNS = [
    ("order_event", "device"),
    ("location", "updated_by"),
    ("bin", "updated_by"),
    ("product", "updated_by"),
    ("user", "updated_by"),
    ("api_token", "revoked_by"),
]


@contextmanager
def _copying_tables():
    """SQLite cannot add a constraint to a table (or drop a column of one that has CHECKs): batch mode copies the
    table into a new one and drops the old. With the app's ``PRAGMA foreign_keys=ON`` that drop fails as soon as
    another table's rows point at it (orders' lines, users' sessions), so the check is off while tables are copied
    (a PRAGMA that only takes effect outside a transaction), then every reference is verified and it is on again."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    with op.get_context().autocommit_block():
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rows point at rows that are gone after copying tables: {broken[:5]}")
    finally:
        with op.get_context().autocommit_block():
            bind.exec_driver_sql("PRAGMA foreign_keys=ON")


def upgrade():
    with _copying_tables():
        for table, checks in CHECKS.items():
            with op.batch_alter_table(table, schema=None) as batch_op:
                for name, column, listed in checks:
                    batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), f"{column} IN ({listed})")
        for table, column in ACTOR_COLUMNS:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.add_column(sa.Column(column, sa.String(length=128), nullable=True))


def downgrade():
    with _copying_tables():
        for table, column in reversed(ACTOR_COLUMNS):
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_column(column)
        for table, checks in CHECKS.items():
            with op.batch_alter_table(table, schema=None) as batch_op:
                for name, _column, _listed in checks:
                    batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
