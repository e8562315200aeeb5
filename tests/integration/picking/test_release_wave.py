"""release_wave on SQLite and PostgreSQL: due lines placed on bins (split over bins, oldest lot first, pick bins
before bulk, units other open picks hold left alone), grouped into pick tasks by zone under one wave; orders go
picking with a history event and an outbox row; named orders, max_orders, urgent orders; refusals change nothing;
a second wave never takes what the first one took."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import add_stock, make_bin, make_product, make_world, order_body
from tests.integration.races import race
from wms.catalog.models import Product
from wms.channels.models import Channel, OutboxEvent
from wms.errors import InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import Order, OrderEvent
from wms.orders.service import cancel_order, place_order
from wms.picking.models import Wave
from wms.picking.service import picklist_data, picklist_pdf, release_wave, set_urgent
from wms.stock.service import receive
from wms.tasks.models import Task, TaskLine


@pytest.fixture
def web(any_app) -> int:
    """WH1 (zone A: bulk A-00 seq 0, pick A-01 seq 1, pick A-02 seq 2; bulk B-01 seq 10; zone C: pick C-01 seq 20)
    with no stock yet; products A and B; channel WEB ships from WH1 first."""
    make_world(stock_a=0, stock_b=0)
    make_bin("WH1", "A-00", "bulk", 0)
    make_bin("WH1", "C-01", "pick", 20)
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    db.session.rollback()
    return channel_id


def order(channel_id: int, external_id: str, lines) -> int:
    placed, _ = place_order(channel_id, order_body(external_id, lines=lines))
    return placed.id


def count(model, *where) -> int:
    n = db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    db.session.rollback()
    return n


def bins() -> dict[int, str]:
    rows = db.session.execute(
        select(Bin.id, Bin.code).join(Location, Location.id == Bin.location_id).where(Location.code == "WH1")
    ).all()
    return dict(rows)


def tasks_of(wave: dict) -> list[dict]:
    """The wave's tasks: reference and lines as (line_no, bin, qty, lot, order id), in id order."""
    names = bins()
    out = []
    for task_id in wave["tasks"]:
        task = db.session.get(Task, task_id)
        out.append(
            {
                "kind": task.kind,
                "status": task.status,
                "reference": task.reference,
                "lines": [(line.line_no, names[line.bin_id], line.qty, line.lot, line.order_id) for line in task.lines],
            }
        )
    db.session.rollback()
    return out


def hold(sku: str, bin_code: str, qty: int, *, done: int = 0, short: int = 0, status: str = "open") -> None:
    """Another open pick task (not of a wave: a transfer's, say) holding ``qty`` units of a WH1 bin."""
    location_id = db.session.execute(select(Location.id).where(Location.code == "WH1")).scalar_one()
    product_id = db.session.execute(select(Product.id).where(Product.sku == sku)).scalar_one()
    bin_id = {code: bin_id for bin_id, code in bins().items()}[bin_code]
    task = Task(kind="pick", status=status, location_id=location_id, reference={})
    task.lines.append(
        TaskLine(line_no=1, product_id=product_id, qty=qty, done=done, short=short, bin_id=bin_id, lot="")
    )
    db.session.add(task)
    db.session.commit()


def status(order_id: int) -> str:
    value = db.session.get(Order, order_id).status
    db.session.rollback()
    return value


def test_due_lines_become_pick_tasks_per_zone_in_walk_order(web):
    add_stock("WH1", "A-02", "A", 5)
    add_stock("WH1", "C-01", "B", 5)
    first = order(web, "WEB-1", [("A", 2), ("B", 1)])
    second = order(web, "WEB-2", [("A", 1)])

    wave = release_wave("WH1", actor="boss", device="pc-1")

    assert wave["location"] == "WH1" and wave["orders"] == [first, second]
    tasks = tasks_of(wave)
    assert [t["reference"] for t in tasks] == [
        {"wave": wave["id"], "zone": "A", "orders": [first, second]},
        {"wave": wave["id"], "zone": "C", "orders": [first]},
    ]
    assert all(t["kind"] == "pick" and t["status"] == "open" for t in tasks)
    assert tasks[0]["lines"] == [(1, "A-02", 2, "", first), (2, "A-02", 1, "", second)]
    assert tasks[1]["lines"] == [(1, "C-01", 1, "", first)]
    # Each task line names the order line it is picked against.
    lines = db.session.execute(select(TaskLine.order_line_id)).scalars().all()
    assert None not in lines and len(set(lines)) == 3
    db.session.rollback()
    wave_row = db.session.get(Wave, wave["id"])
    assert (wave_row.actor, wave_row.device) == ("boss", "pc-1")
    db.session.rollback()


def test_the_orders_go_picking_with_an_event_and_an_outbox_row(web):
    add_stock("WH1", "A-01", "A", 5)
    order_id = order(web, "WEB-1", [("A", 2)])
    outbox_before = count(OutboxEvent, OutboxEvent.event == "order.updated", OutboxEvent.subject_id == order_id)

    release_wave("WH1", actor="boss", device="pc-1")

    assert status(order_id) == "picking"
    event = db.session.execute(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id.desc()).limit(1)
    ).scalar_one()
    assert (event.status, event.actor, event.device) == ("picking", "boss", "pc-1")
    db.session.rollback()
    outbox_after = count(OutboxEvent, OutboxEvent.event == "order.updated", OutboxEvent.subject_id == order_id)
    assert outbox_after == outbox_before + 1


def test_a_line_splits_over_bins_pick_bins_before_bulk_then_walk_order(web):
    add_stock("WH1", "A-00", "A", 5)  # bulk, first in the walk
    add_stock("WH1", "A-02", "A", 2)
    add_stock("WH1", "A-01", "A", 3)
    order_id = order(web, "WEB-1", [("A", 6)])

    wave = release_wave("WH1")

    # Pick bins A-01 (3) and A-02 (2) are emptied first, the bulk bin gives the last unit; the task walks A-00 first.
    [task] = tasks_of(wave)
    assert task["lines"] == [(1, "A-00", 1, "", order_id), (2, "A-01", 3, "", order_id), (3, "A-02", 2, "", order_id)]


def test_lots_with_the_oldest_expiry_are_picked_first(web):
    make_product("L", track_lots=True)
    receive("WH1", "A-01", "R-1", [{"sku": "L", "qty": 4, "lot": "LATE", "expiry": date(2031, 1, 1)}])
    receive("WH1", "A-02", "R-2", [{"sku": "L", "qty": 2, "lot": "SOON", "expiry": date(2030, 1, 1)}])
    receive("WH1", "A-02", "R-3", [{"sku": "L", "qty": 2, "lot": "NONE"}])
    order_id = order(web, "WEB-1", [("L", 5)])

    wave = release_wave("WH1")

    [task] = tasks_of(wave)
    # SOON (2030) before LATE (2031); the lot without an expiry is not needed.
    assert sorted(task["lines"]) == [(1, "A-01", 3, "LATE", order_id), (2, "A-02", 2, "SOON", order_id)]


def test_units_held_by_other_open_picks_are_not_free(web):
    add_stock("WH1", "A-01", "A", 5)
    add_stock("WH1", "A-02", "A", 5)
    # Another pick task holds 4 of A-01's 5 units (6 asked, 1 picked already, 1 short): 1 is free.
    hold("A", "A-01", 6, done=1, short=1, status="in_progress")
    order_id = order(web, "WEB-1", [("A", 4)])

    wave = release_wave("WH1")

    [task] = tasks_of(wave)
    assert task["lines"] == [(1, "A-01", 1, "", order_id), (2, "A-02", 3, "", order_id)]


def test_units_that_fit_no_bin_stay_due(web):
    add_stock("WH1", "A-01", "A", 5)
    order_id = order(web, "WEB-1", [("A", 4)])
    # Three of the five units are held by another open pick: the wave takes two, two stay due.
    hold("A", "A-01", 3)

    wave = release_wave("WH1")

    [task] = tasks_of(wave)
    assert task["lines"] == [(1, "A-01", 2, "", order_id)]
    # The two left: due still, but no bin has them free.
    with pytest.raises(ValidationError, match="no free units"):
        release_wave("WH1")


def test_a_second_wave_does_not_take_again_what_the_first_took(web):
    add_stock("WH1", "A-01", "A", 5)
    first = order(web, "WEB-1", [("A", 2)])
    wave_1 = release_wave("WH1")
    second = order(web, "WEB-2", [("A", 3)])

    wave_2 = release_wave("WH1")

    assert wave_1["orders"] == [first] and wave_2["orders"] == [second]
    assert tasks_of(wave_2)[0]["lines"] == [(1, "A-01", 3, "", second)]
    with pytest.raises(ValidationError, match="no order is due"):
        release_wave("WH1")
    assert count(Wave) == 2


def test_named_orders_only(web):
    add_stock("WH1", "A-01", "A", 9)
    first = order(web, "WEB-1", [("A", 1)])
    second = order(web, "WEB-2", [("A", 1)])
    third = order(web, "WEB-3", [("A", 1)])

    wave = release_wave("WH1", order_ids=[third, first])

    assert sorted(wave["orders"]) == [first, third]
    assert status(second) == "reserved" and status(first) == "picking"


def test_named_orders_not_due_there_are_listed_and_nothing_changes(web):
    add_stock("WH1", "A-01", "A", 9)
    add_stock("WH2", "A-01", "B", 9)
    due = order(web, "WEB-1", [("A", 1)])
    elsewhere = order(web, "WEB-2", [("B", 1)])  # reserved at WH2
    cancelled = order(web, "WEB-3", [("A", 1)])
    cancel_order(cancelled)

    with pytest.raises(ValidationError) as refused:
        release_wave("WH1", order_ids=[due, elsewhere, cancelled, 999_999])

    assert refused.value.details == [
        {"field": "orders", "message": f"not due at WH1: {elsewhere}, {cancelled}, 999999"}
    ]
    assert count(Wave) == 0 and count(Task) == 0 and status(due) == "reserved"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"location_code": "NOPE"}, "location"),
        ({"location_code": "WH1", "max_orders": 0}, "max_orders"),
        ({"location_code": "WH1", "max_orders": 51}, "max_orders"),
        ({"location_code": "WH1", "order_ids": []}, "orders"),
        ({"location_code": "WH1", "order_ids": [0]}, "orders"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(web, kwargs, field):
    add_stock("WH1", "A-01", "A", 9)
    order_id = order(web, "WEB-1", [("A", 1)])

    with pytest.raises(ValidationError) as refused:
        release_wave(**kwargs)

    assert refused.value.details[0]["field"] == field
    assert count(Wave) == 0 and count(Task) == 0 and status(order_id) == "reserved"


def test_nothing_due_is_refused_and_changes_nothing(web):
    add_stock("WH1", "A-01", "A", 9)
    cancel_order(order(web, "WEB-1", [("A", 1)]))
    events = count(OrderEvent)

    with pytest.raises(ValidationError, match="no order is due for picking at WH1"):
        release_wave("WH1")

    assert count(Wave) == 0 and count(Task) == 0 and count(OrderEvent) == events


def test_max_orders_is_the_totes_per_task(web):
    add_stock("WH1", "A-01", "A", 9)
    ids = [order(web, f"WEB-{i}", [("A", 1)]) for i in range(1, 4)]

    wave = release_wave("WH1", max_orders=2)

    assert [t["reference"]["orders"] for t in tasks_of(wave)] == [ids[:2], ids[2:]]


def test_an_urgent_order_jumps_the_queue(web):
    add_stock("WH1", "A-01", "A", 1)  # one unit for two orders' lines: the urgent order gets it
    add_stock("WH1", "A-02", "B", 9)
    old = order(web, "WEB-1", [("B", 1)])
    new = order(web, "WEB-2", [("B", 1)])
    set_urgent(new, True, actor="boss")

    wave = release_wave("WH1", max_orders=1)

    assert wave["orders"] == [new, old]
    assert [t["reference"]["orders"] for t in tasks_of(wave)] == [[new], [old]]


def test_scarce_bin_units_go_to_the_urgent_order_first(web):
    add_stock("WH1", "A-01", "A", 2)
    old = order(web, "WEB-1", [("A", 1)])
    new = order(web, "WEB-2", [("A", 1)])
    # One of the two units is held by another pick: one is free, for the urgent order.
    hold("A", "A-01", 1)
    set_urgent(new, True)

    wave = release_wave("WH1")

    assert wave["orders"] == [new]
    assert status(old) == "reserved"


def test_set_urgent_refuses_unknown_and_finished_orders(web):
    add_stock("WH1", "A-01", "A", 9)
    order_id = order(web, "WEB-1", [("A", 1)])
    with pytest.raises(NotFound):
        set_urgent(999_999, True)
    cancel_order(order_id)
    with pytest.raises(InvalidState):
        set_urgent(order_id, True)
    assert db.session.get(Order, order_id).urgent is False
    db.session.rollback()


def test_the_pick_list_of_a_wave(web):
    add_stock("WH1", "A-01", "A", 9)
    add_stock("WH1", "C-01", "B", 9)
    first = order(web, "WEB-1", [("A", 2), ("B", 1)])
    order(web, "WEB-2", [("A", 1)])
    wave = release_wave("WH1")

    documents = picklist_data(wave["id"])

    assert [d["wave"] for d in documents] == [str(wave["id"])] * 2
    assert "zone A" in documents[0]["location"] and "zone C" in documents[1]["location"]
    assert documents[0]["lines"] == [
        {"sku": "A", "name": "Product A", "qty": 2, "bin": "A-01", "order": "1 · WEB-1"},
        {"sku": "A", "name": "Product A", "qty": 1, "bin": "A-01", "order": "2 · WEB-2"},
    ]
    assert first in wave["orders"]
    assert picklist_pdf(wave["id"]).startswith(b"%PDF")
    with pytest.raises(NotFound):
        picklist_data(wave["id"] + 1)


@pytest.mark.parametrize("round_", range(3))
def test_a_cancel_racing_a_release_leaves_the_order_cancelled(any_app, web, round_):
    add_stock("WH1", "A-01", "A", 5)
    order_id = order(web, "WEB-1", [("A", 2)])

    released, _cancelled = race(any_app, lambda: release_wave("WH1"), lambda: cancel_order(order_id))

    assert status(order_id) == "cancelled"
    history = [e.status for e in db.session.get(Order, order_id).events]
    db.session.rollback()
    assert history[-1] == "cancelled"
    if isinstance(released, dict):  # the release went first: the order was picking when it was cancelled
        assert history == ["reserved", "picking", "cancelled"]
    else:  # the cancel went first: nothing was due
        assert isinstance(released, ValidationError) and count(Task) == 0 and history == ["reserved", "cancelled"]


def test_two_releases_at_once_never_take_the_same_units(any_app, web):
    add_stock("WH1", "A-01", "A", 3)
    order(web, "WEB-1", [("A", 2)])
    order(web, "WEB-2", [("A", 1)])

    results = race(any_app, lambda: release_wave("WH1"), lambda: release_wave("WH1"))

    assert sorted(type(r).__name__ for r in results) == ["ValidationError", "dict"]
    assert db.session.execute(select(func.sum(TaskLine.qty))).scalar_one() == 3
    db.session.rollback()
