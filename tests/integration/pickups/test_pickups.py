"""Click & collect in the store, SQLite and PostgreSQL: a pickup order on the store's own stock gets a stage task;
the clerk picks it by scans, checks its label and shelves it; the order is ready for pickup with its shelf and hold
date; at the counter it is found by code (or number and surname) and handed over line by line, declined units
going back to sellable stock or to the returns bin; every wrong case is a clear error that changes nothing; two
clerks handing over one order end with one handover."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import bin_contents, level, stock_snapshot
from tests.integration.pickups.pickup_floor import (
    GTINS,
    make_pickup_floor,
    order_code,
    pickup_order,
    stage_task,
    staged,
    users,
)
from tests.integration.races import race
from wms.errors import InvalidState, NotFound, ValidationError, WrongBin, WrongTote
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order
from wms.orders.service import get_order, order_view
from wms.pickups.service import find_pickup, find_pickup_by_order, hand_over
from wms.stock.models import StockMovement
from wms.stock.service import check_stock
from wms.tasks.kinds.stage import open_stage_tasks, stageable_orders
from wms.tasks.service import apply_scan, get_task
from wms.timeutil import utcnow


@pytest.fixture
def floor(any_app, monkeypatch):
    return make_pickup_floor(monkeypatch)


def view(order_id: int) -> dict:
    db.session.rollback()
    db.session.expire_all()
    return order_view(get_order(order_id))


def on_bin(bin_code: str, location: str = "ST1") -> dict[tuple[str, str], int]:
    return bin_contents(location, bin_code)


def test_a_pickup_order_on_the_stores_stock_is_staged_by_scans(floor):
    order_id = pickup_order(floor, "WEB-1", (("A", 2), ("B", 1)))
    db.session.rollback()
    store_id = db.session.execute(select(Location.id).where(Location.code == "ST1")).scalar_one()
    assert stageable_orders(db.session, store_id) == [order_id]
    task_id = stage_task(order_id)
    assert open_stage_tasks("ST1") == []  # one stage task per order
    kasia = users()["kasia"]
    task = get_task(task_id, kasia)
    assert task["kind"] == "stage" and [(ln["sku"], ln["qty"], ln["bin"]) for ln in task["lines"]] == [
        ("A", 2, "S-01"),
        ("B", 1, "S-02"),
    ]
    assert task["next"]["expect"] == "bin" and task["next"]["bin"] == "S-01"
    other = pickup_order(floor, "WEB-OTHER", (("A", 1),))  # its label is not this order's
    before = level("A", "ST1")
    apply_scan(task_id, "1", "S-01", None, kasia)
    apply_scan(task_id, "2", GTINS["A"], 2, kasia)
    apply_scan(task_id, "3", "S-02", None, kasia)
    answer = apply_scan(task_id, "4", GTINS["B"], None, kasia)
    assert answer["task"]["next"]["expect"] == "order"
    assert "No printer at this store" in answer["message"]
    assert order_code(order_id) in answer["task"]["next"]["prompt"]
    assert level("A", "ST1") == before  # nothing moves until the order is on its shelf
    with pytest.raises(WrongTote, match=f"Scan the pickup label of order {order_id}"):
        apply_scan(task_id, "5", order_code(other), None, kasia)
    answer = apply_scan(task_id, "6", order_code(order_id), None, kasia)
    assert answer["task"]["next"]["expect"] == "shelf"
    assert answer["task"]["next"]["bin"] == "PU-01"  # suggested: no order waits on either, PU-01 comes first
    with pytest.raises(WrongBin, match="not a pickup shelf"):
        apply_scan(task_id, "7", "S-01", None, kasia)
    answer = apply_scan(task_id, "8", "PU-02", None, kasia)
    assert answer["task"]["status"] == "done" and "ready for pickup on PU-02" in answer["message"]

    shown = view(order_id)
    assert shown["status"] == "ready_for_pickup"
    pickup = shown["pickup"]
    assert (pickup["code"], pickup["store"], pickup["shelf"]) == (order_code(order_id), "ST1", "PU-02")
    assert pickup["qr_url"] == f"/p/{order_code(order_id)}.svg"
    db.session.rollback()
    hold = db.session.get(Order, order_id).hold_until
    assert (
        timedelta(days=2, hours=23)
        < hold.replace(tzinfo=hold.tzinfo or utcnow().tzinfo) - utcnow()
        <= timedelta(days=3)
    )
    assert [h["status"] for h in shown["history"]] == ["reserved", "picking", "ready_for_pickup"]
    # the units wait on the shelf, reserved no more, not sellable: availability did not move
    assert on_bin("PU-02") == {("A", "sellable"): 2, ("B", "sellable"): 1}
    assert level("A", "ST1") == (before[0] - 2, before[1] - 2)
    assert check_stock() == []


def test_an_order_waiting_for_a_transfer_or_of_another_store_is_not_staged(floor):
    big = pickup_order(floor, "WEB-2", (("A", 7),))  # ST1 holds 5: the rest comes from WH1
    db.session.rollback()
    store_id = db.session.execute(select(Location.id).where(Location.code == "ST1")).scalar_one()
    assert big not in stageable_orders(db.session, store_id)
    assert open_stage_tasks("ST1") == []
    with pytest.raises(NotFound):
        open_stage_tasks("WH1")


def test_a_full_handover_takes_the_units_out_of_stock(floor):
    order_id = staged(floor, "WEB-1", (("A", 2), ("B", 1)))
    kasia = users()["kasia"]
    assert find_pickup(order_code(order_id).lower(), kasia).id == order_id
    assert find_pickup_by_order(order_id, "nowak", kasia).id == order_id  # Anna Nowak
    before = level("A", "ST1")
    order, applied = hand_over(
        order_id, "h-1", [{"sku": "A", "collected": 2, "declined": 0}, {"sku": "B", "collected": 1}], kasia
    )
    assert applied and order.status == "collected"
    shown = view(order_id)
    assert [(ln["sku"], ln["collected"], ln["declined"]) for ln in shown["lines"]] == [("A", 2, 0), ("B", 1, 0)]
    assert on_bin("PU-01") == {} and level("A", "ST1") == before
    reasons = db.session.execute(
        select(StockMovement.reason, StockMovement.qty).where(StockMovement.reference == f"order:{order_id}")
    ).all()
    assert sorted(reasons) == [("collect", 1), ("collect", 2), ("pick", 1), ("pick", 2)]
    # a retry of the same handover answers the order again; another one is refused
    snap = stock_snapshot()
    _, applied = hand_over(order_id, "h-1", [{"sku": "A", "collected": 2}, {"sku": "B", "collected": 1}], kasia)
    assert not applied
    with pytest.raises(InvalidState, match="handed over already"):
        hand_over(order_id, "h-2", [{"sku": "A", "collected": 2}, {"sku": "B", "collected": 1}], kasia)
    assert stock_snapshot() == snap
    assert check_stock() == []


def test_declined_units_go_back_to_sellable_stock_or_to_the_returns_bin(floor):
    order_id = staged(floor, "WEB-1", (("A", 2), ("B", 1)))
    before_a, before_b = level("A", "ST1"), level("B", "ST1")
    order, _ = hand_over(
        order_id,
        "h-1",
        [
            {"sku": "A", "collected": 1, "declined": 1, "reason": "wrong colour", "condition": "sellable"},
            {"sku": "B", "collected": 0, "declined": 1, "reason": "box crushed", "condition": "damaged"},
        ],
        users()["kasia"],
    )
    assert order.status == "partially_collected"
    assert level("A", "ST1") == (before_a[0] + 1, before_a[1])  # sellable again, at once
    assert level("B", "ST1") == before_b
    assert on_bin("RET") == {("B", "damaged"): 1}
    assert on_bin("PU-01") == {}
    shown = view(order_id)
    assert [(ln["sku"], ln["collected"], ln["declined"]) for ln in shown["lines"]] == [("A", 1, 1), ("B", 0, 1)]
    assert check_stock() == []


def test_counter_mistakes_are_refused_and_change_nothing(floor):
    waiting = pickup_order(floor, "WEB-9", (("A", 1),))
    order_id = staged(floor, "WEB-1", (("A", 2), ("B", 1)))
    kasia, ewa, boss = users()["kasia"], users()["ewa"], users()["boss"]
    snap = stock_snapshot()
    with pytest.raises(NotFound):
        find_pickup("ZZZZZZZZ", kasia)
    with pytest.raises(NotFound):  # another store's clerk learns nothing of it
        find_pickup(order_code(order_id), ewa)
    with pytest.raises(NotFound):
        find_pickup_by_order(order_id, "Kowalska", kasia)
    assert find_pickup(order_code(order_id), boss).id == order_id
    with pytest.raises(InvalidState, match="not ready for pickup"):
        hand_over(waiting, "h-0", [{"sku": "A", "collected": 1}], kasia)
    with pytest.raises(NotFound):
        hand_over(order_id, "h-1", [{"sku": "A", "collected": 2}, {"sku": "B", "collected": 1}], ewa)
    with pytest.raises(ValidationError) as refused:
        hand_over(order_id, "h-2", [{"sku": "A", "collected": 1}, {"sku": "Z", "collected": 1}], kasia)
    assert [e["field"] for e in refused.value.details] == ["lines[0]", "lines[1].sku", "lines"]
    assert stock_snapshot() == snap and view(order_id)["status"] == "ready_for_pickup"


def test_two_clerks_handing_over_one_order_end_with_one_handover(any_app, floor):
    order_id = staged(floor, "WEB-1", (("A", 2),))
    create = __import__("wms.auth.service", fromlist=["create_user"]).create_user
    create("ola", "clerk", "ST1", "sekret-123")

    def clerk(name: str, client_id: str):
        def call():
            return hand_over(order_id, client_id, [{"sku": "A", "collected": 2}], users()[name])

        return call

    outcomes = race(any_app, clerk("kasia", "k-1"), clerk("ola", "o-1"))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], InvalidState), outcomes
    assert view(order_id)["status"] == "collected"
    db.session.rollback()
    collected = db.session.execute(
        select(StockMovement.qty).where(
            StockMovement.reference == f"order:{order_id}", StockMovement.reason == "collect"
        )
    ).scalars()
    assert list(collected) == [2]
    assert check_stock() == []


# --- expiry ----------------------------------------------------------------------------------------------------


def hold_ends(order_id: int) -> object:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Order, order_id).hold_until


def test_a_reminder_a_day_before_then_expiry_and_a_task_to_clear_the_shelf(floor):
    from wms.channels.models import OutboxEvent
    from wms.pickups.expiry import expire_due, remind_due
    from wms.tasks.models import Task

    order_id = staged(floor, "WEB-1", (("A", 2),))
    now = utcnow()
    assert remind_due(now) == 0 and expire_due(now) == 0  # held 3 days: nothing due yet
    updates = lambda: db.session.execute(  # noqa: E731
        select(OutboxEvent.id).where(OutboxEvent.event == "order.updated", OutboxEvent.subject_id == order_id)
    ).all()
    before = len(updates())
    two_days_later = now + timedelta(days=2, hours=1)
    assert remind_due(two_days_later) == 1 and remind_due(two_days_later) == 0  # once
    assert view(order_id)["pickup"]["reminded_at"] is not None and len(updates()) == before + 1
    assert expire_due(two_days_later) == 0
    assert expire_due(now + timedelta(days=3, minutes=1)) == 1
    shown = view(order_id)
    assert shown["status"] == "expired" and shown["history"][-1]["status"] == "expired"
    db.session.rollback()
    (task,) = db.session.execute(select(Task).where(Task.kind == "putaway")).scalars()
    assert task.reference == {"dock": "PU-01", "order": order_id, "reason": "pickup expired"}
    assert [(line.qty, line.done) for line in task.lines] == [(2, 0)]
    # the clerk scans the units back to a selling shelf: sellable again
    before_level = level("A", "ST1")
    kasia = users()["kasia"]
    apply_scan(task.id, "x1", GTINS["A"], None, kasia)
    answer = apply_scan(task.id, "x2", "S-01", 2, kasia)
    assert answer["task"]["status"] == "done"
    assert level("A", "ST1") == (before_level[0] + 2, before_level[1]) and on_bin("PU-01") == {}
    with pytest.raises(InvalidState, match="expired"):
        hand_over(order_id, "late", [{"sku": "A", "collected": 2}], kasia)
    assert check_stock() == []


def test_a_handover_racing_expiry_ends_with_one_outcome(any_app, floor):
    from wms.pickups.expiry import expire_order

    order_id = staged(floor, "WEB-1", (("A", 2),))
    late = utcnow() + timedelta(days=4)

    def expire():
        return expire_order(order_id, late)

    def collect():
        return hand_over(order_id, "h-1", [{"sku": "A", "collected": 2}], users()["kasia"])

    outcomes = race(any_app, expire, collect)
    shown = view(order_id)
    if shown["status"] == "expired":
        assert outcomes[0] is True and isinstance(outcomes[1], InvalidState), outcomes
    else:
        assert shown["status"] == "collected" and outcomes[0] is False, outcomes
    assert check_stock() == []


def test_the_pickup_label_prints_on_the_stores_printer_with_the_suggested_shelf(any_app, floor, monkeypatch, tmp_path):
    from wms.printing.models import PrintJob
    from wms.printing.service import add_printer

    monkeypatch.setitem(any_app.config, "PRINTER_DIR_ROOT", str(tmp_path))
    add_printer("ST1-pdf", f"pdf+dir://{tmp_path}", "ST1")
    first = staged(floor, "WEB-1", (("A", 1),), shelf="PU-01")  # PU-01 now holds a ready order
    order_id = pickup_order(floor, "WEB-2", (("B", 1),))
    task_id = stage_task(order_id)
    kasia = users()["kasia"]
    apply_scan(task_id, "1", "S-02", None, kasia)
    answer = apply_scan(task_id, "2", GTINS["B"], None, kasia)
    assert "Pickup label printing on ST1-pdf" in answer["message"]
    assert answer["task"]["next"]["expect"] == "order"
    db.session.rollback()
    jobs = db.session.execute(select(PrintJob).where(PrintJob.kind == "pickup").order_by(PrintJob.id)).scalars().all()
    assert [(job.data["order"], job.data["shelf"]) for job in jobs] == [(str(first), "PU-01"), (str(order_id), "PU-02")]
    assert jobs[-1].data["pickup_code"] == order_code(order_id)


def test_cancelling_a_pickup_being_staged_cancels_its_stage_and_moves_nothing(floor):
    from wms.tasks.kinds.pick import cancel_order_and_work
    from wms.tasks.models import Task

    order_id = pickup_order(floor, "WEB-1", (("A", 2),))
    task_id = stage_task(order_id)
    kasia = users()["kasia"]
    apply_scan(task_id, "1", "S-01", None, kasia)
    apply_scan(task_id, "2", GTINS["A"], 1, kasia)  # one unit in the basket
    before = level("A", "ST1")
    cancel_order_and_work(order_id, actor="customer service")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Task, task_id).status == "cancelled"
    assert view(order_id)["status"] == "cancelled"
    assert level("A", "ST1") == (before[0], before[1] - 2)  # released; the unit never left its bin
    with pytest.raises(InvalidState):
        apply_scan(task_id, "3", GTINS["A"], 1, kasia)
    assert check_stock() == []
