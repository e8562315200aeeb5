"""Counts, end to end on the services: blind counting by scans, variances booked with ledger reason ``count`` or
waiting for a manager, approval and recount, and losses that hit reserved units flagging the orders they hit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import add_stock, fast_password_hashing, gtin13, level, make_bin, make_location, make_product
from wms.auth.models import User
from wms.auth.service import create_user
from wms.channels.models import OutboxEvent
from wms.channels.service import create_channel
from wms.errors import Forbidden, InvalidState, NotFound, ValidationError, WrongBin, WrongLot, WrongProduct
from wms.extensions import db
from wms.orders.models import Order, OrderLine
from wms.orders.service import place_order
from wms.stock.models import Reservation, StockMovement, StockQuant
from wms.stock.service import check_stock, move
from wms.tasks.counts import approve_count, counts_waiting, open_counts, recount
from wms.tasks.models import Task
from wms.tasks.service import apply_scan, complete_task, get_task, list_tasks

GTIN_A, GTIN_B, GTIN_L = gtin13(9201), gtin13(9202), gtin13(9203)


@pytest.fixture
def floor(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    monkeypatch.setitem(any_app.config, "COUNT_VARIANCE_UNITS", 5)
    monkeypatch.setitem(any_app.config, "COUNT_VARIANCE_PERCENT", 10.0)
    make_location("WH1")
    make_location("WH2")
    make_bin("WH1", "A-01", "pick", 1)
    make_bin("WH1", "A-02", "pick", 2)
    make_bin("WH1", "DOCK", "dock", 0)
    make_bin("WH2", "A-01", "pick", 1)
    make_product("A", barcodes=[GTIN_A])
    make_product("B", barcodes=[GTIN_B])
    make_product("L", barcodes=[GTIN_L], track_lots=True)
    return {
        "piotr": create_user("piotr", "picker", "WH1", "sekret-123"),
        "olaf": create_user("olaf", "picker", "WH2", "sekret-123"),
        "boss": create_user("boss", "manager", None, "sekret-123"),
    }


def count_of(bin_code: str = "A-01", location: str = "WH1") -> int:
    [task_id] = open_counts(location, [bin_code], actor="boss")["tasks"]
    return task_id


def scan_all(task_id: int, user, *codes, qty: int | None = None) -> dict:
    answer = {}
    for code in codes:
        answer = apply_scan(task_id, f"s{next_id()}", code, qty, user, "TC52")
    return answer


_ids = iter(range(1, 10**6))


def next_id() -> int:
    return next(_ids)


def quant(bin_code: str, sku: str, lot: str = "") -> int:
    from wms.catalog.models import Product
    from wms.locations.models import Bin

    db.session.expire_all()
    qty = db.session.execute(
        select(StockQuant.qty)
        .join(Bin, Bin.id == StockQuant.bin_id)
        .join(Product, Product.id == StockQuant.product_id)
        .where(Bin.code == bin_code, Bin.location_id == 1, Product.sku == sku, StockQuant.lot == lot)
    ).scalar_one_or_none()
    db.session.rollback()
    return qty or 0


def count_rows() -> list[tuple[str, int, bool, bool]]:
    """Ledger rows of reason count: (sku, qty, into a bin, out of a bin)."""
    from wms.catalog.models import Product

    rows = db.session.execute(
        select(Product.sku, StockMovement.qty, StockMovement.to_bin_id, StockMovement.from_bin_id, StockMovement.actor)
        .join(Product, Product.id == StockMovement.product_id)
        .where(StockMovement.reason == "count")
        .order_by(StockMovement.id)
    ).all()
    return [(sku, qty, to is not None, frm is not None, actor) for sku, qty, to, frm, actor in rows]


def test_a_count_is_blind_the_counter_never_sees_the_expected_quantity(floor):
    add_stock("WH1", "A-01", "A", 17)
    piotr = floor["piotr"]
    task_id = count_of()
    view = get_task(task_id, piotr)
    assert view["kind"] == "count" and view["status"] == "open" and view["lines"] == []
    assert view["reference"] == {"bin": "A-01", "opened_by": "boss"}
    assert view["next"] == {"expect": "bin", "prompt": "Scan bin A-01", "bin": "A-01", "sku": None, "qty": None}
    started = scan_all(task_id, piotr, "A-01")["task"]
    assert started["status"] == "in_progress"
    assert started["next"] == {
        "expect": "product",
        "prompt": "Scan each item in A-01, then finish",
        "bin": "A-01",
        "sku": None,
        "qty": None,
    }
    answer = scan_all(task_id, piotr, GTIN_A, GTIN_A)
    assert answer["message"] == "1 x A counted (2 in all)"
    answer = apply_scan(task_id, "typed", GTIN_A, 4, piotr)  # a typed qty adds that many
    assert answer["message"] == "4 x A counted (6 in all)"
    assert answer["task"]["lines"] == [
        {"line": 1, "sku": "A", "qty": 6, "done": 6, "bin": "A-01", "lot": None, "order": None}
    ]
    assert "17" not in repr(answer) and "17" not in repr(get_task(task_id, piotr))
    assert answer["task"]["status"] == "in_progress"  # scans never end a count


def test_wrong_bins_and_other_things_change_nothing(floor):
    add_stock("WH1", "A-01", "A", 3)
    piotr = floor["piotr"]
    task_id = count_of()
    with pytest.raises(WrongBin) as err:
        apply_scan(task_id, "w1", GTIN_A, None, piotr)
    assert err.value.details == {"expected": "A-01", "scanned": "A"}
    with pytest.raises(WrongBin) as err:
        apply_scan(task_id, "w2", "A-02", None, piotr)
    assert err.value.message == "This is bin A-02. Scan bin A-01." and err.value.details["scanned"] == "A-02"
    scan_all(task_id, piotr, "A-01", GTIN_A)
    with pytest.raises(WrongBin):
        apply_scan(task_id, "w3", "$B:WH1:A-02", None, piotr)
    with pytest.raises(WrongLot):
        apply_scan(task_id, "w4", GTIN_L, None, piotr)  # tracked by lot: the plain GTIN is not enough
    assert get_task(task_id, piotr)["lines"][0]["done"] == 1
    with pytest.raises(NotFound):
        get_task(task_id, floor["olaf"])
    with pytest.raises(InvalidState):
        complete_task(count_of("A-02"), piotr)  # the bin was never scanned
    assert count_rows() == []


def test_a_product_scan_of_another_kind_is_wrong_product(floor):
    piotr = floor["piotr"]
    task_id = count_of()
    scan_all(task_id, piotr, "A-01")
    with pytest.raises(WrongProduct):
        apply_scan(task_id, "w1", "$L:WH1", None, piotr)


def test_small_gains_and_losses_are_booked_at_once_with_reason_count(floor):
    add_stock("WH1", "A-01", "A", 10)
    add_stock("WH1", "A-01", "B", 2)
    piotr = floor["piotr"]
    task_id = count_of()
    scan_all(task_id, piotr, "A-01")
    apply_scan(task_id, "a", GTIN_A, 7, piotr, "TC52")  # 3 short of 10: within 5 units
    apply_scan(task_id, "l", f"]C1010{GTIN_L}10L-7", 2, piotr, "TC52")  # 2 found where none were booked
    # B not scanned: 0 found, 2 lost
    done = complete_task(task_id, piotr)
    assert done["status"] == "done" and done["next"]["expect"] == "nothing"
    assert done["reference"]["counted_by"] == "piotr" and done["reference"]["flagged_orders"] == []
    assert (quant("A-01", "A"), quant("A-01", "B"), quant("A-01", "L", "L-7")) == (7, 0, 2)
    assert count_rows() == [
        ("A", 3, False, True, "piotr"),
        ("B", 2, False, True, "piotr"),
        ("L", 2, True, False, "piotr"),
    ]
    devices = db.session.execute(select(StockMovement.device).where(StockMovement.reason == "count")).scalars()
    assert set(devices) == {"TC52"}
    assert level("A", "WH1") == (7, 0) and level("L", "WH1") == (2, 0)
    assert check_stock() == []
    with pytest.raises(InvalidState):
        complete_task(task_id, piotr)


def test_a_count_that_matches_books_nothing(floor):
    add_stock("WH1", "A-01", "A", 2)
    piotr = floor["piotr"]
    task_id = count_of()
    scan_all(task_id, piotr, "A-01", GTIN_A, GTIN_A)
    assert complete_task(task_id, piotr)["status"] == "done"
    assert count_rows() == [] and check_stock() == []


def test_a_variance_over_the_threshold_waits_for_a_manager(floor):
    add_stock("WH1", "A-01", "A", 20)
    piotr, boss = floor["piotr"], floor["boss"]
    task_id = count_of()
    scan_all(task_id, piotr, "A-01")
    apply_scan(task_id, "a", GTIN_A, 12, piotr)  # 8 short: more than 5 units and more than 10 % of 20
    waiting = complete_task(task_id, piotr)
    assert waiting["status"] == "awaiting_approval"
    assert waiting["next"]["expect"] == "nothing"
    assert count_rows() == [] and quant("A-01", "A") == 20
    with pytest.raises(InvalidState):
        complete_task(task_id, piotr)
    with pytest.raises(InvalidState):
        apply_scan(task_id, "late", GTIN_A, None, piotr)
    # the manager's page: counted against expected, the variance in units and %
    [shown] = counts_waiting(boss)
    assert (shown.id, shown.bin, shown.counted_by) == (task_id, "A-01", "piotr")
    assert [(r.sku, r.counted, r.expected, r.units, r.percent, r.over) for r in shown.rows] == [
        ("A", 12, 20, -8, -40.0, True)
    ]
    with pytest.raises(Forbidden):
        approve_count(task_id, piotr)
    with pytest.raises(Forbidden):
        counts_waiting(piotr)
    # two units are picked out of the bin meanwhile: the approval books the variance the count found
    move("WH1", "A-01", "A-02", "A", 2, actor="piotr")
    approved = approve_count(task_id, boss, "desk")
    assert approved["status"] == "done" and approved["reference"]["approved_by"] == "boss"
    assert quant("A-01", "A") == 10  # 20 - 2 moved - 8 not found: the 12 counted less the 2 moved since
    assert count_rows() == [("A", 8, False, True, "boss")]
    assert check_stock() == []
    with pytest.raises(InvalidState):
        approve_count(task_id, boss)
    with pytest.raises(NotFound):
        approve_count(999999, boss)


def test_the_threshold_is_a_setting(floor, any_app, monkeypatch):
    add_stock("WH1", "A-01", "A", 20)
    monkeypatch.setitem(any_app.config, "COUNT_VARIANCE_UNITS", 10)
    piotr = floor["piotr"]
    task_id = count_of()
    scan_all(task_id, piotr, "A-01")
    apply_scan(task_id, "a", GTIN_A, 12, piotr)
    assert complete_task(task_id, piotr)["status"] == "done"  # 8 short: within 10 units
    assert quant("A-01", "A") == 12


def test_approving_something_else_is_invalid_state(floor):
    task_id = count_of()
    with pytest.raises(InvalidState):
        approve_count(task_id, floor["boss"])  # open, not waiting


def test_a_recount_cancels_the_count_and_opens_a_new_one(floor):
    add_stock("WH1", "A-01", "A", 20)
    piotr, boss = floor["piotr"], floor["boss"]
    task_id = count_of()
    scan_all(task_id, piotr, "A-01")
    complete_task(task_id, piotr)  # nothing found: waits
    new = recount(task_id, boss)
    assert new["id"] != task_id and new["status"] == "open" and new["lines"] == []
    assert new["reference"] == {"bin": "A-01", "recount_of": task_id, "opened_by": "boss"}
    assert get_task(task_id, boss)["status"] == "cancelled"
    assert count_rows() == [] and quant("A-01", "A") == 20
    assert count_of() == new["id"]  # the open recount is reused


def test_open_counts_reuses_open_counts_and_checks_every_bin(floor):
    first = open_counts("WH1", ["A-01", "A-02", "A-01"], actor="boss")["tasks"]
    assert first[0] == first[2] and first[0] != first[1]
    assert open_counts("WH1", ["A-02"])["tasks"] == [first[1]]
    with pytest.raises(ValidationError) as err:
        open_counts("WH1", ["A-01", "NOPE", "Z-9"])
    assert [e["field"] for e in err.value.details] == ["bins[1]", "bins[2]"]
    with pytest.raises(ValidationError) as err:
        open_counts("NOWHERE", ["A-01"])
    assert [e["field"] for e in err.value.details] == ["location"]
    assert len(list_tasks(floor["boss"], kind="count")) == 2


def _order(channel_id: int, external_id: str, qty: int) -> int:
    order, _ = place_order(
        channel_id,
        {
            "external_id": external_id,
            "fulfilment": "ship",
            "customer": {"name": "Anna"},
            "ship_to": {"line1": "ul. Długa 1", "city": "Kraków", "postcode": "31-001", "country": "PL"},
            "lines": [{"sku": "A", "qty": qty}],
        },
    )
    return order.id


def test_a_loss_below_what_is_reserved_flags_the_newest_orders(floor):
    add_stock("WH1", "A-01", "A", 10)
    channel, _token = create_channel("WEB", ship_from=["WH1"])
    older = _order(channel.id, "W-1", 5)
    newer = _order(channel.id, "W-2", 3)
    assert level("A", "WH1") == (10, 8)
    piotr, boss = floor["piotr"], floor["boss"]
    task_id = count_of()
    scan_all(task_id, piotr, "A-01")
    apply_scan(task_id, "a", GTIN_A, 4, piotr)  # 6 short, 4 left for 8 reserved
    assert complete_task(task_id, piotr)["status"] == "awaiting_approval"
    [shown] = counts_waiting(boss)
    assert [order_id for order_id, _ in shown.hits] == [older, newer]
    events_before = db.session.execute(select(OutboxEvent.id)).scalars().all()
    approved = approve_count(task_id, boss)
    assert approved["reference"]["flagged_orders"] == [older, newer]
    assert level("A", "WH1") == (4, 4)
    open_qty = dict(
        db.session.execute(
            select(OrderLine.order_id, Reservation.open_qty).join(OrderLine, OrderLine.id == Reservation.order_line_id)
        ).all()
    )
    assert open_qty == {older: 4, newer: 0}  # the newest order gives way first
    attention = dict(db.session.execute(select(Order.id, Order.attention)).all())
    assert attention[newer] == "Count of WH1/A-01 found fewer units: 3 x A no longer reserved"
    assert attention[older] == "Count of WH1/A-01 found fewer units: 1 x A no longer reserved"
    events = db.session.execute(
        select(OutboxEvent.event, OutboxEvent.subject_id).where(OutboxEvent.id.not_in(events_before))
    ).all()
    assert sorted(events) == sorted([("order.updated", older), ("order.updated", newer)])
    assert check_stock() == []


def test_a_small_loss_within_the_threshold_still_keeps_reserved_within_on_hand(floor):
    add_stock("WH1", "A-01", "A", 4)
    add_stock("WH1", "A-02", "A", 6)
    channel, _token = create_channel("WEB", ship_from=["WH1"])
    order_id = _order(channel.id, "W-1", 9)
    piotr = floor["piotr"]
    task_id = count_of()
    scan_all(task_id, piotr, "A-01", GTIN_A)  # 3 short in A-01: 7 on hand for 9 reserved
    done = complete_task(task_id, piotr)
    assert done["status"] == "done" and done["reference"]["flagged_orders"] == [order_id]
    assert level("A", "WH1") == (7, 7)
    assert db.session.get(Order, order_id).attention.startswith("Count of WH1/A-01 found fewer units: 2 x A")
    assert check_stock() == []


def test_a_count_of_a_dock_bin_touches_no_reservation(floor):
    add_stock("WH1", "DOCK", "A", 3)
    piotr = floor["piotr"]
    task_id = count_of("DOCK")
    scan_all(task_id, piotr, "DOCK", GTIN_A)
    assert complete_task(task_id, piotr)["status"] == "done"
    assert quant("DOCK", "A") == 1 and level("A", "WH1") == (0, 0)
    assert check_stock() == []


def test_a_count_task_without_a_bin_refuses_scans(floor):
    task = Task(kind="count", status="open", location_id=1, reference={})
    db.session.add(task)
    db.session.commit()
    assert get_task(task.id, floor["piotr"])["next"]["expect"] == "nothing"
    with pytest.raises(InvalidState):
        apply_scan(task.id, "c1", GTIN_A, None, floor["piotr"])


@pytest.mark.parametrize("round_", range(3))
def test_approving_while_orders_are_cancelled_and_placed_keeps_the_books_straight(pg_app, monkeypatch, round_):
    """PostgreSQL, four transactions at once: approving a count whose loss hits reserved units, cancelling two of
    the orders it hits, and placing a new order. None waits on another crosswise (no deadlock), and whatever the
    order they ran in, the ledger, levels and reservations agree."""
    import contextlib
    import threading

    from wms.errors import InsufficientStock
    from wms.orders.service import cancel_order

    fast_password_hashing(monkeypatch)
    monkeypatch.setitem(pg_app.config, "COUNT_VARIANCE_UNITS", 5)
    monkeypatch.setitem(pg_app.config, "COUNT_VARIANCE_PERCENT", 10.0)
    make_location("WH1")
    make_bin("WH1", "A-01", "pick", 1)
    make_bin("WH1", "A-02", "pick", 2)
    make_product("A", barcodes=[GTIN_A])
    add_stock("WH1", "A-01", "A", 10)
    add_stock("WH1", "A-02", "A", 10)
    create_user("piotr", "picker", "WH1", "sekret-123")
    create_user("boss", "manager", None, "sekret-123")
    channel, _token = create_channel("WEB", ship_from=["WH1"])
    orders = [_order(channel.id, f"W-{i}", 5) for i in range(3)]
    piotr = db.session.execute(select(User).where(User.username == "piotr")).scalar_one()
    task_id = count_of()
    scan_all(task_id, piotr, "A-01")
    assert complete_task(task_id, piotr)["status"] == "awaiting_approval"  # 10 lost: 10 left for 15 reserved
    db.session.remove()

    def approve():
        boss = db.session.execute(select(User).where(User.username == "boss")).scalar_one()
        approve_count(task_id, boss)

    def place():
        with contextlib.suppress(InsufficientStock):
            _order(channel.id, "W-new", 3)

    jobs = [approve, lambda: cancel_order(orders[2]), lambda: cancel_order(orders[1]), place]
    jobs = jobs[round_:] + jobs[:round_]
    barrier = threading.Barrier(len(jobs))
    crashed: list[BaseException] = []

    def run(job):
        with pg_app.app_context():
            try:
                barrier.wait(30)
                job()
            except BaseException as exc:  # noqa: BLE001 - reported below
                crashed.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a transaction hung"
    assert crashed == []
    assert db.session.get(Task, task_id).status == "done"
    on_hand, reserved = level("A", "WH1")
    assert on_hand == 10 and reserved <= on_hand
    assert check_stock() == []
