"""The ceiling app: the least a Flask + SQLAlchemy app can do for each benchmarked request.

Served by the same gunicorn settings as the WMS (``benchmarks.common.Server``), on the same database, with the
same engine options (taken from ``wms.create_app``'s own helpers, so they cannot drift apart):

- ``GET /bare/level/<id>``: one ORM primary-key get of a ``stock_level`` row (``db.session.get``), as a typical
  app reads one row; Flask-SQLAlchemy ends the session at teardown, so PostgreSQL sees BEGIN, SELECT, ROLLBACK.
- ``POST /bare/orders/<level id>``: the JSON body of an order, then one transaction of one conditional UPDATE
  (``reserved = reserved + qty WHERE on_hand_sellable - reserved >= qty``) and one INSERT of the order: 201, or
  409 when the stock is gone. It writes to tables of its own (``bench_level``, ``bench_order``), so the WMS's
  stock stays consistent with its ledger (``wms check``) in the same database.
- ``POST /bare/scan/<row id>``: the JSON body of a task scan, then one transaction of one read by an indexed
  column (``bench_scan.code``, unique) and one UPDATE of that row (``scans = scans + 1``): the least a scan that
  records something can do. Its own table (``bench_scan``, :func:`create_scan_rows`); ``bench_scans`` calls it
  in-process through ``create_app(url)``.
- ``GET /bare/ping``: JSON without a database (the framework's own ceiling), ``GET /healthz`` like the WMS.

Run: ``WMS_DATABASE_URL=... gunicorn 'benchmarks.bare_app:create_app()'`` from the repository root.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, MetaData, String, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import wms
from wms import _engine_options, _normalise_url, _tune_engine
from wms.config import load_config


class Base(DeclarativeBase):
    metadata = MetaData()


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


class Level(db.Model):
    """The WMS's ``stock_level`` table (read only here)."""

    __tablename__ = "stock_level"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int]
    location_id: Mapped[int]
    on_hand_sellable: Mapped[int]
    reserved: Mapped[int]


class BenchLevel(db.Model):
    """A stock row of the bare app's own, with the same constraints as ``stock_level``."""

    __tablename__ = "bench_level"
    __table_args__ = (
        CheckConstraint("on_hand_sellable >= 0"),
        CheckConstraint("reserved >= 0"),
        CheckConstraint("reserved <= on_hand_sellable"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    on_hand_sellable: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)


class BenchOrder(db.Model):
    __tablename__ = "bench_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("bench_level.id"))
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    qty: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BenchScan(db.Model):
    """A row per task for the bare scan: found by its code (a unique index), then updated."""

    __tablename__ = "bench_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    scans: Mapped[int] = mapped_column(default=0)
    last_scan: Mapped[str] = mapped_column(String(64), default="")


BENCH_TABLES = [BenchLevel.__table__, BenchOrder.__table__]

_RESERVE = text(
    "UPDATE bench_level SET reserved = reserved + :qty WHERE id = :id AND on_hand_sellable - reserved >= :qty"
)


def create_bench_tables(engine: Engine, levels: dict[int, int]) -> None:
    """Create the bare app's own tables and its stock rows (``{level id: on hand}``); called before serving."""
    Base.metadata.create_all(engine, tables=BENCH_TABLES)
    with engine.begin() as conn:
        conn.execute(
            insert(BenchLevel.__table__),
            [{"id": i, "on_hand_sellable": qty, "reserved": 0} for i, qty in levels.items()],
        )


def create_scan_rows(engine: Engine, codes: list[str]) -> None:
    """Create the bare scan's table (``bench_scan``) with one row per code (row ids 1, 2, ... in that order)."""
    Base.metadata.create_all(engine, tables=[BenchScan.__table__])
    with engine.begin() as conn:
        conn.execute(
            insert(BenchScan.__table__),
            [{"id": i, "code": code, "scans": 0, "last_scan": ""} for i, code in enumerate(codes, start=1)],
        )


_SCAN_READ = text("SELECT id, scans FROM bench_scan WHERE code = :code")
_SCAN_WRITE = text("UPDATE bench_scan SET scans = scans + 1, last_scan = :scan WHERE id = :id")


def create_app(database_url: str | None = None) -> Flask:
    """The ceiling app on the WMS's configured database, or on ``database_url`` (in-process callers)."""
    app = Flask(__name__)
    # The WMS's settings, read the way the WMS reads them (its instance folder, then WMS_* variables).
    instance = str(Path(wms.__file__).resolve().parent.parent / "instance")
    overrides = {"SECRET_KEY": "bare"} | ({"DATABASE_URL": database_url} if database_url else {})
    settings = load_config(instance, overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_url(settings["DATABASE_URL"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config["SQLALCHEMY_DATABASE_URI"], settings)
    db.init_app(app)
    with app.app_context():
        _tune_engine(db.engine)

    @app.get("/healthz")
    def healthz():
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/bare/ping")
    def ping():
        return {"status": "ok"}

    @app.get("/bare/level/<int:level_id>")
    def read_level(level_id: int):
        level = db.session.get(Level, level_id)
        if level is None:
            return {"error": "not found"}, 404
        return {
            "id": level.id,
            "product_id": level.product_id,
            "location_id": level.location_id,
            "available": level.on_hand_sellable - level.reserved,
        }

    @app.post("/bare/orders/<int:level_id>")
    def place(level_id: int):
        body = request.get_json()
        qty = body["lines"][0]["qty"]
        session = db.session
        # BEGIN IMMEDIATE on SQLite (the WMS's unit of work does the same); no effect on PostgreSQL.
        session.connection(execution_options={"wms_write": True})
        if session.execute(_RESERVE, {"id": level_id, "qty": qty}).rowcount != 1:
            session.rollback()
            return {"error": {"code": "insufficient_stock"}}, 409
        order_id = session.execute(
            insert(BenchOrder)
            .values(level_id=level_id, external_id=body["external_id"], qty=qty, created_at=datetime.now(UTC))
            .returning(BenchOrder.id)
        ).scalar_one()
        session.commit()
        return {"id": order_id, "external_id": body["external_id"], "status": "reserved"}, 201

    @app.post("/bare/scan/<int:row_id>")
    def scan(row_id: int):
        body = request.get_json()
        session = db.session
        session.connection(execution_options={"wms_write": True})  # BEGIN IMMEDIATE on SQLite, as a WMS write
        found = session.execute(_SCAN_READ, {"code": body["code"]}).first()
        if found is None or found.id != row_id:
            session.rollback()
            return {"error": {"code": "unknown_code"}}, 422
        session.execute(_SCAN_WRITE, {"id": row_id, "scan": body["id"]})
        session.commit()
        return {"ok": True, "scans": found.scans + 1}

    return app
