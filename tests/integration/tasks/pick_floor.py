"""A small warehouse floor for pick tests: WH1 with two aisles, a bulk bin, a staging bin; products A, B and a
lot-tracked L; a web channel; pickers at WH1 and WH2; and ``pick_task`` to put orders on a pick task the way a
released wave does (one line per order line and source bin, in walk order)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.factories import add_stock, gtin13, make_bin, make_location, make_product, order_body
from wms.auth.service import create_user
from wms.channels.service import create_channel
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order, OrderLine
from wms.orders.service import place_order
from wms.stock.models import Reservation
from wms.stock.service import receive
from wms.tasks.kinds.pick import free_units
from wms.tasks.models import Task, TaskLine
from wms.uow import unit_of_work

GTIN = {"A": gtin13(7001), "B": gtin13(7002), "L": gtin13(7003)}


def make_floor() -> dict:
    make_location("WH1")
    make_location("WH2")
    for code, kind, seq in [
        ("DOCK", "dock", 0),
        ("A-01", "pick", 1),
        ("A-02", "pick", 2),
        ("A-03", "pick", 3),
        ("B-01", "bulk", 10),
        ("STAGE", "staging", 99),
    ]:
        make_bin("WH1", code, kind, seq)
    make_bin("WH2", "A-01", "pick", 1)
    make_product("A", barcodes=[GTIN["A"]])
    make_product("B", barcodes=[GTIN["B"]])
    make_product("L", barcodes=[GTIN["L"]], track_lots=True)
    add_stock("WH1", "A-01", "A", 3)
    add_stock("WH1", "A-02", "B", 5)
    add_stock("WH1", "B-01", "A", 4)
    receive("WH1", "A-03", "LOTS", [{"sku": "L", "qty": 2, "lot": "L-NEW", "expiry": date(2027, 6, 1)}])
    receive("WH1", "A-03", "LOTS2", [{"sku": "L", "qty": 2, "lot": "L-OLD", "expiry": date(2027, 1, 1)}])
    channel, _token = create_channel("WEB", ship_from=["WH1"])
    return {
        "channel": channel.id,
        "piotr": create_user("piotr", "picker", "WH1", "sekret-123"),
        "anna": create_user("anna", "picker", "WH1", "sekret-123"),
        "olaf": create_user("olaf", "picker", "WH2", "sekret-123"),
        "boss": create_user("boss", "manager", None, "sekret-123"),
    }


def order(floor: dict, external_id: str, lines: list[tuple[str, int]]) -> int:
    placed, _ = place_order(floor["channel"], order_body(external_id, lines))
    return placed.id


def pick_task(order_ids: list[int], location: str = "WH1") -> int:
    """A pick task for the open reservations of the orders at ``location``, bins chosen like a wave does."""
    with unit_of_work() as session:
        location_id = session.execute(select(Location.id).where(Location.code == location)).scalar_one()
        task = Task(kind="pick", status="open", location_id=location_id, reference={"wave": 0})
        session.add(task)
        session.flush()
        for order_id in order_ids:
            rows = session.execute(
                select(OrderLine, Reservation.open_qty)
                .join(Reservation, Reservation.order_line_id == OrderLine.id)
                .where(OrderLine.order_id == order_id, Reservation.location_id == location_id)
                .order_by(OrderLine.line_no)
            ).all()
            for order_line, open_qty in rows:
                for quant in free_units(session, location_id, order_line.product_id):
                    take = min(quant.free, open_qty)
                    if take <= 0:
                        break
                    task.lines.append(
                        TaskLine(
                            line_no=len(task.lines) + 1,
                            product_id=order_line.product_id,
                            qty=take,
                            bin_id=quant.bin_id,
                            lot=quant.lot,
                            order_id=order_id,
                            order_line_id=order_line.id,
                        )
                    )
                    session.flush()  # the next free_units sees this line's claim
                    open_qty -= take
            session.get(Order, order_id).status = "picking"
        return task.id


def reload_order(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)
