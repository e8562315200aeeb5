"""What a sales channel may sell: availability by sku, the change feed after a cursor, and the full feed.

The reads of the API are plain SQL on a connection of their own in autocommit mode: one statement is one
consistent snapshot, and no BEGIN/ROLLBACK round trips are spent on a read-only request. (The worker reads
items inside its own transaction, through ``items_for_products``.)

An item is ``{"sku", "available", "known", "locations": [{"location", "available", "pickup"}]}``:
``available`` is the sum of ``on_hand_sellable - reserved`` over the channel's ship-from locations, minus the
channel's buffer, never below 0; ``locations`` lists every location with a stock level for the product
(ship-from or not), in the order the locations were created.

Change feed cursor. The log is ``stock_change`` (``seq`` from a sequence, ``txid`` = the writing transaction's
id). On PostgreSQL sequence numbers are not handed out in commit order, so "seq > cursor" could skip a row
committed late with a low number. Readers therefore only take rows whose ``txid`` is below the oldest
transaction still running (``txid_snapshot_xmin(txid_current_snapshot())``): every transaction below that
horizon has ended, so the set of rows below it is final and can be read in (txid, seq) order without gaps.
The cursor is the (txid, seq) of the last row consumed. On SQLite writers are serialised, txid is 0, and seq
order is commit order.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import datetime
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from wms.catalog.models import Product
from wms.channels.rules import sellable
from wms.channels.service import ship_from_ids
from wms.csvcells import csv_text_sql
from wms.errors import ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.stock.models import StockLevel
from wms.timeutil import utcnow

#: position in the stock_change log: (txid, seq) of the last row consumed
Position = tuple[int, int]
START: Position = (0, 0)

_CURSOR_RE = re.compile(r"([0-9]{1,19})\.([0-9]{1,19})")

# The rule "ship-from list, else every location that ships, minus the buffer" is stated once: the locations by
# ``wms.channels.service.ship_from_ids`` (a Core query every statement below embeds), the arithmetic by
# ``wms.channels.rules.sellable`` in Python and by :func:`sellable_sql` where the database builds the answer.

#: the dialects statements are compiled for when they run on the driver's own cursor (psycopg's ``%(name)s``,
#: sqlite3's ``:name``) or inside a COPY
_DIALECTS = {"postgresql": postgresql.psycopg.dialect(), "sqlite": sqlite.dialect(paramstyle="named")}


class greatest(GenericFunction):  # noqa: N801 - named as the SQL function
    """``GREATEST(a, b)``; SQLite's two-argument ``MAX`` is the same function."""

    type = Integer()
    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"MAX({compiler.process(element.clauses, **kw)})"


def sellable_sql(free: ColumnElement[int], ships_from: ColumnElement[bool], buffer: Any) -> ColumnElement[int]:
    """Aggregate: :func:`wms.channels.rules.sellable` over the rows of a product's stock levels, ``free`` being
    a level's ``on_hand_sellable - reserved`` and ``ships_from`` whether its location is a ship-from one."""
    zero = literal_column("0", Integer)  # written in, not bound: some of these statements take no parameters
    shipped = func.sum(greatest(zero, free)).filter(ships_from)
    return greatest(zero, func.coalesce(shipped, zero) - buffer)


def _sql(statement: ColumnElement[Any] | Select[Any], dialect: str, literal: bool = False) -> str:
    """``statement`` as text for ``dialect``; ``literal``: values written in (COPY takes no parameters)."""
    return str(statement.compile(dialect=_DIALECTS[dialect], compile_kwargs={"literal_binds": literal}))


_channel = bindparam("channel", type_=Integer)
_p = Product.__table__.alias("p")
_sl = StockLevel.__table__.alias("sl")
_l = Location.__table__.alias("l")


def _item_rows(products: ColumnElement[bool]) -> Select[Any]:
    """(product id, sku, location code, free, pickup, ships from) per stock level of the ``products`` (one row
    of NULLs for a product without levels), by product, then by location id: creation order."""
    return (
        select(
            _p.c.id,
            _p.c.sku,
            _l.c.code,
            _sl.c.on_hand_sellable - _sl.c.reserved,
            _l.c.pickup,
            _sl.c.location_id.in_(ship_from_ids(_channel)),
        )
        .select_from(_p.outerjoin(_sl, _sl.c.product_id == _p.c.id).outerjoin(_l, _l.c.id == _sl.c.location_id))
        .where(products)
        .order_by(_p.c.id, _sl.c.location_id)
    )


def _in_json_array(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQLite: ``column`` is one of the values of the JSON array ``:keys``."""
    values = func.json_each(bindparam("keys")).table_valued("value")
    return column.in_(select(values.c.value))


# Availability by sku runs on the driver's own cursor: through SQLAlchemy the same read cost 0.27 ms against
# 0.05 ms on SQLite, and 0.35 ms against 0.2 ms on PostgreSQL. One parameter for the whole list keeps the text
# constant, so that psycopg prepares it. A single sku gets "= :keys": with "= ANY(:keys)" PostgreSQL plans a
# custom plan on every call (~0.3 ms), as the generic plan of an array of unknown length looks costlier.
@cache
def _sku_rows(dialect: str) -> tuple[str, str]:
    """The statements for one sku and for a list of skus (``:keys``), as text for the driver's cursor."""
    one = _p.c.sku == bindparam("keys", type_=String)
    if dialect == "postgresql":
        many = _p.c.sku == any_(bindparam("keys", type_=ARRAY(String)))
    else:
        many = _in_json_array(_p.c.sku)
    return _sql(_item_rows(one), dialect), _sql(_item_rows(many), dialect)


@cache
def _items_by_id(dialect: str) -> Select[Any]:
    if dialect == "postgresql":
        return _item_rows(_p.c.id == any_(bindparam("keys", type_=ARRAY(Integer))))
    return _item_rows(_in_json_array(_p.c.id))


_LOG_AFTER = {
    # Only rows of transactions older than every running one: those rows are final (see the module docstring).
    "postgresql": text(
        "SELECT txid, seq, product_id FROM stock_change "
        "WHERE (txid, seq) > (:txid, :seq) AND txid < txid_snapshot_xmin(txid_current_snapshot()) "
        "ORDER BY txid, seq LIMIT :n"
    ),
    # SQLite: txid is always 0 and seq order is commit order; by rowid, as the (txid, seq) index would be
    # searched on txid alone and filtered row by row.
    "sqlite": text("SELECT txid, seq, product_id FROM stock_change WHERE seq > :seq ORDER BY seq LIMIT :n"),
}

#: the first product id of every slice of the full feed (PostgreSQL)
_SLICE_STARTS = text(
    "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM product) x WHERE (n - 1) % :n = 0"
)

#: the times of the final log rows after a position, in log order (the feed-lag exception)
_LOG_AFTER_TIMES = {
    "postgresql": text(
        "SELECT created_at FROM stock_change "
        "WHERE (txid, seq) > (:txid, :seq) AND txid < txid_snapshot_xmin(txid_current_snapshot()) "
        "ORDER BY txid, seq LIMIT :n"
    ).columns(created_at=DateTime(timezone=True)),
    "sqlite": text("SELECT created_at FROM stock_change WHERE seq > :seq ORDER BY seq LIMIT :n").columns(
        created_at=DateTime(timezone=True)
    ),
}

_LOG_END = {
    "postgresql": text(
        "SELECT txid, seq FROM stock_change WHERE txid < txid_snapshot_xmin(txid_current_snapshot()) "
        "ORDER BY txid DESC, seq DESC LIMIT 1"
    ),
    "sqlite": text("SELECT txid, seq FROM stock_change ORDER BY seq DESC LIMIT 1"),
}

#: most log rows one change-feed request reads, so that a backlog of repeated changes of few skus cannot make
#: one request scan the whole log (the page is then shorter than ``limit``; ``next`` moves on)
MAX_LOG_ROWS_PER_READ = 50_000
#: rows per chunk of the full feed's response
FEED_ROWS_PER_CHUNK = 2_000
#: PostgreSQL full feed: products per slice, and slices generated at once (each on a connection of its own)
FEED_SLICE_PRODUCTS = 5_000
FEED_CONNECTIONS = 2


def _autocommit() -> Connection:
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def _driver_cursor() -> Iterator[Any]:
    """A cursor of the driver on a pooled connection, in autocommit mode (no BEGIN, no ROLLBACK round trip).

    SQLite connections are in autocommit mode already (see ``wms._tune_engine``); psycopg's switch is client-side
    and the pool hands out idle connections only.
    """
    raw = db.engine.raw_connection()
    driver = raw.driver_connection
    postgres = db.engine.dialect.name == "postgresql"
    try:
        if postgres:
            driver.autocommit = True
        with closing(driver.cursor()) as cursor:
            yield cursor
    finally:
        if postgres:
            try:
                driver.autocommit = False  # as the pool expects it back
            except Exception:  # noqa: BLE001 - a lost connection
                raw.invalidate()
            if driver.broken:
                raw.invalidate()  # SQLAlchemy would have done it, had the error passed through it
        raw.close()


def _keys(conn: Connection, values: list[Any]) -> Any:
    return values if conn.dialect.name == "postgresql" else json.dumps(values)


# --- items ------------------------------------------------------------------------------------------------


def _build_items(rows: Iterable[tuple], buffer: int) -> dict[Any, dict[str, Any]]:
    """Fold (product id, sku, location, available, pickup, ships from) rows into items, keyed by product id."""
    items: dict[Any, dict[str, Any]] = {}
    shipped: dict[Any, list[int]] = {}
    for product_id, sku, code, available, pickup, ships_from in rows:
        item = items.get(product_id)
        if item is None:
            item = items[product_id] = {"sku": sku, "available": 0, "known": True, "locations": []}
            shipped[product_id] = []
        if code is None:
            continue  # a product without any stock level
        item["locations"].append({"location": code, "available": available, "pickup": bool(pickup)})
        if ships_from:
            shipped[product_id].append(available)
    for product_id, item in items.items():
        item["available"] = sellable(shipped[product_id], buffer)
    return items


def unknown_item(sku: str) -> dict[str, Any]:
    return {"sku": sku, "available": 0, "known": False, "locations": []}


def availability(channel_id: int, buffer: int, skus: list[str]) -> list[dict[str, Any]]:
    """Items for ``skus`` as ``channel_id`` sees them, in request order, each sku once; unknown skus are listed
    with ``known`` false. One statement on an autocommit connection: locks nothing, raises nothing."""
    wanted = list(dict.fromkeys(skus))
    dialect = db.engine.dialect.name
    one, many = _sku_rows(dialect)
    if len(wanted) == 1:
        sql, keys = one, wanted[0]
    else:
        sql, keys = many, (wanted if dialect == "postgresql" else json.dumps(wanted))
    with _driver_cursor() as cursor:
        cursor.execute(sql, {"channel": channel_id, "keys": keys})
        rows = cursor.fetchall()
    by_sku = {item["sku"]: item for item in _build_items(rows, buffer).values()}
    return [by_sku.get(sku) or unknown_item(sku) for sku in wanted]


def items_for_products(conn: Connection, channel_id: int, buffer: int, product_ids: list[int]) -> list[dict[str, Any]]:
    """Items of existing products by id, in the order given, read on ``conn`` (the caller's transaction or an
    autocommit connection). Ids of products that do not exist are left out."""
    if not product_ids:
        return []
    rows = conn.execute(
        _items_by_id(conn.dialect.name), {"channel": channel_id, "keys": _keys(conn, list(product_ids))}
    ).all()
    items = _build_items(rows, buffer)
    return [items[p] for p in product_ids if p in items]


# --- the change log ----------------------------------------------------------------------------------------


def encode_cursor(position: Position) -> str:
    return f"{position[0]}.{position[1]}"


def decode_cursor(cursor: str | None, field: str = "after") -> Position:
    """The position a cursor stands for; no cursor is the start of the log. Raises ValidationError on ``field``."""
    if cursor is None or cursor == "":
        return START
    match = _CURSOR_RE.fullmatch(cursor)
    if match is None or max(int(match.group(1)), int(match.group(2))) >= 2**63:
        raise ValidationError.one(field, "is not a cursor given by this API (use the 'next' of a previous page)")
    return int(match.group(1)), int(match.group(2))


def read_log(
    conn: Connection, after: Position, limit: int, max_rows: int = MAX_LOG_ROWS_PER_READ
) -> tuple[list[int], Position]:
    """Product ids changed after ``after``, each once, in log order, at most ``limit`` of them; and the position
    of the last row consumed (``after`` itself when nothing new is final yet).

    Rows are consumed in (txid, seq) order up to the first row of a product beyond ``limit``, so the next read
    from the returned position misses nothing. Reads only; locks nothing.
    """
    stmt = _LOG_AFTER[conn.dialect.name]
    batch = min(max(2 * limit, 500), 10_000)
    seen: dict[int, None] = {}
    position = after
    scanned = 0
    while True:
        rows = conn.execute(stmt, {"txid": position[0], "seq": position[1], "n": batch}).all()
        for txid, seq, product_id in rows:
            if product_id not in seen:
                if len(seen) >= limit:
                    return list(seen), position
                seen[product_id] = None
            position = (txid, seq)
        scanned += len(rows)
        if len(rows) < batch or scanned >= max_rows:
            return list(seen), position


def log_end(conn: Connection) -> Position:
    """Position of the last final row of the log (START when empty)."""
    row = conn.execute(_LOG_END[conn.dialect.name]).first()
    return (row[0], row[1]) if row else START


#: how often one process records a channel's feed position: lag is measured in minutes, so a poll every few
#: seconds needs no write of its own
FEED_READ_EVERY = 60.0
_feed_read_recorded: dict[int, float] = {}
_RECORD_FEED_READ = text(
    "INSERT INTO channel_feed_read (channel_id, txid, seq, read_at) VALUES (:channel, :txid, :seq, :at) "
    "ON CONFLICT (channel_id) DO UPDATE SET txid = excluded.txid, seq = excluded.seq, read_at = excluded.read_at"
).bindparams(bindparam("at", type_=DateTime(timezone=True)))


def _record_feed_read(conn: Connection, channel_id: int, consumed: Position) -> None:
    """Remember the position the channel has consumed (the cursor it sent), for the managers' feed-lag exception;
    at most once a minute per channel and process, so that the availability read stays a read."""
    now = time.monotonic()
    if now - _feed_read_recorded.get(channel_id, -FEED_READ_EVERY) < FEED_READ_EVERY:
        return
    conn.execute(_RECORD_FEED_READ, {"channel": channel_id, "txid": consumed[0], "seq": consumed[1], "at": utcnow()})
    _feed_read_recorded[channel_id] = now


def changes(channel_id: int, buffer: int, after: str | None, limit: int = 100) -> dict[str, Any]:
    """One page of the change feed: ``{"changes": [items with current figures], "next": cursor}``.

    Each sku at most once per page; ``next`` is always given (the cursor passed in, or the start, when nothing
    changed). Records the position the channel sent (see :func:`_record_feed_read`). Raises ValidationError for
    a malformed ``after`` or a ``limit`` outside 1..1000. Locks nothing.
    """
    if not 1 <= limit <= 1000:
        raise ValidationError.one("limit", "must be between 1 and 1000")
    consumed = decode_cursor(after)
    with _autocommit() as conn:
        product_ids, position = read_log(conn, consumed, limit)
        items = items_for_products(conn, channel_id, buffer, product_ids)
        _record_feed_read(conn, channel_id, consumed)
    return {"changes": items, "next": encode_cursor(position)}


def unread_changes(consumed: Position, cap: int = 10_000) -> tuple[int, datetime | None]:
    """How many final log rows follow ``consumed`` (at most ``cap``; more reads as ``cap + 1``), and the time of
    the first of them (None: nothing unread). Reads only."""
    with _autocommit() as conn:
        dialect = conn.dialect.name
        rows = conn.execute(
            _LOG_AFTER_TIMES[dialect], {"txid": consumed[0], "seq": consumed[1], "n": cap + 1}
        ).scalars()
        times = list(islice(rows, cap + 1))
    return len(times), (times[0] if times else None)


# --- the full feed -----------------------------------------------------------------------------------------

FEED_FORMATS = ("ndjson", "csv")
CSV_HEADER = "sku,available,locations,pickup\n"

# PostgreSQL: the database writes each line. Per location the constant parts of its text are made once
# (MATERIALIZED), and a product's levels come from the (product_id, location_id) index already in location
# order, so no row is sorted: 100,000 products x 20 locations take about 1.5 s. Measured alternatives:
# json_agg/json_build_object 4.7 s, an ORDER BY inside the aggregate +0.6 s.
_PG_LEVELS = """CROSS JOIN LATERAL (
    SELECT {{available}} AS available, {aggregates}
    FROM (SELECT sl.on_hand_sellable - sl.reserved AS n, loc.*
          FROM stock_level sl JOIN loc ON loc.id = sl.location_id
          WHERE sl.product_id = p.id ORDER BY sl.location_id) s
) a
WHERE {{products}}
ORDER BY p.id"""
_PG_FEED = {
    "ndjson": """WITH loc AS MATERIALIZED (
    SELECT id, '{{"location":' || to_json(code)::text || ',"available":' AS head,
           CASE WHEN pickup THEN ',"pickup":true}}' ELSE ',"pickup":false}}' END AS tail,
           {ships_from} AS ships_from
    FROM location
)
SELECT '{{"sku":' || to_json(p.sku)::text || ',"available":' || a.available
       || ',"known":true,"locations":[' || COALESCE(a.locs, '') || ']}}'
FROM product p """
    + _PG_LEVELS.format(aggregates="string_agg(s.head || s.n || s.tail, ',') AS locs"),
    "csv": """WITH loc AS MATERIALIZED (
    SELECT id, code || ':' AS head, pickup, {ships_from} AS ships_from FROM location
)
SELECT """
    + csv_text_sql("p.sku")
    + """, a.available, a.locs, a.pickup_locs
FROM product p """
    + _PG_LEVELS.format(
        aggregates="string_agg(s.head || s.n, ';') AS locs, "
        "string_agg(s.head || s.n, ';') FILTER (WHERE s.pickup) AS pickup_locs"
    ),
}

# SQLite: the same text built by the database. The plan scans products in id order and each product's levels
# through the (product_id, location_id) index, so the groups come in order without a sort and each
# group_concat sees its rows in location order. 100,000 products x 20 locations: about 1.7 s (correlated
# subqueries per product: 2.7 s to 4 s).
_SQLITE_FEED_FROM = """
FROM product p
LEFT JOIN stock_level sl ON sl.product_id = p.id
LEFT JOIN loc ON loc.id = sl.location_id
GROUP BY p.id
ORDER BY p.id"""
# Run on the driver's cursor: sqlite3 binds :name itself (text() would take the ":true" inside the literals for
# bind parameters). ``$ships_from`` and ``$available`` stand for the rule's Core expressions (see _sqlite_feed).
_SQLITE_FEED = {
    "ndjson": (
        """WITH loc AS MATERIALIZED (
    SELECT id, '{"location":' || json_quote(code) || ',"available":' AS head,
           CASE WHEN pickup THEN ',"pickup":true}' ELSE ',"pickup":false}' END AS tail,
           $ships_from AS ships_from
    FROM location
)
SELECT '{"sku":' || json_quote(p.sku) || ',"available":' || $available
       || ',"known":true,"locations":['
       || COALESCE(group_concat(loc.head || (sl.on_hand_sellable - sl.reserved) || loc.tail, ','), '') || ']}'"""
        + _SQLITE_FEED_FROM
    ),
    "csv": (
        """WITH loc AS MATERIALIZED (
    SELECT id, code || ':' AS head, pickup, $ships_from AS ships_from FROM location
)
SELECT CASE WHEN p.sku GLOB '*[,"' || char(10) || char(13) || ']*'
            THEN '"' || replace($sku, '"', '""') || '"' ELSE $sku END
       || ',' || $available
       || ',' || COALESCE(group_concat(loc.head || (sl.on_hand_sellable - sl.reserved), ';'), '')
       || ',' || COALESCE(
           group_concat(loc.head || (sl.on_hand_sellable - sl.reserved), ';') FILTER (WHERE loc.pickup), ''
       )"""
        + _SQLITE_FEED_FROM
    ).replace("$sku", csv_text_sql("p.sku")),
}


def _ships_from_sql(channel: Any, dialect: str, literal: bool = False) -> str:
    """Whether the row of ``location`` at hand is one of the channel's ship-from locations."""
    return _sql(Location.__table__.c.id.in_(ship_from_ids(channel)), dialect, literal)


@cache
def _sqlite_feed(fmt: str) -> str:
    ships_from = _ships_from_sql(_channel, "sqlite")
    free = _sl.c.on_hand_sellable - _sl.c.reserved
    available = _sql(sellable_sql(free, literal_column("loc.ships_from"), bindparam("buffer", type_=Integer)), "sqlite")
    return _SQLITE_FEED[fmt].replace("$ships_from", ships_from).replace("$available", available)


def feed(channel_id: int, buffer: int, fmt: str = "ndjson") -> Iterator[bytes]:
    """Every product's item for the channel, in product id order, as NDJSON lines or CSV
    (``sku,available,locations,pickup``), in chunks of bytes. The database writes the lines; they are streamed
    on connections of the feed's own, so memory does not grow with the catalogue. Raises ValidationError (field
    ``format``) for an unknown format, before anything is streamed. Locks nothing."""
    if fmt not in FEED_FORMATS:
        raise ValidationError.one("format", "must be ndjson or csv")
    if db.engine.dialect.name == "postgresql":
        return _feed_postgres(int(channel_id), int(buffer), fmt)
    return _feed_sqlite(channel_id, buffer, fmt)


def _feed_postgres(channel_id: int, buffer: int, fmt: str) -> Iterator[bytes]:
    """COPY TO STDOUT is the fastest way out of PostgreSQL. The catalogue is cut into slices of
    FEED_SLICE_PRODUCTS products by id, FEED_CONNECTIONS of them generated at once on connections of their own
    (PostgreSQL builds the text, one core per connection), and streamed in order. At most FEED_CONNECTIONS + 1
    slices are held in memory, whatever the size of the catalogue. Each line is consistent in itself; slices are
    read moments apart (a feed of changing stock is a moment's picture either way)."""
    engine = db.engine
    if fmt == "csv":
        yield CSV_HEADER.encode()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        starts = list(conn.execute(_SLICE_STARTS, {"n": FEED_SLICE_PRODUCTS}).scalars())
    if not starts:
        return
    # COPY takes no bind parameters: every value written in is an int.
    available = sellable_sql(literal_column("s.n"), literal_column("s.ships_from"), int(buffer))
    template = _PG_FEED[fmt].format(
        ships_from=_ships_from_sql(int(channel_id), "postgresql", literal=True),
        available=_sql(available, "postgresql", literal=True),
        products="$products",
    )
    statements = []
    for i, start in enumerate(starts):
        products = f"p.id >= {int(start)}" + (f" AND p.id < {int(starts[i + 1])}" if i + 1 < len(starts) else "")
        query = template.replace("$products", products)
        statements.append(f"COPY ({query}) TO STDOUT" + (" WITH (FORMAT csv)" if fmt == "csv" else ""))
    if len(statements) == 1:
        yield from _copy_chunks(engine, statements[0], fmt)
        return
    pool = ThreadPoolExecutor(max_workers=FEED_CONNECTIONS, thread_name_prefix="feed")
    try:
        waiting = iter(statements)
        running = deque(pool.submit(_copy_all, engine, sql, fmt) for sql in islice(waiting, FEED_CONNECTIONS))
        while running:
            chunks = running.popleft().result()
            following = next(waiting, None)
            if following is not None:
                running.append(pool.submit(_copy_all, engine, following, fmt))
            yield from chunks
    finally:
        # A client that goes away stops the feed: slices not started are dropped, running ones end by themselves.
        pool.shutdown(wait=False, cancel_futures=True)


def _copy_chunks(engine, copy_sql: str, fmt: str) -> Iterator[bytes]:
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor().copy(copy_sql) as copy:
            chunk: list[bytes] = []
            for row in copy:
                chunk.append(bytes(row))
                if len(chunk) >= FEED_ROWS_PER_CHUNK:
                    yield _pg_chunk(chunk, fmt)
                    chunk = []
            if chunk:
                yield _pg_chunk(chunk, fmt)
    finally:
        raw.close()  # back to the pool, which rolls the COPY's transaction back


def _copy_all(engine, copy_sql: str, fmt: str) -> list[bytes]:
    return list(_copy_chunks(engine, copy_sql, fmt))


def _pg_chunk(rows: list[bytes], fmt: str) -> bytes:
    data = b"".join(rows)
    # COPY's text format doubles every backslash; JSON built by PostgreSQL escapes every control character, so
    # a doubled backslash is the only escape that can occur. Rows arrive whole, so no pair is split.
    if fmt == "ndjson" and b"\\" in data:
        data = data.replace(b"\\\\", b"\\")
    return data


def _feed_sqlite(channel_id: int, buffer: int, fmt: str) -> Iterator[bytes]:
    with _autocommit() as conn:
        # The driver's own cursor: the lines are finished text, SQLAlchemy's row objects would only cost time.
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(_sqlite_feed(fmt), {"channel": channel_id, "buffer": buffer})
            if fmt == "csv":
                yield CSV_HEADER.encode()
            while rows := cursor.fetchmany(FEED_ROWS_PER_CHUNK):
                yield ("\n".join([line for (line,) in rows]) + "\n").encode()
        finally:
            cursor.close()
