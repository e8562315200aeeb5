"""The schema is made only by the migrations: the models and the migrated database must agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from wms import create_app
from wms.extensions import db


def _differences(conn):
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
    return [d for d in compare_metadata(context, db.metadata) if not _is_alembic_table(d)]


def _is_alembic_table(diff) -> bool:
    return isinstance(diff, tuple) and len(diff) > 1 and getattr(diff[1], "name", None) == "alembic_version"


def test_models_match_migrations(any_app):
    with db.engine.connect() as conn:
        assert _differences(conn) == []


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite'}", "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            assert _differences(conn) == []
