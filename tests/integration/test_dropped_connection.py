"""A connection PostgreSQL dropped (a restart, a failover, an idle timeout) is replaced before a request uses it:
the first request afterwards answers as usual instead of a 500."""

from __future__ import annotations

import sqlalchemy as sa

from tests.factories import Api, make_world
from wms.extensions import db


def terminate_other_backends(url) -> int:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        engine.dispose()


def test_the_first_request_after_the_server_dropped_the_connections_succeeds(pg_app):
    world = make_world(stock_a=4, stock_b=0)
    client = pg_app.test_client()
    shop = Api(client, world.web)
    assert shop.get("/api/v1/availability?sku=A").status_code == 200
    db.session.remove()
    assert terminate_other_backends(db.engine.url) >= 1  # the pool's idle connections
    r = shop.get("/api/v1/availability?sku=A")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["items"][0]["available"] == 4
    assert client.get("/healthz").status_code == 200
