"""The WMS Flask application: ``create_app`` wires config, extensions, blueprints, error handlers and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from wms import i18n, localtime, params, security
from wms.config import load_config
from wms.extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides everything else (tests pass ``DATABASE_URL`` here)."""
    app = Flask(__name__, instance_relative_config=True)
    settings = load_config(app.instance_path, config)
    app.config.update(settings)
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_url(settings["DATABASE_URL"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config["SQLALCHEMY_DATABASE_URI"], settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY"]
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.json.sort_keys = False

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        _tune_engine(db.engine)
    params.init_app(app)  # the id converters must be in place before any blueprint adds its rules
    security.init_app(app)

    from wms import models  # noqa: F401  (complete metadata before anything maps)
    from wms.api import bp as api_bp
    from wms.auth.models import MANAGER_ROLES
    from wms.auth.rules import safe_next
    from wms.auth.views import bp as auth_bp
    from wms.catalog.views import bp as catalog_bp
    from wms.dashboard.views import bp as dashboard_bp
    from wms.errors import register_error_handlers
    from wms.handheld.views import bp as handheld_bp
    from wms.locations.views import bp as locations_bp
    from wms.picking.views import bp as picking_bp
    from wms.pickups.views import bp as pickups_bp
    from wms.printing.station_views import bp as stations_bp
    from wms.printing.views import bp as printing_bp
    from wms.returns.views import bp as returns_bp
    from wms.tasks.views import bp as tasks_pages_bp
    from wms.transfers.views import bp as transfers_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(locations_bp)
    app.register_blueprint(picking_bp)
    app.register_blueprint(printing_bp)
    app.register_blueprint(stations_bp)
    app.register_blueprint(tasks_pages_bp)
    app.register_blueprint(returns_bp)
    app.register_blueprint(transfers_bp)
    app.register_blueprint(pickups_bp)
    app.register_blueprint(handheld_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer-token API: no cookies, so no CSRF
    register_error_handlers(app, safe_path=safe_next)
    localtime.init_app(app)
    from wms.picking.rules import parse_cutoff

    _check_ship_cutoff(app, parse_cutoff)
    i18n.init_app(app)
    # Pages test roles against the same list as the access checks (``wms.auth.models.Role``).
    app.add_template_global(MANAGER_ROLES, "MANAGER_ROLES")

    @app.get("/healthz")
    def healthz():
        from sqlalchemy import text

        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    if settings["BEHIND_PROXY"]:
        # Trust X-Forwarded-For/-Proto/-Host from that many proxies only: the client address (sign-in throttling)
        # and https come from the proxy, not from whatever a client wrote into those headers.
        hops = int(settings["BEHIND_PROXY"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _normalise_url(url: str) -> str:
    # Accept the usual spellings and always drive PostgreSQL through psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _engine_options(url: str, settings: dict[str, Any]) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": settings["SQLITE_BUSY_TIMEOUT"], "check_same_thread": False}}
    return {"pool_size": settings["DB_POOL_SIZE"], "max_overflow": 20, "pool_pre_ping": True}


def _tune_engine(engine: Engine) -> None:
    """SQLite: WAL, a long busy timeout, foreign keys, and BEGIN IMMEDIATE for write units of work."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN is deferred and late).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer must take the write lock at BEGIN: upgrading a read transaction fails at once under WAL
        # when another writer committed in between (SQLITE_BUSY_SNAPSHOT ignores the busy timeout).
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # plain reads on an autocommit connection: no transaction at all
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("wms_write") else "BEGIN")


def _check_ship_cutoff(app: Flask, parse_cutoff: Any) -> None:
    """An unreadable ``SHIP_CUTOFF`` stops the app here, not on the flow page."""
    try:
        parse_cutoff(str(app.config.get("SHIP_CUTOFF") or "15:00"))
    except ValueError as exc:
        raise ValueError(f"WMS_SHIP_CUTOFF: {exc}") from None
