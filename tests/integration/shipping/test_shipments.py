"""Shipping a packed order on the service: the units leave the staging bin with ``ship`` ledger rows naming the
shipment, the order goes ``shipped`` with carrier and tracking (an ``order.updated`` outbox row), the tote is free,
labels are queued on the named printer; every refusal changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import stock_snapshot
from tests.integration.shipping.packing import GTINS, make_floor, picked, place
from wms.auth.models import User
from wms.channels.models import OutboxEvent
from wms.errors import InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin
from wms.orders.models import Order, OrderEvent, Shipment
from wms.orders.service import get_order, order_view
from wms.printing.models import PrintJob
from wms.printing.service import render_job
from wms.shipping.carriers import gs1_check_digit
from wms.shipping.service import create_shipment, sscc
from wms.stock.models import StockMovement, StockQuant
from wms.stock.service import check_stock
from wms.tasks.models import Task
from wms.tasks.service import apply_scan

ONE = [{"weight_g": 1200}]


@pytest.fixture
def floor(any_app, monkeypatch, tmp_path):
    make_floor(monkeypatch, any_app, tmp_path)
    return {u.username: u for u in db.session.execute(select(User)).scalars()}


def packed(user: User, external_id: str = "WEB-1", lines=(("A", 2), ("B", 1)), location: str = "WH1") -> int:
    """An order picked at ``location`` and packed there by scans; its id."""
    order_id = place(external_id, lines)
    task_id = picked(order_id, location, tote=f"T-{order_id:04d}")
    apply_scan(task_id, "pack-1", f"T-{order_id:04d}", None, user)
    for i, (sku, qty) in enumerate(lines):
        apply_scan(task_id, f"pack-item-{i}", GTINS[sku], qty, user)
    assert status(order_id) == "packed"
    return order_id


def status(order_id: int) -> str:
    db.session.rollback()
    return db.session.get(Order, order_id).status


def staged() -> int:
    db.session.rollback()
    return db.session.execute(
        select(func.coalesce(func.sum(StockQuant.qty), 0))
        .join(Bin, Bin.id == StockQuant.bin_id)
        .where(Bin.kind == "staging")
    ).scalar_one()


def order_updates(order_id: int) -> int:
    db.session.rollback()
    return db.session.execute(
        select(func.count(OutboxEvent.id)).where(
            OutboxEvent.event == "order.updated", OutboxEvent.subject_id == order_id
        )
    ).scalar_one()


def counts() -> tuple[int, int]:
    db.session.rollback()
    shipments = db.session.execute(select(func.count(Shipment.id))).scalar_one()
    jobs = db.session.execute(select(func.count(PrintJob.id))).scalar_one()
    return shipments, jobs


def test_a_manual_shipment_takes_the_units_out_of_stock(floor):
    piotr = floor["piotr"]
    order_id = packed(piotr)
    before = order_updates(order_id)
    shipment = create_shipment(order_id, "manual", " DHL-0001234 ", ONE, user=piotr, device="PACK-1")
    assert shipment["carrier"] == "manual" and shipment["tracking"] == "DHL-0001234"
    assert shipment["order_id"] == order_id and shipment["location"] == "WH1"
    assert shipment["parcels"] == [
        {"weight_g": 1200, "length_mm": None, "width_mm": None, "height_mm": None, "sscc": sscc("0000000", 1, 0)}
    ]
    assert "label_job" not in shipment
    moves = db.session.execute(select(StockMovement).where(StockMovement.reason == "ship")).scalars().all()
    assert sorted((m.qty, m.to_bin_id, m.reference, m.actor, m.device) for m in moves) == [
        (1, None, f"shipment:{shipment['id']}", "piotr", "PACK-1"),
        (2, None, f"shipment:{shipment['id']}", "piotr", "PACK-1"),
    ]
    assert staged() == 0
    assert check_stock() == []
    order = get_order(order_id)
    assert order.status == "shipped" and order.tote is None
    view = order_view(order)
    assert view["status"] == "shipped"
    assert [(s["carrier"], s["tracking"]) for s in view["shipments"]] == [("manual", "DHL-0001234")]
    assert [(line["sku"], line["picked"], line["shipped"]) for line in view["lines"]] == [("A", 2, 2), ("B", 1, 1)]
    assert [h["status"] for h in view["history"]] == ["reserved", "picking", "packed", "shipped"]
    assert view["history"][-1]["actor"] == "piotr"
    assert order_updates(order_id) == before + 1
    task = db.session.execute(select(Task).where(Task.kind == "pack")).scalar_one()
    assert task.reference["shipment"] == shipment["id"]


def test_carrier_manual_needs_the_tracking_number_and_nothing_changes(floor):
    order_id = packed(floor["piotr"])
    stock, rows, updates = stock_snapshot(), counts(), order_updates(order_id)
    for tracking in (None, "   "):
        with pytest.raises(ValidationError) as err:
            create_shipment(order_id, "manual", tracking, ONE, user=floor["piotr"])
        assert [d["field"] for d in err.value.details] == ["tracking"]
    with pytest.raises(ValidationError) as err:
        create_shipment(order_id, "manual", "no spaces allowed", ONE, user=floor["piotr"])
    assert err.value.details[0]["field"] == "tracking"
    assert (stock_snapshot(), counts(), order_updates(order_id), status(order_id)) == (stock, rows, updates, "packed")


def test_the_test_carrier_issues_tracking_and_the_labels_are_queued(floor):
    piotr = floor["piotr"]
    order_id = packed(piotr)
    parcels = [{"weight_g": 800, "length_mm": 300, "width_mm": 200, "height_mm": 100}, {"weight_g": 450}]
    shipment = create_shipment(order_id, "test", None, parcels, printer="WH1-pdf", user=piotr)
    tracking = shipment["tracking"]
    assert tracking.startswith("TEST") and len(tracking) == 16
    assert int(tracking[-1]) == gs1_check_digit(tracking[4:-1])
    ssccs = [p["sscc"] for p in shipment["parcels"]]
    assert [p["weight_g"] for p in shipment["parcels"]] == [800, 450] and len(set(ssccs)) == 2
    assert shipment["parcels"][0]["length_mm"] == 300
    jobs = db.session.execute(select(PrintJob).order_by(PrintJob.id)).scalars().all()
    assert [job.kind for job in jobs] == ["shipping", "shipping", "packing_slip"]
    assert shipment["label_job"] == jobs[0].id and shipment["label_jobs"] == [jobs[0].id, jobs[1].id]
    assert shipment["packing_slip_job"] == jobs[2].id
    assert {job.reference for job in jobs} == {f"shipment:{shipment['id']}"}
    assert [job.data["sscc"] for job in jobs[:2]] == ssccs
    assert jobs[0].data["tracking"] == tracking and jobs[0].data["ship_to"]["name"] == "Anna Nowak"
    assert jobs[0].requested_by_id == piotr.id
    assert [(line["sku"], line["qty"]) for line in jobs[2].data["lines"]] == [("A", 2), ("B", 1)]
    # what the worker will send: the labels can be made
    assert render_job("shipping", jobs[0].data, "pdf").startswith(b"%PDF")
    assert render_job("packing_slip", jobs[2].data, "pdf").startswith(b"%PDF")
    assert status(order_id) == "shipped" and check_stock() == []


def test_a_zpl_printer_gets_the_shipping_labels_only(floor):
    order_id = packed(floor["piotr"])
    shipment = create_shipment(order_id, "test", None, ONE, printer="WH1-zebra", user=floor["boss"])
    jobs = db.session.execute(select(PrintJob)).scalars().all()
    assert [job.kind for job in jobs] == ["shipping"] and "packing_slip_job" not in shipment
    assert b"^XA" in render_job("shipping", jobs[0].data, "zpl")


def test_a_second_shipment_of_a_shipped_order_is_refused(floor):
    order_id = packed(floor["piotr"])
    create_shipment(order_id, "test", None, ONE, user=floor["piotr"])
    stock, rows, updates = stock_snapshot(), counts(), order_updates(order_id)
    with pytest.raises(InvalidState) as err:
        create_shipment(order_id, "test", None, ONE, user=floor["piotr"])
    assert err.value.details["status"] == "shipped"
    assert (stock_snapshot(), counts(), order_updates(order_id)) == (stock, rows, updates)


def test_an_order_not_packed_is_refused(floor):
    order_id = place()
    picked(order_id)  # picking, not packed
    reserved = place("WEB-2")
    stock, rows = stock_snapshot(), counts()
    with pytest.raises(InvalidState) as err:
        create_shipment(order_id, "test", None, ONE, user=floor["piotr"])
    assert err.value.details["status"] == "picking"
    with pytest.raises(InvalidState):
        create_shipment(reserved, "test", None, ONE, user=floor["boss"])
    assert (stock_snapshot(), counts()) == (stock, rows)


def test_other_locations_and_unknown_orders_are_not_found(floor):
    order_id = packed(floor["piotr"])
    stock, rows = stock_snapshot(), counts()
    for user in (floor["olaf"], floor["kasia"]):
        with pytest.raises(NotFound):
            create_shipment(order_id, "test", None, ONE, user=user)
    for missing in (order_id + 100, 0, -1, 2**31):
        with pytest.raises(NotFound):
            create_shipment(missing, "test", None, ONE, user=floor["boss"])
    assert (stock_snapshot(), counts(), status(order_id)) == (stock, rows, "packed")


def test_bad_input_lists_every_field_and_changes_nothing(floor):
    order_id = packed(floor["piotr"])
    stock, rows = stock_snapshot(), counts()
    parcels = [{"weight_g": 0}, {"weight_g": 10, "height_mm": -5}, {"weight_g": True}]
    with pytest.raises(ValidationError) as err:
        create_shipment(order_id, "pigeon", None, parcels, printer="nope", user=floor["piotr"])
    assert [d["field"] for d in err.value.details] == [
        "carrier",
        "parcels[0].weight_g",
        "parcels[1].height_mm",
        "parcels[2].weight_g",
        "printer",
    ]
    assert "unknown carrier 'pigeon'" in err.value.details[0]["message"]
    with pytest.raises(ValidationError) as err:
        create_shipment(order_id, "test", None, [], user=floor["piotr"])
    assert err.value.details[0]["field"] == "parcels"
    with pytest.raises(ValidationError) as err:
        create_shipment(order_id, "test", None, ONE, printer="WH2-pdf", user=floor["piotr"])
    assert err.value.details == [{"field": "printer", "message": "printer WH2-pdf is not at WH1"}]
    with pytest.raises(ValidationError) as err:
        create_shipment(order_id, "test", "TRACK-1", ONE, user=floor["piotr"])  # test issues its own
    assert err.value.details[0]["field"] == "tracking"
    assert (stock_snapshot(), counts(), status(order_id)) == (stock, rows, "packed")


def test_a_tracking_number_names_one_shipment(floor):
    first = packed(floor["piotr"])
    second = packed(floor["piotr"], "WEB-2", [("A", 1)])
    create_shipment(first, "manual", "DHL-1", ONE, user=floor["piotr"])
    stock = stock_snapshot()
    with pytest.raises(ValidationError) as err:
        create_shipment(second, "manual", "DHL-1", ONE, user=floor["piotr"])
    assert err.value.details[0]["field"] == "tracking" and "already" in err.value.details[0]["message"]
    assert stock_snapshot() == stock and status(second) == "packed"


def test_a_split_order_ships_from_each_location(floor):
    order_id = place(lines=[("A", 12)])  # 10 at WH1, 2 at WH2
    for location, user, units in (("WH1", floor["piotr"], 10), ("WH2", floor["olaf"], 2)):
        task_id = picked(order_id, location, tote="T-0009")
        apply_scan(task_id, "p1", "T-0009", None, user)
        apply_scan(task_id, "p2", GTINS["A"], units, user)
    assert status(order_id) == "packed"
    first = create_shipment(order_id, "test", None, ONE, user=floor["olaf"])
    assert first["location"] == "WH2"
    assert status(order_id) == "packed"  # WH1's part waits
    assert get_order(order_id).lines[0].shipped == 2
    with pytest.raises(InvalidState):
        create_shipment(order_id, "test", None, ONE, user=floor["olaf"])  # nothing left at WH2
    second = create_shipment(order_id, "test", None, ONE, user=floor["boss"])
    assert second["location"] == "WH1"
    order = get_order(order_id)
    assert order.status == "shipped" and order.lines[0].shipped == 12 and len(order.shipments) == 2
    statuses = db.session.execute(select(OrderEvent.status).where(OrderEvent.order_id == order_id)).scalars().all()
    assert statuses.count("shipped") == 1
    assert check_stock() == []


def test_sscc_has_eighteen_digits_and_a_valid_check_digit():
    code = sscc("0000000", 12345, 3)
    assert len(code) == 18 and code.startswith("00000000") and code[-3:-1] == "03"
    assert int(code[-1]) == gs1_check_digit(code[:-1])
    assert len(sscc("5901234567", 7, 0)) == 18
    with pytest.raises(ValueError):
        sscc("12", 1, 0)
