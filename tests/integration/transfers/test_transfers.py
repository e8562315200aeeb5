"""Transfers end to end on the services: reserved at the source, waved, picked, packed, shipped into transit,
received by scans at the destination (over, short, damaged), and a pickup order brought to its store that way."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import bin_contents, level, stock_snapshot
from tests.integration.transfers.transfer_floor import (
    GTINS,
    drive,
    make_transfer_floor,
    open_tasks,
    order_status,
    pickup_order,
    users,
)
from wms.errors import InsufficientStock, InvalidState, NotFound, ValidationError, WrongProduct, WrongTote
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order, OrderLine
from wms.picking.service import release_wave
from wms.shipping.service import create_shipment
from wms.stock.models import Reservation, StockMovement
from wms.stock.service import check_stock
from wms.tasks.kinds.stage import stageable_orders
from wms.tasks.service import apply_scan, complete_task
from wms.transfers.models import Transfer
from wms.transfers.service import create_transfer, get_transfer, pickup_transfers_due, transfer_view

ONE_PARCEL = [{"weight_g": 1200}]


@pytest.fixture
def floor(any_app, monkeypatch):
    return make_transfer_floor(monkeypatch)


def view(transfer_id: int) -> dict:
    db.session.rollback()
    db.session.expire_all()
    return transfer_view(get_transfer(transfer_id))


def location_id(code: str) -> int:
    return db.session.execute(select(Location.id).where(Location.code == code)).scalar_one()


def packed(transfer_id: int) -> int:
    """The transfer's units waved, picked and packed at WH1; the pack task's id."""
    piotr = users()["piotr"]
    wave = release_wave("WH1", actor="boss")
    for task_id in wave["tasks"]:
        drive(task_id, piotr, f"pick-{task_id}")
    (pack_id,) = open_tasks("pack")
    drive(pack_id, piotr, f"pack-{pack_id}")
    assert view(transfer_id)["status"] == "packed"
    return pack_id


def shipped(transfer_id: int) -> dict:
    packed(transfer_id)
    return create_shipment(None, "test", None, ONE_PARCEL, user=users()["piotr"], transfer_id=transfer_id)


def test_a_transfer_is_reserved_at_its_source_all_lines_or_none(floor):
    transfer = create_transfer("WH1", "ST1", [{"sku": "A", "qty": 3}, {"sku": "B", "qty": 2}], actor="boss")
    shown = view(transfer.id)
    assert shown["status"] == "requested" and (shown["from"], shown["to"]) == ("WH1", "ST1")
    assert shown["order_id"] is None
    assert shown["lines"] == [
        {"sku": "A", "qty": 3, "shipped": 0, "received": 0, "damaged": 0},
        {"sku": "B", "qty": 2, "shipped": 0, "received": 0, "damaged": 0},
    ]
    assert level("A", "WH1") == (10, 3) and level("B", "WH1") == (5, 2)
    before = stock_snapshot()
    with pytest.raises(InsufficientStock) as short:
        create_transfer("WH1", "ST1", [{"sku": "A", "qty": 7}, {"sku": "B", "qty": 4}])
    assert short.value.details == [
        {"sku": "A", "requested": 7, "available": 7},
        {"sku": "B", "requested": 4, "available": 3},
    ] or short.value.details == [{"sku": "B", "requested": 4, "available": 3}]
    assert stock_snapshot() == before


@pytest.mark.parametrize(
    ("source", "target", "lines", "fields"),
    [
        ("WHX", "ST1", [{"sku": "A", "qty": 1}], ["from"]),
        ("WH1", "WH1", [{"sku": "A", "qty": 1}], ["to"]),
        ("WH1", "ST1", [{"sku": "NOPE", "qty": 1}], ["lines[0].sku"]),
        ("WH1", "ST1", [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}], ["lines[1].sku"]),
        ("WH1", "ST1", [{"sku": "A", "qty": 0}], ["lines[0].qty"]),
        ("WH1", "ST1", [], ["lines"]),
    ],
)
def test_bad_transfers_name_the_fields_and_change_nothing(floor, source, target, lines, fields):
    before = stock_snapshot()
    with pytest.raises(ValidationError) as bad:
        create_transfer(source, target, lines)
    assert [d["field"] for d in bad.value.details] == fields
    assert stock_snapshot() == before
    assert db.session.execute(select(func.count(Transfer.id))).scalar_one() == 0


def test_a_transfer_travels_and_is_received_with_over_short_and_damaged_units(floor):
    transfer = create_transfer("WH1", "ST1", [{"sku": "A", "qty": 3}, {"sku": "B", "qty": 2}], actor="boss")
    shipment = shipped(transfer.id)
    assert shipment["transfer_id"] == transfer.id
    shown = view(transfer.id)
    assert shown["status"] == "in_transit" and [line["shipped"] for line in shown["lines"]] == [3, 2]
    # In transit: on hand at the store's dock, not sellable anywhere; gone from the warehouse.
    assert level("A", "WH1") == (7, 0) and level("B", "WH1") == (3, 0)
    assert level("A", "ST1") == (0, 0)
    assert bin_contents("ST1", "DOCK") == {("A", "in_transit"): 3, ("B", "in_transit"): 2}
    assert check_stock() == []

    kasia = users()["kasia"]
    (receive_id,) = open_tasks("transfer_receive", location_id("ST1"))
    with pytest.raises(WrongTote):  # the items before the label
        apply_scan(receive_id, "r0", GTINS["A"], None, kasia)
    sscc = shipment["parcels"][0]["sscc"]
    first = apply_scan(receive_id, "r1", sscc, None, kasia)
    assert first["task"]["next"]["expect"] == "product"
    apply_scan(receive_id, "r2", GTINS["A"], 2, kasia)
    apply_scan(receive_id, "r3", GTINS["A"], None, kasia, condition="damaged")
    over = apply_scan(receive_id, "r4", GTINS["A"], None, kasia)
    assert "more than was shipped" in over["message"]
    apply_scan(receive_id, "r5", GTINS["B"], None, kasia)
    done = complete_task(receive_id, kasia)
    assert done["status"] == "done"

    shown = view(transfer.id)
    assert shown["status"] == "received"
    assert shown["lines"] == [
        {"sku": "A", "qty": 3, "shipped": 3, "received": 3, "damaged": 1},
        {"sku": "B", "qty": 2, "shipped": 2, "received": 1, "damaged": 0},
    ]
    assert shown["variance"] == "short 1 x B; over 1 x A; damaged 1 x A"
    # 2 + 1 over sellable on the shelf, the damaged one in the returns bin, the dock empty again
    assert level("A", "ST1") == (3, 0) and level("B", "ST1") == (1, 0)
    assert bin_contents("ST1", "RET") == {("A", "damaged"): 1}
    assert bin_contents("ST1", "DOCK") == {}
    notes = db.session.execute(
        select(StockMovement.note, StockMovement.qty)
        .where(StockMovement.reference == f"transfer:{transfer.id}")
        .order_by(StockMovement.id)
    ).all()
    assert [tuple(n) for n in notes] == [
        ("received", 2),
        ("received", 1),
        ("over: more than was shipped", 1),
        ("received", 1),
        ("short: shipped, never arrived", 1),
    ]
    assert check_stock() == []


def test_the_receiving_refuses_another_label_and_a_product_not_on_the_transfer(floor):
    transfer = create_transfer("WH1", "ST1", [{"sku": "A", "qty": 1}])
    shipped(transfer.id)
    kasia = users()["kasia"]
    (receive_id,) = open_tasks("transfer_receive", location_id("ST1"))
    with pytest.raises(WrongTote):
        apply_scan(receive_id, "x1", "$B:ST1:S-01", None, kasia)
    apply_scan(receive_id, "x2", f"$O:{get_transfer(transfer.id).order_id}", None, kasia)
    before = stock_snapshot()
    with pytest.raises(WrongProduct):
        apply_scan(receive_id, "x3", GTINS["B"], None, kasia)
    assert stock_snapshot() == before
    # the one unit in: the task ends by itself
    last = apply_scan(receive_id, "x4", GTINS["A"], None, kasia)
    assert last["task"]["status"] == "done"
    assert view(transfer.id)["status"] == "received" and view(transfer.id)["variance"] is None
    # a clerk of another store does not see it
    with pytest.raises(NotFound):
        get_transfer(transfer.id, users()["ewa"])
    assert get_transfer(transfer.id, users()["kasia"]).id == transfer.id


def test_shipping_a_transfer_that_is_not_packed_is_refused(floor):
    transfer = create_transfer("WH1", "ST1", [{"sku": "A", "qty": 1}])
    before = stock_snapshot()
    with pytest.raises(InvalidState):
        create_shipment(None, "test", None, ONE_PARCEL, user=users()["boss"], transfer_id=transfer.id)
    with pytest.raises(NotFound):
        create_shipment(None, "test", None, ONE_PARCEL, user=users()["boss"], transfer_id=transfer.id + 100)
    assert stock_snapshot() == before


def test_a_pickup_order_from_the_warehouse_travels_to_its_store_and_is_staged_there(floor):
    order_id = pickup_order(floor, "WEB-7", [("A", 2)])
    db.session.rollback()
    reservation = db.session.execute(select(Reservation)).scalar_one()
    assert reservation.needs_transfer and reservation.location_id == location_id("WH1")
    assert pickup_transfers_due() == 1
    assert pickup_transfers_due() == 0  # once
    (transfer,) = db.session.execute(select(Transfer)).scalars()
    shown = view(transfer.id)
    assert shown["order_id"] == order_id and shown["status"] == "requested"
    assert shown["lines"] == [{"sku": "A", "qty": 2, "shipped": 0, "received": 0, "damaged": 0}]

    packed(transfer.id)
    # the packing station ships it by its order, as any order: it goes as the transfer
    shipment = create_shipment(order_id, "test", None, ONE_PARCEL, user=users()["piotr"])
    assert shipment["transfer_id"] == transfer.id
    assert order_status(order_id) == "in_transit"
    assert view(transfer.id)["status"] == "in_transit"
    assert stageable_orders(db.session, location_id("ST1")) == []

    kasia = users()["kasia"]
    (receive_id,) = open_tasks("transfer_receive", location_id("ST1"))
    drive(receive_id, kasia, "recv", label=shipment["tracking"])
    assert view(transfer.id)["status"] == "received"
    assert order_status(order_id) == "reserved"
    # the units are the store's now, reserved for the order: nothing available to others
    assert level("A", "ST1") == (2, 2) and level("A", "WH1") == (8, 0)
    line = db.session.execute(select(OrderLine).where(OrderLine.order_id == order_id)).scalar_one()
    assert line.picked == 0
    assert stageable_orders(db.session, location_id("ST1")) == [order_id]
    assert check_stock() == []


def test_a_wave_opens_the_transfer_of_a_pickup_order_itself(floor):
    order_id = pickup_order(floor, "WEB-8", [("A", 1)])
    wave = release_wave("WH1", actor="boss")
    assert wave["orders"] == [order_id]
    db.session.rollback()
    transfer = db.session.execute(select(Transfer)).scalar_one()
    assert transfer.for_order_id == order_id
    assert pickup_transfers_due() == 0
    assert order_status(order_id) == "picking"


def test_cancelling_a_pickup_order_on_its_way_leaves_the_units_to_the_store(floor):
    from wms.orders.service import cancel_order

    order_id = pickup_order(floor, "WEB-9", [("A", 2)])
    pickup_transfers_due()
    transfer = db.session.execute(select(Transfer)).scalar_one()
    shipment = shipped(transfer.id)
    cancel_order(order_id, floor["channel"])
    assert order_status(order_id) == "cancelled"
    (receive_id,) = open_tasks("transfer_receive", location_id("ST1"))
    drive(receive_id, users()["kasia"], "recv", label=shipment["parcels"][0]["sscc"])
    assert order_status(order_id) == "cancelled"
    assert level("A", "ST1") == (2, 0)  # sellable, reserved for nobody
    assert db.session.execute(select(Order.attention).where(Order.id == order_id)).scalar_one() is None
    assert check_stock() == []


def test_a_store_sends_stock_to_another_store(floor):
    transfer = create_transfer("ST2", "ST1", [{"sku": "B", "qty": 2}], actor="boss")
    ewa = users()["ewa"]
    wave = release_wave("ST2", actor="boss")
    for task_id in wave["tasks"]:
        drive(task_id, ewa, f"pick-{task_id}")
    (pack_id,) = open_tasks("pack", location_id("ST2"))
    drive(pack_id, ewa, "pack")
    shipment = create_shipment(None, "test", None, ONE_PARCEL, user=users()["boss"], transfer_id=transfer.id)
    assert view(transfer.id)["status"] == "in_transit" and level("B", "ST2") == (1, 0)
    (receive_id,) = open_tasks("transfer_receive", location_id("ST1"))
    drive(receive_id, users()["kasia"], "recv", label=shipment["parcels"][0]["sscc"])
    assert view(transfer.id)["status"] == "received" and level("B", "ST1") == (2, 0)
    assert check_stock() == []
