"""PostgreSQL: the stock work of picking units, in one statement (data-modifying CTEs).

What :func:`wms.tasks.kinds.pick.pick_units` does step by step on SQLite (lower the order line's reservation at the
location, lower the level's reserved and on-hand sellable, take the units from the source quant, put them on the
staging quant, write the ledger row and the change-log row, raise the order line's ``picked`` and the task line's
``done``) costs nine round trips there; here one. Every step is conditional on the one before it (``EXISTS`` on
its ``RETURNING``), which also makes PostgreSQL run them in that order: reservation, level, then the two quants in
the order of their bin ids, as :func:`wms.stock.service.post_entries` locks them, so a pick and any other stock
move never wait on each other crosswise.

The answer counts the rows each step changed. No reservation row holding enough (the line's units are spread over
several reservations): nothing changed, and the caller takes the step-by-step path. Any later step short: the
caller raises, and its unit of work rolls the whole transaction back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import BigInteger, DateTime, Integer, String, bindparam, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from wms.orders.models import OrderLine
from wms.stock.models import Reservation, StockChange, StockLevel, StockMovement, StockQuant
from wms.tasks.models import TaskLine


@dataclass(frozen=True)
class PickedRows:
    """Rows changed by each step of :func:`pick_in_one_statement`."""

    reservation: int
    level: int
    source: int
    staging: int
    order_line: int


@dataclass(frozen=True)
class PickedUnits:
    """What to pick: ``units`` of ``product_id`` (lot ``lot``) for ``order_line_id`` at ``location_id``, from
    sellable bin ``source_bin_id`` into (not sellable) staging bin ``staging_bin_id``; the ledger row's fields."""

    units: int
    product_id: int
    lot: str
    location_id: int
    order_line_id: int
    source_bin_id: int
    staging_bin_id: int
    reference: str
    note: str
    actor: str | None
    device: str | None
    at: datetime
    #: the pick task's line whose ``done`` grows by ``units`` too (None: no task line counts them here)
    task_line_id: int | None = None


def pick_in_one_statement(conn: Connection, pick: PickedUnits) -> PickedRows:
    """Run the pick's stock work (module docstring); the rows each step changed. Locks the reservation, the stock
    level and both quants, in that order (the quants by bin id)."""
    statement = _statement(source_first=pick.source_bin_id < pick.staging_bin_id)
    row = conn.execute(
        statement,
        {
            "units": pick.units,
            "pick_product": pick.product_id,
            "pick_lot": pick.lot,
            "pick_location": pick.location_id,
            "pick_order_line": pick.order_line_id,
            "source_bin": pick.source_bin_id,
            "staging_bin": pick.staging_bin_id,
            "pick_reference": pick.reference,
            "pick_note": pick.note,
            "pick_actor": pick.actor,
            "pick_device": pick.device,
            "pick_at": pick.at,
            "pick_task_line": pick.task_line_id,
        },
    ).one()
    return PickedRows(*row)


@cache
def _statement(source_first: bool) -> Select:
    """The statement, built once for each order of the two quants."""
    r, lv, q, m, c, ol = (
        Reservation.__table__,
        StockLevel.__table__,
        StockQuant.__table__,
        StockMovement.__table__,
        StockChange.__table__,
        OrderLine.__table__,
    )
    units = bindparam("units", type_=BigInteger)
    product = bindparam("pick_product", type_=Integer)
    lot = bindparam("pick_lot", type_=String)
    location = bindparam("pick_location", type_=Integer)
    source_bin = bindparam("source_bin", type_=Integer)
    staging_bin = bindparam("staging_bin", type_=Integer)
    at = bindparam("pick_at", type_=DateTime(timezone=True))
    sellable = literal("sellable", String)

    first_reservation = (
        select(r.c.id)
        .where(
            r.c.order_line_id == bindparam("pick_order_line", type_=Integer),
            r.c.location_id == location,
            r.c.open_qty >= units,
        )
        .order_by(r.c.id)
        .limit(1)
        .scalar_subquery()
    )
    reservation = (
        update(r)
        .where(r.c.id == first_reservation, r.c.open_qty >= units)
        .values(open_qty=r.c.open_qty - units)
        .returning(r.c.id)
        .cte("picked_reservation")
    )
    # Reserved units leave the sellable shelf for staging: reserved and on hand fall together, available stays.
    level = (
        update(lv)
        .where(
            lv.c.product_id == product,
            lv.c.location_id == location,
            lv.c.reserved >= units,
            exists(select(reservation.c.id)),
        )
        .values(reserved=lv.c.reserved - units, on_hand_sellable=lv.c.on_hand_sellable - units)
        .returning(lv.c.product_id)
        .cte("picked_level")
    )

    def take(after):
        return (
            update(q)
            .where(
                q.c.bin_id == source_bin,
                q.c.product_id == product,
                q.c.lot == lot,
                q.c.status == sellable,
                q.c.qty >= units,
                exists(select(after)),
            )
            .values(qty=q.c.qty - units)
            .returning(q.c.id)
            .cte("picked_from")
        )

    def put(after):
        stmt = insert(q).from_select(
            ["location_id", "bin_id", "product_id", "lot", "status", "qty"],
            select(location, staging_bin, product, lot, sellable, units).where(exists(select(after))),
        )
        return (
            stmt.on_conflict_do_update(
                index_elements=["bin_id", "product_id", "lot", "status"], set_={"qty": q.c.qty + stmt.excluded.qty}
            )
            .returning(q.c.id)
            .cte("picked_into")
        )

    if source_first:
        source = take(level.c.product_id)
        staging = put(source.c.id)
        last = staging
    else:
        staging = put(level.c.product_id)
        source = take(staging.c.id)
        last = source
    movement = (
        insert(m)
        .from_select(
            [
                "product_id",
                "lot",
                "qty",
                "from_bin_id",
                "from_status",
                "to_bin_id",
                "to_status",
                "reason",
                "reference",
                "note",
                "actor",
                "device",
                "created_at",
            ],
            select(
                product,
                lot,
                units,
                source_bin,
                sellable,
                staging_bin,
                sellable,
                literal("pick", String),
                bindparam("pick_reference", type_=String),
                bindparam("pick_note", type_=String),
                bindparam("pick_actor", type_=String),
                bindparam("pick_device", type_=String),
                at,
            ).where(exists(select(last.c.id))),
        )
        .returning(m.c.id)
        .cte("picked_movement")
    )
    change = (
        insert(c)
        .from_select(
            ["txid", "product_id", "location_id", "created_at"],
            select(func.txid_current(), product, location, at).where(exists(select(level.c.product_id))),
        )
        .cte("picked_change")
    )
    order_line = (
        update(ol)
        .where(ol.c.id == bindparam("pick_order_line", type_=Integer), exists(select(movement.c.id)))
        .values(picked=ol.c.picked + units)
        .returning(ol.c.id)
        .cte("picked_line")
    )

    task_line = (
        update(TaskLine.__table__)
        .where(TaskLine.__table__.c.id == bindparam("pick_task_line", type_=Integer), exists(select(movement.c.id)))
        .values(done=TaskLine.__table__.c.done + units)
        .returning(TaskLine.__table__.c.id)
        .cte("picked_task_line")
    )

    def count(cte, col):
        return select(func.count(col)).select_from(cte).scalar_subquery()

    return select(
        count(reservation, reservation.c.id),
        count(level, level.c.product_id),
        count(source, source.c.id),
        count(staging, staging.c.id),
        count(order_line, order_line.c.id),
    ).add_cte(change, task_line)
