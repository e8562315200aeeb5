"""Seeding for the benchmarks: small worlds through the WMS services, large catalogues through bulk SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from wms.catalog.rules import with_check_digit
from wms.catalog.service import import_products
from wms.channels.service import create_channel
from wms.locations.service import upsert_location
from wms.stock.bins import upsert_bin
from wms.stock.service import receive

#: code -> (kind, ships, pickup, priority); every location gets a pick bin "A-01"
SMALL_WORLD = {
    "WH1": ("warehouse", True, False, 10),
    "WH2": ("warehouse", True, False, 20),
    "ST1": ("store", False, True, 100),
    "ST2": ("store", True, True, 100),
}


def gtin13(n: int) -> str:
    return with_check_digit(f"591{n:09d}")


def make_locations(world: dict[str, tuple[str, bool, bool, int]] = SMALL_WORLD) -> None:
    for code, (kind, ships, pickup, priority) in world.items():
        upsert_location(code, {"name": code, "kind": kind, "ships": ships, "pickup": pickup, "priority": priority})
        upsert_bin(code, "A-01", {"kind": "pick", "sequence": 1})


def make_products(skus: list[str], first_gtin: int = 1) -> None:
    rows = [{"sku": sku, "name": f"Product {sku}", "barcodes": gtin13(first_gtin + i)} for i, sku in enumerate(skus)]
    result = import_products(rows)
    if result["failed"]:
        raise RuntimeError(f"seeding products failed: {result['errors'][:5]}")


def stock(location: str, lines: list[tuple[str, int]], reference: str) -> None:
    """Receive ``lines`` into the location's pick bin (ledger rows, quants, levels, change log: the real path)."""
    receive(location, "A-01", reference, [{"sku": sku, "qty": qty} for sku, qty in lines if qty > 0], actor="bench")


def channel(code: str, ship_from: list[str], buffer: int = 0) -> str:
    """Create a sales channel; returns its bearer token."""
    return create_channel(code, ship_from=ship_from, buffer=buffer)[1]


# --- bulk catalogue for the feed ----------------------------------------------------------------------------

FEED_LOCATIONS = 20
#: locations 1-4 are warehouses, the rest stores; 1-8 ship, stores pickup
_PG_BULK = [
    """INSERT INTO location (code, name, kind, ships, pickup, pickup_hold_days, priority, created_at, updated_at)
       SELECT CASE WHEN i <= 4 THEN 'WH' ELSE 'ST' END || lpad(i::text, 2, '0'), 'Location ' || i,
              CASE WHEN i <= 4 THEN 'warehouse' ELSE 'store' END, i <= 8, i > 4, 7, i, now(), now()
       FROM generate_series(1, :locations) i""",
    """INSERT INTO product (sku, name, track_lots, created_at, updated_at)
       SELECT 'SKU-' || lpad(i::text, 7, '0'), 'Product ' || i, false, now(), now()
       FROM generate_series(1, :products) i""",
    """INSERT INTO stock_level (product_id, location_id, on_hand_sellable, reserved)
       SELECT p.id, l.id, (p.id * 7 + l.id * 13) % 50, LEAST((p.id + l.id) % 3, (p.id * 7 + l.id * 13) % 50)
       FROM product p CROSS JOIN location l ORDER BY p.id, l.id""",
    # a change-log row per level, as if each had been received once: the incremental read then starts deep
    # into a log of realistic size
    """INSERT INTO stock_change (txid, product_id, location_id, created_at)
       SELECT txid_current(), product_id, location_id, now() FROM stock_level ORDER BY product_id, location_id""",
]
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_BULK = [
    f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :locations)
       INSERT INTO location (code, name, kind, ships, pickup, pickup_hold_days, priority, created_at, updated_at)
       SELECT CASE WHEN i <= 4 THEN 'WH' ELSE 'ST' END || printf('%02d', i), 'Location ' || i,
              CASE WHEN i <= 4 THEN 'warehouse' ELSE 'store' END, i <= 8, i > 4, 7, i, {_SQLITE_NOW}, {_SQLITE_NOW}
       FROM s""",
    f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :products)
       INSERT INTO product (sku, name, track_lots, created_at, updated_at)
       SELECT printf('SKU-%07d', i), 'Product ' || i, 0, {_SQLITE_NOW}, {_SQLITE_NOW} FROM s""",
    """INSERT INTO stock_level (product_id, location_id, on_hand_sellable, reserved)
       SELECT p.id, l.id, (p.id * 7 + l.id * 13) % 50, MIN((p.id + l.id) % 3, (p.id * 7 + l.id * 13) % 50)
       FROM product p CROSS JOIN location l ORDER BY p.id, l.id""",
    f"""INSERT INTO stock_change (txid, product_id, location_id, created_at)
       SELECT 0, product_id, location_id, {_SQLITE_NOW} FROM stock_level ORDER BY product_id, location_id""",
]


def bulk_catalogue(engine: Any, products: int, locations: int = FEED_LOCATIONS) -> None:
    """``products`` x ``locations`` stock levels (and one change-log row each) in a few statements."""
    postgres = engine.dialect.name == "postgresql"
    statements = _PG_BULK if postgres else _SQLITE_BULK
    with engine.begin() as conn:
        if postgres:
            # The rows are consistent by construction: skip the per-row foreign-key triggers (4M of them), which
            # take most of the load time. Needs a superuser, as the benchmark's database owner is.
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for sql in statements:
            conn.execute(text(sql), {"products": products, "locations": locations})
    settle(engine)


def settle(engine: Any) -> None:
    """Fresh rows: set hint bits and statistics, as autovacuum would have a minute after a bulk load, so that the
    first reader does not pay for the load and the planner does not plan for the empty tables it last saw."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
