"""A pack task as picking leaves it, made without the pick tasks: stock moved from its shelf into the staging
bin (ledger reason ``pick``), the order's reservations lowered as picking lowers them, the order ``picking`` with
its tote, and the pack task with one line per (order line, lot) in the staging bin.

Also a small floor to pack and ship at: WH1 (shelves, staging) and WH2, users of each role, printers."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, update

from tests.factories import (
    add_stock,
    fast_password_hashing,
    gtin13,
    make_bin,
    make_channel,
    make_location,
    make_product,
    order_body,
)
from wms.auth.service import create_user
from wms.channels.models import Channel
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import Order, OrderEvent
from wms.orders.service import place_order
from wms.printing.service import add_printer
from wms.stock.models import Reservation, StockLevel, StockQuant
from wms.stock.service import LedgerEntry, post_entries
from wms.tasks.models import Task, TaskLine
from wms.uow import unit_of_work

PASSWORD = "sekret-123"
GTINS = {"A": gtin13(7001), "B": gtin13(7002), "L": gtin13(7003), "Z": gtin13(7004)}


def make_floor(monkeypatch, app, tmp_path) -> str:
    """WH1 (A-01, A-02, B-01 pick bins, STAGE staging), WH2 (its own shelf and staging), products A, B, L (by lot),
    Z (stocked nowhere near an order); users piotr (picker WH1), olaf (picker WH2), kasia (clerk, ST1), boss
    (manager); printers WH1-pdf (PDF hot folder), WH1-zebra (ZPL file), WH2-pdf. Returns the channel's token."""
    fast_password_hashing(monkeypatch)
    monkeypatch.setitem(app.config, "PRINTER_DIR_ROOT", str(tmp_path))
    make_location("WH1", "warehouse", priority=10, name="Magazyn Łódź")
    make_location("WH2", "warehouse", priority=20)
    make_location("ST1", "store")
    for code, kind, seq in [("A-01", "pick", 1), ("A-02", "pick", 2), ("B-01", "pick", 3), ("STAGE", "staging", 99)]:
        make_bin("WH1", code, kind, seq)
    make_bin("WH2", "A-01", "pick", 1)
    make_bin("WH2", "STAGE", "staging", 99)
    for sku in ("A", "B", "Z"):
        make_product(sku, f"Product {sku}", barcodes=[GTINS[sku]])
    make_product("L", "Milk by lot", barcodes=[GTINS["L"]], track_lots=True)
    add_stock("WH1", "A-01", "A", 10)
    add_stock("WH1", "A-02", "B", 5)
    add_stock("WH1", "B-01", "L", 4, lot="L1")
    add_stock("WH1", "B-01", "Z", 3)
    add_stock("WH2", "A-01", "A", 6)
    for name, role, location in [
        ("piotr", "picker", "WH1"),
        ("olaf", "picker", "WH2"),
        ("kasia", "clerk", "ST1"),
        ("boss", "manager", None),
    ]:
        create_user(name, role, location, PASSWORD)
    add_printer("WH1-pdf", f"pdf+dir://{tmp_path}", "WH1")
    add_printer("WH1-zebra", f"zpl+file://{tmp_path}/zebra.zpl", "WH1")
    add_printer("WH2-pdf", f"pdf+dir://{tmp_path}", "WH2")
    return make_channel("WEB", ship_from=["WH1", "WH2"])


def place(external_id: str = "WEB-1", lines=(("A", 2), ("B", 1))) -> int:
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    order, _ = place_order(channel_id, order_body(external_id, list(lines)), actor="channel:WEB")
    return order.id


def picked(order_id: int, location: str = "WH1", tote: str | None = "T-0001") -> int:
    """Pick every unit of the order reserved at ``location`` into its staging bin, set the order ``picking`` with
    ``tote``, and open the pack task; returns the task's id."""
    with unit_of_work() as session:
        order = session.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one()
        loc = session.execute(select(Location).where(Location.code == location)).scalar_one()
        stage = session.execute(select(Bin).where(Bin.location_id == loc.id, Bin.kind == "staging")).scalar_one()
        units: dict[tuple[int, int, str], int] = defaultdict(int)
        for line in order.lines:
            reservations = session.execute(
                select(Reservation).where(Reservation.order_line_id == line.id, Reservation.location_id == loc.id)
            ).scalars()
            qty = 0
            for reservation in reservations:
                qty += reservation.open_qty
                reservation.open_qty = 0
            if not qty:
                continue
            session.flush()
            session.execute(
                update(StockLevel)
                .where(StockLevel.product_id == line.product_id, StockLevel.location_id == loc.id)
                .values(reserved=StockLevel.reserved - qty)
            )
            left = qty
            quants = session.execute(
                select(StockQuant)
                .join(Bin, Bin.id == StockQuant.bin_id)
                .where(
                    StockQuant.location_id == loc.id,
                    StockQuant.product_id == line.product_id,
                    StockQuant.qty > 0,
                    Bin.kind.in_(("pick", "bulk")),
                )
                .order_by(StockQuant.id)
            ).scalars()
            for quant in list(quants):
                take = min(left, quant.qty)
                if not take:
                    continue
                post_entries(
                    session,
                    [
                        LedgerEntry(
                            product_id=line.product_id,
                            qty=take,
                            lot=quant.lot,
                            reason="pick",
                            from_bin=session.get(Bin, quant.bin_id),
                            from_status="sellable",
                            to_bin=stage,
                            to_status="sellable",
                            reference=f"order:{order.id}",
                            actor="test",
                        )
                    ],
                )
                units[(line.id, line.product_id, quant.lot)] += take
                left -= take
            assert left == 0, "not enough stock on the shelves to pick"
            line.picked += qty
        if order.status != "picking":
            order.status = "picking"
            session.add(OrderEvent(order_id=order.id, status="picking", actor="test"))
        order.tote = tote
        task = Task(kind="pack", status="open", location_id=loc.id, reference={"order": order.id}, tote=tote)
        task.lines = [
            TaskLine(
                line_no=i,
                product_id=product_id,
                qty=qty,
                done=0,
                lot=lot,
                bin_id=stage.id,
                order_id=order.id,
                order_line_id=order_line_id,
            )
            for i, ((order_line_id, product_id, lot), qty) in enumerate(sorted(units.items()), start=1)
        ]
        session.add(task)
        session.flush()
        return task.id
