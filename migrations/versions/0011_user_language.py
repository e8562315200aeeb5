"""users choose the language of their pages

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:40:00

"""

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Written out rather than imported from wms.auth.models: a migration must keep meaning what it meant when a later
# release adds a language (that release widens the CHECK in a migration of its own).
LANGUAGES = ("pl", "en")


@contextmanager
def _copying_tables():
    """Adding a CHECK on SQLite copies ``user`` into a new table and drops the old, which ``PRAGMA foreign_keys=ON``
    refuses while sessions point at users: the check is off during the copy, then every reference is verified (as in
    0006)."""
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
    # Nullable: a user who never chose follows the browser's Accept-Language, so existing rows need no value.
    listed = ", ".join(repr(code) for code in LANGUAGES)
    with _copying_tables(), op.batch_alter_table("user") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch_op.create_check_constraint(op.f("ck_user_language"), f"language IN ({listed})")


def downgrade():
    with _copying_tables(), op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_language"), type_="check")
        batch_op.drop_column("language")
