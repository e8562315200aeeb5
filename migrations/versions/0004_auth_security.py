"""auth: staff tokens, token expiry and last use, server-side sessions, sign-in failures

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_session_key_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("via IN ('form', 'token')", name=op.f("ck_sign_in_failure_via")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    with op.batch_alter_table("sign_in_failure", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failure_username_at", ["username", "at"], unique=False)
        batch_op.create_index("ix_sign_in_failure_address_at", ["address", "at"], unique=False)
        batch_op.create_index("ix_sign_in_failure_at", ["at"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cut_off_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("device", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_api_token_user_id_user"), "user", ["user_id"], ["id"])
        # Not found by autogenerate: the scope check gains 'staff', and a staff token names its user.
        batch_op.drop_constraint(batch_op.f("ck_api_token_scope"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_api_token_scope"), "scope IN ('channel', 'integration', 'station', 'staff')"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_api_token_staff_user"), "scope <> 'staff' OR user_id IS NOT NULL"
        )


def downgrade():
    # Tables that reference "user" go first; then "user" loses its column in place (SQLite 3.35+ drops a column
    # without copying the table, which a batch copy could not do here: DROP TABLE "user" fails while rows of
    # other tables still reference it).
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
    op.drop_table("user_session")

    with op.batch_alter_table("sign_in_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_failure_at")
        batch_op.drop_index("ix_sign_in_failure_address_at")
        batch_op.drop_index("ix_sign_in_failure_username_at")
    op.drop_table("sign_in_failure")

    op.execute("DELETE FROM api_token WHERE scope = 'staff'")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_api_token_staff_user"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_api_token_scope"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_api_token_scope"), "scope IN ('channel', 'integration', 'station')"
        )
        batch_op.drop_constraint(batch_op.f("fk_api_token_user_id_user"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("device")
        batch_op.drop_column("user_id")

    if op.get_bind().dialect.name == "sqlite":
        op.execute('ALTER TABLE "user" DROP COLUMN cut_off_at')
    else:
        op.drop_column("user", "cut_off_at")
