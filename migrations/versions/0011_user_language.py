"""users choose the language of their pages

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:40:00

"""

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


def upgrade():
    # Nullable: a user who never chose follows the browser's Accept-Language, so existing rows need no value.
    # (On SQLite the CHECK copies the table; migrations/env.py turns the foreign-key check off around that.)
    listed = ", ".join(repr(code) for code in LANGUAGES)
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch_op.create_check_constraint(op.f("ck_user_language"), f"language IN ({listed})")


def downgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_language"), type_="check")
        batch_op.drop_column("language")
