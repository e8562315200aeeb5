"""Packing on the scan service: the tote or order first, then every unit checked; wrong tote, wrong or extra item,
wrong lot change nothing; the last unit closes the task and the order goes ``packed`` with an ``order.updated``
outbox row, exactly once; completing with units missing is refused naming them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import stock_snapshot
from tests.integration.shipping.packing import GTINS, make_floor, picked, place
from wms.auth.models import User
from wms.channels.models import OutboxEvent
from wms.errors import InvalidState, NotFound, OverQuantity, WrongLot, WrongProduct, WrongTote
from wms.extensions import db
from wms.orders.models import Order, OrderEvent
from wms.orders.service import cancel_order
from wms.scanning.errors import UnknownCode
from wms.stock.service import check_stock
from wms.tasks.models import Task, TaskScan
from wms.tasks.service import apply_scan, complete_task, get_task, list_tasks


@pytest.fixture
def floor(any_app, monkeypatch, tmp_path):
    make_floor(monkeypatch, any_app, tmp_path)
    return {u.username: u for u in db.session.execute(select(User)).scalars()}


def order_updates(order_id: int) -> int:
    db.session.rollback()
    return db.session.execute(
        select(func.count(OutboxEvent.id)).where(
            OutboxEvent.event == "order.updated", OutboxEvent.subject_id == order_id
        )
    ).scalar_one()


def history(order_id: int) -> list[str]:
    db.session.rollback()
    return list(
        db.session.execute(select(OrderEvent.status).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
        .scalars()
        .all()
    )


def status(order_id: int) -> str:
    db.session.rollback()
    return db.session.get(Order, order_id).status


def gs1(sku: str, lot: str) -> str:
    return f"]C101{'0' + GTINS[sku]}10{lot}"


def test_a_pack_task_in_the_contract_shape(floor):
    order_id = place()
    task_id = picked(order_id)
    view = get_task(task_id, floor["piotr"])
    assert (view["kind"], view["status"], view["location"], view["tote"]) == ("pack", "open", "WH1", "T-0001")
    assert view["reference"] == {"order": order_id}
    assert [(line["sku"], line["qty"], line["done"], line["bin"], line["order"]) for line in view["lines"]] == [
        ("A", 2, 0, "STAGE", order_id),
        ("B", 1, 0, "STAGE", order_id),
    ]
    assert view["next"] == {
        "expect": "tote",
        "prompt": f"Scan tote T-0001 or order {order_id}",
        "bin": None,
        "sku": None,
        "qty": None,
    }
    assert [t["id"] for t in list_tasks(floor["piotr"], kind="pack")] == [task_id]
    assert list_tasks(floor["olaf"], kind="pack") == []
    with pytest.raises(NotFound):
        get_task(task_id, floor["olaf"])


def test_packing_by_scans_packs_the_order_once(floor):
    order_id = place()
    task_id = picked(order_id)
    piotr = floor["piotr"]
    before = order_updates(order_id)
    stock = stock_snapshot()
    confirmed = apply_scan(task_id, "p1", "T-0001", None, piotr, "TC52")
    assert confirmed["message"] == f"Tote T-0001: order {order_id}"
    assert confirmed["task"]["next"]["prompt"] == "Check 2 x A (0 of 2)"
    assert confirmed["task"]["reference"] == {"order": order_id, "confirmed": True}
    one = apply_scan(task_id, "p2", GTINS["A"], None, piotr, "TC52")
    assert one["message"] == "1 x A checked (1 of 2)"
    assert one["task"]["next"]["prompt"] == "Check 1 x A (1 of 2)"
    apply_scan(task_id, "p3", GTINS["A"], None, piotr, "TC52")
    assert status(order_id) == "picking"
    done = apply_scan(task_id, "p4", GTINS["B"], None, piotr, "TC52")
    assert done["task"]["status"] == "done" and done["task"]["next"]["expect"] == "nothing"
    assert status(order_id) == "packed"
    assert history(order_id) == ["reserved", "picking", "packed"]
    assert order_updates(order_id) == before + 1
    event = db.session.execute(select(OrderEvent).where(OrderEvent.status == "packed")).scalar_one()
    assert (event.actor, event.device) == ("piotr", "TC52")
    # checking moves nothing: the units wait in the staging bin for the shipment
    assert stock_snapshot() == stock
    assert check_stock() == []
    # done: no more scans, no second completion (and no second packed event)
    with pytest.raises(InvalidState):
        apply_scan(task_id, "p5", GTINS["B"], None, piotr)
    with pytest.raises(InvalidState):
        complete_task(task_id, piotr)
    assert history(order_id).count("packed") == 1 and order_updates(order_id) == before + 1


def test_the_order_number_or_label_confirms_too(floor):
    order_id = place()
    task_id = picked(order_id)
    answer = apply_scan(task_id, "p1", str(order_id), None, floor["piotr"])
    assert answer["task"]["next"]["expect"] == "product"
    other = picked(place("WEB-2", [("A", 1)]), tote=None)
    assert get_task(other, floor["piotr"])["next"]["expect"] == "order"
    assert apply_scan(other, "p1", f"$O:{order_id + 1}", None, floor["piotr"])["task"]["next"]["expect"] == "product"


def test_a_typed_quantity_checks_that_many(floor):
    order_id = place(lines=[("A", 3)])
    task_id = picked(order_id)
    piotr = floor["piotr"]
    apply_scan(task_id, "p1", "$T:T-0001", None, piotr)
    with pytest.raises(OverQuantity):
        apply_scan(task_id, "p2", GTINS["A"], 4, piotr)
    assert apply_scan(task_id, "p3", GTINS["A"], 3, piotr)["task"]["status"] == "done"
    assert status(order_id) == "packed"


def test_wrong_scans_change_nothing(floor):
    order_id = place()
    task_id = picked(order_id)
    other = place("WEB-2", [("A", 1)])
    piotr = floor["piotr"]
    with pytest.raises(WrongTote) as err:
        apply_scan(task_id, "w1", "T-0002", None, piotr)
    assert err.value.details == {"expected": "T-0001", "scanned": "T-0002"}
    with pytest.raises(WrongTote) as err:
        apply_scan(task_id, "w2", str(other), None, piotr)
    assert err.value.details == {"expected": "T-0001", "scanned": str(other)}
    with pytest.raises(WrongTote):
        apply_scan(task_id, "w3", GTINS["A"], None, piotr)  # an item before the tote
    apply_scan(task_id, "p1", "T-0001", None, piotr)
    with pytest.raises(WrongProduct) as err:
        apply_scan(task_id, "w4", GTINS["Z"], None, piotr)
    assert err.value.details == {"expected": "A", "scanned": "Z"}
    apply_scan(task_id, "p2", GTINS["B"], None, piotr)
    with pytest.raises(OverQuantity) as err:
        apply_scan(task_id, "w5", GTINS["B"], None, piotr)  # an extra item
    assert err.value.details == {"expected": 0, "scanned": 1}
    with pytest.raises(UnknownCode):
        apply_scan(task_id, "w6", "00000000", None, piotr)
    view = get_task(task_id, piotr)
    assert [line["done"] for line in view["lines"]] == [0, 1]
    assert view["next"]["prompt"] == "Check 2 x A (0 of 2)"
    assert db.session.execute(select(func.count(TaskScan.id)).where(TaskScan.task_id == task_id)).scalar_one() == 2
    assert status(order_id) == "picking"


def test_a_lot_must_be_the_lot_picked(floor):
    order_id = place(lines=[("L", 2)])
    task_id = picked(order_id)
    piotr = floor["piotr"]
    assert [line["lot"] for line in get_task(task_id, piotr)["lines"]] == ["L1"]
    apply_scan(task_id, "p1", "T-0001", None, piotr)
    with pytest.raises(WrongLot) as err:
        apply_scan(task_id, "w1", gs1("L", "L2"), None, piotr)
    assert err.value.details == {"expected": "L1", "scanned": "L2"}
    apply_scan(task_id, "p2", gs1("L", "L1"), None, piotr)
    assert apply_scan(task_id, "p3", GTINS["L"], None, piotr)["task"]["status"] == "done"


def test_a_replayed_scan_is_checked_once(floor):
    order_id = place(lines=[("A", 2)])
    task_id = picked(order_id)
    piotr = floor["piotr"]
    apply_scan(task_id, "p1", "T-0001", None, piotr)
    first = apply_scan(task_id, "p2", GTINS["A"], None, piotr)
    assert apply_scan(task_id, "p2", GTINS["A"], None, piotr) == first
    assert get_task(task_id, piotr)["lines"][0]["done"] == 1


def test_completing_with_items_missing_is_refused_naming_them(floor):
    order_id = place()
    task_id = picked(order_id)
    piotr = floor["piotr"]
    apply_scan(task_id, "p1", "T-0001", None, piotr)
    apply_scan(task_id, "p2", GTINS["A"], None, piotr)
    before = order_updates(order_id)
    with pytest.raises(InvalidState) as err:
        complete_task(task_id, piotr)
    assert err.value.details == {
        "missing": [
            {"line": 1, "sku": "A", "lot": None, "missing": 1},
            {"line": 2, "sku": "B", "lot": None, "missing": 1},
        ]
    }
    assert "not checked yet 1 x A, 1 x B" in err.value.message
    assert status(order_id) == "picking" and order_updates(order_id) == before
    assert get_task(task_id, piotr)["status"] == "in_progress"


def test_a_split_order_is_packed_with_its_last_part(floor):
    order_id = place(lines=[("A", 12)])  # 10 at WH1, 2 at WH2
    first = picked(order_id, "WH1")
    apply_scan(first, "p1", "T-0001", None, floor["piotr"])
    apply_scan(first, "p2", GTINS["A"], 10, floor["piotr"])
    assert get_task(first, floor["piotr"])["status"] == "done"
    assert status(order_id) == "picking"  # WH2's part is not picked yet
    second = picked(order_id, "WH2", tote="T-0001")
    apply_scan(second, "p1", "T-0001", None, floor["olaf"])
    apply_scan(second, "p2", GTINS["A"], 2, floor["olaf"])
    assert status(order_id) == "packed"
    assert history(order_id).count("packed") == 1
    assert check_stock() == []


def test_a_cancelled_order_is_not_packed(floor):
    order_id = place()
    task_id = picked(order_id)
    cancel_order(order_id, actor="channel:WEB")
    with pytest.raises(InvalidState):
        apply_scan(task_id, "p1", "T-0001", None, floor["piotr"])
    assert db.session.get(Task, task_id).reference == {"order": order_id}
