"""Picking on the service, SQLite and PostgreSQL: tote, bin, item; units move to staging and the open reservation
falls by as much (availability does not move); wrong scans change nothing; short picks put the rest elsewhere or
flag the order and open a count; a picked order gets a pack task; cancelling mid-pick sends picked units back."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from devices.scan import encode_bin
from tests.factories import (
    add_stock,
    fast_password_hashing,
    level,
    make_bin,
    make_location,
    order_body,
    stock_snapshot,
)
from tests.integration.tasks.pick_floor import GTIN, make_floor, order, pick_task, reload_order
from wms.auth.service import create_user
from wms.channels.service import create_channel
from wms.errors import (
    InsufficientStock,
    InvalidState,
    OverQuantity,
    ValidationError,
    WrongBin,
    WrongLot,
    WrongProduct,
    WrongTote,
)
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.service import place_order
from wms.scanning.errors import UnknownCode
from wms.stock.models import StockMovement, StockQuant
from wms.stock.service import check_stock
from wms.tasks.kinds.pick import cancel_order_and_work
from wms.tasks.models import Task
from wms.tasks.service import apply_scan, get_task, short_pick


@pytest.fixture
def floor(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    return make_floor()


def scan(task_id: int, user, code: str | None, qty: int | None = None, scan_id: list[int] = [0]):  # noqa: B006
    scan_id[0] += 1
    return apply_scan(task_id, f"s{scan_id[0]}", code, qty, user)


def gs1(sku: str, lot: str) -> str:
    return f"010{GTIN[sku]}10{lot}"


def tasks_of(kind: str) -> list[Task]:
    db.session.expire_all()
    return list(db.session.execute(select(Task).where(Task.kind == kind).order_by(Task.id)).scalars())


def test_tote_bin_item_picks_one_unit_into_staging_and_opens_the_pack_task(floor):
    order_id = order(floor, "W-1", [("A", 1)])
    task_id = pick_task([order_id])
    before = level("A", "WH1")
    assert get_task(task_id, floor["piotr"])["next"]["expect"] == "tote"
    assert scan(task_id, floor["piotr"], "T-0001")["message"] == f"Tote T-0001 is for order {order_id}"
    assert scan(task_id, floor["piotr"], "A-01")["task"]["next"]["prompt"] == "Scan item A"
    answer = scan(task_id, floor["piotr"], GTIN["A"])
    assert answer["message"] == "1 x A into tote T-0001"
    assert answer["task"]["status"] == "done" and answer["task"]["next"]["expect"] == "nothing"
    # on hand sellable and reserved fell together: availability did not move
    after = level("A", "WH1")
    assert after == (before[0] - 1, before[1] - 1)
    picked = reload_order(order_id)
    assert picked.status == "picking" and picked.tote == "T-0001" and picked.lines[0].picked == 1
    movement = db.session.execute(select(StockMovement).where(StockMovement.reason == "pick")).scalar_one()
    assert (movement.qty, movement.reference, movement.actor) == (1, f"order:{order_id}", "piotr")
    (pack,) = tasks_of("pack")
    assert pack.reference == {"order": order_id} and pack.tote == "T-0001"
    assert [(line.qty, line.order_id) for line in pack.lines] == [(1, order_id)]
    assert check_stock() == []


def test_wrong_scans_change_nothing_and_say_what_was_expected(floor):
    order_id = order(floor, "W-1", [("A", 1)])
    task_id = pick_task([order_id])
    scan(task_id, floor["piotr"], "T-0001")
    snap = stock_snapshot()
    with pytest.raises(WrongBin) as err:
        scan(task_id, floor["piotr"], "A-02")
    assert err.value.message == "This is bin A-02. Scan bin A-01."
    scan(task_id, floor["piotr"], "A-01")
    with pytest.raises(WrongProduct) as err:
        scan(task_id, floor["piotr"], GTIN["B"])
    assert err.value.details == {"expected": "A", "scanned": "B"}
    assert stock_snapshot() == snap
    assert get_task(task_id, floor["piotr"])["next"]["expect"] == "product"


def test_a_tote_in_use_by_another_open_order_is_refused(floor):
    first, second = order(floor, "W-1", [("A", 1)]), order(floor, "W-2", [("B", 1)])
    task_id = pick_task([first, second])
    scan(task_id, floor["piotr"], "T-0001")
    scan(task_id, floor["piotr"], "A-01")
    scan(task_id, floor["piotr"], GTIN["A"])
    assert get_task(task_id, floor["piotr"])["next"]["expect"] == "tote"  # the second order's first line
    with pytest.raises(WrongTote) as err:
        scan(task_id, floor["piotr"], "T-0001")
    assert f"holds order {first}" in err.value.message
    assert scan(task_id, floor["piotr"], "T-0002")["task"]["next"]["prompt"] == "Scan bin A-02"


def test_several_units_by_scans_or_a_typed_number(floor):
    order_id = order(floor, "W-1", [("A", 3)])
    task_id = pick_task([order_id])
    for code in ("T-1", "A-01", GTIN["A"]):
        answer = scan(task_id, floor["piotr"], code)
    assert answer["task"]["next"]["expect"] == "qty"
    snap = stock_snapshot()
    with pytest.raises(OverQuantity):
        scan(task_id, floor["piotr"], None, 3)  # 2 are left
    assert stock_snapshot() == snap
    answer = scan(task_id, floor["piotr"], None, 2)
    assert answer["task"]["status"] == "done" and reload_order(order_id).lines[0].picked == 3
    assert check_stock() == []


def test_lots_the_oldest_expiry_only(floor):
    order_id = order(floor, "W-1", [("L", 1)])
    task_id = pick_task([order_id])
    assert get_task(task_id, floor["piotr"])["lines"][0]["lot"] == "L-OLD"
    scan(task_id, floor["piotr"], "T-1")
    scan(task_id, floor["piotr"], "A-03")
    with pytest.raises(WrongLot):
        scan(task_id, floor["piotr"], gs1("L", "L-NEW"))
    with pytest.raises(WrongLot):
        scan(task_id, floor["piotr"], GTIN["L"])
    assert scan(task_id, floor["piotr"], gs1("L", "L-OLD"))["task"]["status"] == "done"
    assert check_stock() == []


def test_a_replayed_scan_is_applied_once(floor):
    order_id = order(floor, "W-1", [("A", 2)])
    task_id = pick_task([order_id])
    apply_scan(task_id, "t", "T-1", None, floor["piotr"])
    apply_scan(task_id, "b", "A-01", None, floor["piotr"])
    first = apply_scan(task_id, "i", GTIN["A"], None, floor["piotr"])
    again = apply_scan(task_id, "i", GTIN["A"], None, floor["piotr"])
    assert again == first
    assert reload_order(order_id).lines[0].picked == 1


def test_short_pick_takes_the_rest_from_another_bin_and_opens_a_count(floor):
    order_id = order(floor, "W-1", [("A", 3)])
    task_id = pick_task([order_id])
    assert [line["bin"] for line in get_task(task_id, floor["piotr"])["lines"]] == ["A-01"]
    scan(task_id, floor["piotr"], "T-1")
    scan(task_id, floor["piotr"], "A-01")
    answer = short_pick(task_id, "short-1", 1, floor["piotr"])
    assert "pick them from B-01" in answer["message"]
    lines = answer["task"]["lines"]
    assert [(line["bin"], line["qty"], line["done"], line.get("short", 0)) for line in lines] == [
        ("A-01", 3, 1, 2),
        ("B-01", 2, 0, 0),
    ]
    (count,) = tasks_of("count")
    assert count.reference["bin"] == "A-01" and count.reference["reason"] == "short_pick"
    assert short_pick(task_id, "short-1", 1, floor["piotr"]) == answer  # a retry is applied once
    scan(task_id, floor["piotr"], "B-01")
    assert scan(task_id, floor["piotr"], GTIN["A"], 2)["task"]["status"] == "done"
    assert reload_order(order_id).lines[0].picked == 3 and len(tasks_of("pack")) == 1
    assert check_stock() == []


def test_short_pick_with_nothing_elsewhere_flags_the_order(floor):
    order_id = order(floor, "W-1", [("B", 5)])
    task_id = pick_task([order_id])
    scan(task_id, floor["piotr"], "T-1")
    scan(task_id, floor["piotr"], "A-02")
    with pytest.raises(ValidationError):
        short_pick(task_id, "s", 5, floor["piotr"])
    answer = short_pick(task_id, "s2", 0, floor["piotr"])
    assert f"order {order_id} is flagged" in answer["message"]
    assert answer["task"]["status"] == "done"
    flagged = reload_order(order_id)
    assert "Short pick: 5 x B missing in A-02" in flagged.attention
    assert tasks_of("pack") == [] and len(tasks_of("count")) == 1
    assert check_stock() == []


def test_short_is_for_picks_only(floor):
    order_id = order(floor, "W-1", [("A", 1)])
    task_id = pick_task([order_id])
    for code in ("T-1", "A-01", GTIN["A"]):
        scan(task_id, floor["piotr"], code)
    (pack,) = tasks_of("pack")
    with pytest.raises(InvalidState):
        short_pick(pack.id, "x", 0, floor["piotr"])


def test_another_locations_picker_cannot_see_or_work_the_task(floor):
    from wms.errors import NotFound

    task_id = pick_task([order(floor, "W-1", [("A", 1)])])
    with pytest.raises(NotFound):
        scan(task_id, floor["olaf"], "T-1")


def test_a_bin_short_by_the_books_answers_insufficient_stock(floor):
    order_id = order(floor, "W-1", [("A", 2)])
    task_id = pick_task([order_id])
    from wms.stock.service import adjust

    adjust("WH1", "A-01", "A", -2, "damaged", actor="test")  # leaves 1 in A-01 while the line asks 2 from it
    for code in ("T-1", "A-01"):
        scan(task_id, floor["piotr"], code)
    snap = stock_snapshot()
    with pytest.raises(InsufficientStock) as refused:
        scan(task_id, floor["piotr"], GTIN["A"], 2)
    assert "By the books A-01 holds fewer than 2 x A" in refused.value.message
    assert refused.value.details == [{"bin": "A-01", "lot": "", "status": "sellable", "requested": 2, "available": 1}]
    assert stock_snapshot() == snap


def test_a_pick_into_a_staging_bin_older_than_the_pick_bin_moves_the_same(floor):
    """The stock work takes the two quants in the order of their bin ids (on PostgreSQL one statement does it,
    built for either order): here the staging bin's id is the lower one."""
    make_location("WH3")
    make_bin("WH3", "STAGE-3", "staging", 99)
    make_bin("WH3", "C-01", "pick", 1)
    add_stock("WH3", "C-01", "A", 2)
    channel, _ = create_channel("WH3-WEB", ship_from=["WH3"])
    picker = create_user("piotr3", "picker", "WH3", "sekret-123")
    placed, _ = place_order(channel.id, order_body("W-3", [("A", 2)]))
    task_id = pick_task([placed.id], location="WH3")
    for code in ("T-3", "C-01"):
        scan(task_id, picker, code)
    answer = scan(task_id, picker, GTIN["A"], 2)
    assert answer["task"]["status"] == "done"
    assert level("A", "WH3") == (0, 0)
    bins = dict(
        db.session.execute(
            select(Bin.code, StockQuant.qty)
            .join(Bin, Bin.id == StockQuant.bin_id)
            .join(Location, Location.id == Bin.location_id)
            .where(Location.code == "WH3")
        ).all()
    )
    db.session.rollback()
    assert bins == {"C-01": 0, "STAGE-3": 2}
    assert reload_order(placed.id).lines[0].picked == 2
    assert check_stock() == []


def test_cancelling_an_order_mid_pick_sends_its_picked_units_back(floor):
    order_id = order(floor, "W-1", [("A", 3)])
    task_id = pick_task([order_id])
    for code in ("T-1", "A-01", GTIN["A"]):
        scan(task_id, floor["piotr"], code)
    cancel_order_and_work(order_id, actor="shop")
    cancelled = reload_order(order_id)
    assert cancelled.status == "cancelled" and cancelled.tote is None
    view = get_task(task_id, floor["piotr"])
    assert view["status"] == "done" and view["lines"][0]["qty"] == 1
    (back,) = tasks_of("putaway")
    assert back.reference["dock"] == "STAGE" and back.reference["order"] == order_id
    assert [(line.qty,) for line in back.lines] == [(1,)]
    with pytest.raises(InvalidState):
        scan(task_id, floor["piotr"], GTIN["A"])
    assert level("A", "WH1")[1] == 0
    assert check_stock() == []


def test_a_pick_takes_from_several_reservation_rows_of_its_line(floor):
    """One order line can hold several reservation rows at a location; a pick of more than the first holds lowers
    them oldest first, and the level's reserved by the same total."""
    from wms.stock.models import Reservation

    order_id = order(floor, "W-1", [("A", 3)])
    task_id = pick_task([order_id])
    (row,) = db.session.execute(select(Reservation)).scalars()
    db.session.add(
        Reservation(
            order_line_id=row.order_line_id,
            product_id=row.product_id,
            location_id=row.location_id,
            qty=1,
            open_qty=1,
        )
    )
    row.qty, row.open_qty = 2, 2
    db.session.commit()
    for code in ("T-1", "A-01"):
        scan(task_id, floor["piotr"], code)
    assert scan(task_id, floor["piotr"], GTIN["A"], 3)["task"]["status"] == "done"
    db.session.expire_all()
    assert [r.open_qty for r in db.session.execute(select(Reservation).order_by(Reservation.id)).scalars()] == [0, 0]
    assert level("A", "WH1")[1] == 0
    assert check_stock() == []


def test_a_count_that_releases_a_short_picked_orders_rest_opens_its_pack_task(floor):
    """One of five found, none elsewhere: the order is flagged and waits. The count of the bin finds it empty and
    books the loss, which releases the four still reserved: nothing is left to pick, so the order gets its pack
    task for the one unit in its tote."""
    from wms.tasks.service import complete_task

    order_id = order(floor, "W-1", [("B", 5)])
    task_id = pick_task([order_id])
    scan(task_id, floor["piotr"], "T-1")
    scan(task_id, floor["piotr"], "A-02")
    short_pick(task_id, "s", 1, floor["piotr"])
    assert tasks_of("pack") == [] and reload_order(order_id).attention
    (count,) = tasks_of("count")
    scan(count.id, floor["anna"], "A-02")  # the bin, and no item in it
    assert complete_task(count.id, floor["anna"])["status"] == "done"
    (pack,) = tasks_of("pack")
    assert [(line.qty, line.order_id) for line in pack.lines] == [(1, order_id)]
    assert level("B", "WH1") == (0, 0)
    assert check_stock() == []


@pytest.fixture
def statements():
    """The SQL statements the database is sent while the test runs, in order."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany):
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    event.remove(db.engine, "before_cursor_execute", record)


def test_the_last_scan_of_an_order_closes_its_task_and_opens_its_pack_task(floor, statements):
    """On PostgreSQL the task's status and the order's pack task ride on the statement that stores the scan's
    answer (no statement of their own); on both databases what they write is the same."""
    first, second = order(floor, "W-1", [("A", 1)]), order(floor, "W-2", [("B", 1)])
    task_id = pick_task([first, second])
    for code in ("T-0001", "A-01"):
        scan(task_id, floor["piotr"], code)
    statements.clear()
    answer = scan(task_id, floor["piotr"], GTIN["A"])  # the first order is picked, the task is not done
    assert answer["task"]["status"] == "in_progress"
    assert [pack.reference for pack in tasks_of("pack")] == [{"order": first}]
    if db.engine.dialect.name == "postgresql":
        [closing] = [s for s in statements if "INSERT INTO task_scan" in s]
        assert closing.startswith("WITH pack_picked AS") and "task_changed" not in closing
        assert not any(s.startswith("UPDATE task SET") for s in statements)
    for code in ("T-0002", "A-02"):
        scan(task_id, floor["piotr"], code)
    statements.clear()
    answer = apply_scan(task_id, "last-B", GTIN["B"], None, floor["piotr"])
    assert answer["task"]["status"] == "done" and answer["task"]["next"]["expect"] == "nothing"
    if db.engine.dialect.name == "postgresql":
        [closing] = [s for s in statements if "INSERT INTO task_scan" in s]
        assert "pack_picked AS" in closing and "task_changed AS" in closing
        assert not any(s.startswith(("UPDATE task SET", "WITH pack_picked")) and s != closing for s in statements)
    db.session.expire_all()
    task = db.session.get(Task, task_id)
    assert task.status == "done" and task.assignee_id == floor["piotr"].id
    assert sorted(pack.reference["order"] for pack in tasks_of("pack")) == [first, second]
    (second_pack,) = [pack for pack in tasks_of("pack") if pack.reference == {"order": second}]
    assert second_pack.tote == "T-0002" and [(line.qty, line.order_id) for line in second_pack.lines] == [(1, second)]
    # a retry of that last scan answers the stored answer and writes nothing again
    assert apply_scan(task_id, "last-B", GTIN["B"], None, floor["piotr"]) == answer
    assert len(tasks_of("pack")) == 2
    assert check_stock() == []


def test_a_scan_that_claims_the_task_writes_its_assignee(floor):
    order_id = order(floor, "W-1", [("A", 1)])
    task_id = pick_task([order_id])
    scan(task_id, floor["anna"], "T-0001")  # no claim first: the first scan takes the task
    db.session.expire_all()
    task = db.session.get(Task, task_id)
    assert (task.status, task.assignee_id) == ("in_progress", floor["anna"].id)
    with pytest.raises(InvalidState):
        scan(task_id, floor["piotr"], "A-01")


def test_a_bin_label_of_the_tasks_bin_or_another_bin(floor):
    order_id = order(floor, "W-1", [("A", 1)])
    task_id = pick_task([order_id])
    scan(task_id, floor["piotr"], "T-0001")
    with pytest.raises(WrongBin) as err:
        scan(task_id, floor["piotr"], encode_bin("WH1", "A-02"))  # a bin of no line: read, and refused
    assert err.value.details == {"expected": "A-01", "scanned": "A-02"}
    with pytest.raises(UnknownCode) as unknown:
        scan(task_id, floor["piotr"], encode_bin("WH2", "A-01"))  # the same code at another location
    assert unknown.value.details["reason"] == "other_location"
    with pytest.raises(UnknownCode):
        scan(task_id, floor["piotr"], encode_bin("WH1", "Z-99"))
    assert scan(task_id, floor["piotr"], encode_bin("WH1", "A-01"))["task"]["next"]["prompt"] == "Scan item A"
