import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wms.picking.rules import DueLine, OrderRef, WaveOptions, build_waves, zone_of

T0 = datetime(2026, 12, 1, 8, 0)
WH1, WH2 = 1, 2


def line(order_id, line_id, bin_code="A-01-1", walk_seq=1, *, location=WH1, minutes=0, **kw):
    return DueLine(
        order_id=order_id,
        line_id=line_id,
        product_id=kw.pop("product_id", 100 + line_id),
        qty=kw.pop("qty", 1),
        location_id=location,
        bin_code=bin_code,
        walk_seq=walk_seq,
        order_created_at=T0 + timedelta(minutes=minutes),
        **kw,
    )


def ids(task):
    return tuple(order.id for order in task.orders)


def order_sequence(tasks):
    return [order_id for task in tasks for order_id in ids(task)]


def test_zone_is_the_bin_codes_first_part():
    assert zone_of("A-03-2") == "A"
    assert zone_of("MEZZ-1") == "MEZZ"
    assert zone_of("DOCK") == "DOCK"


def test_one_order_one_task_in_walk_order():
    tasks = build_waves([line(1, 1, "A-09-1", 90), line(1, 2, "A-01-1", 10), line(1, 3, "A-05-1", 50)])
    assert len(tasks) == 1
    assert [p.due.bin_code for p in tasks[0].lines] == ["A-01-1", "A-05-1", "A-09-1"]
    assert tasks[0].orders == (OrderRef("order", 1),)
    assert {p.tote_slot for p in tasks[0].lines} == {1}


def test_walk_sequence_ties_broken_by_bin_code_then_slot():
    tasks = build_waves([line(2, 1, "A-02", 5), line(1, 2, "A-01", 5, minutes=-1), line(2, 3, "A-01", 5)])
    assert [(p.due.bin_code, p.tote_slot) for p in tasks[0].lines] == [("A-01", 1), ("A-01", 2), ("A-02", 2)]


def test_priority_urgent_then_waiting_store_then_cut_off_then_age():
    lines = [
        line(1, 1, minutes=0),  # oldest, no cut-off
        line(2, 2, minutes=5, ship_by=T0 + timedelta(hours=5)),
        line(3, 3, minutes=6, ship_by=T0 + timedelta(hours=2)),
        line(4, 4, minutes=9, fulfilment="pickup", store_waiting=True),
        line(5, 5, minutes=10, urgent=True),
        line(6, 6, minutes=1, fulfilment="pickup", store_waiting=False),  # a pickup nobody waits for: by age
    ]
    tasks = build_waves(lines, WaveOptions(max_orders=1))
    assert order_sequence(tasks) == [5, 4, 3, 2, 1, 6]


def test_equal_orders_come_out_by_order_id():
    tasks = build_waves([line(9, 1), line(3, 2), line(7, 3)], WaveOptions(max_orders=1))
    assert order_sequence(tasks) == [3, 7, 9]


def test_an_order_is_urgent_when_any_of_its_lines_is():
    tasks = build_waves([line(1, 1), line(2, 2, minutes=5), line(2, 3, "A-02", 2, minutes=5, urgent=True)])
    assert ids(tasks[0]) == (2, 1)


def test_cluster_gives_each_order_its_own_tote_slot_in_priority_order():
    lines = [line(order, order * 10 + i, f"A-0{i}", i, minutes=-order) for order in (1, 2, 3) for i in (1, 2)]
    (task,) = build_waves(lines, WaveOptions(max_orders=3))
    assert ids(task) == (3, 2, 1)  # the oldest (created first) first
    for pick in task.lines:
        assert pick.tote_slot == task.tote_slot(pick.due.ref)


def test_cluster_size_splits_into_tasks():
    lines = [line(order, order, minutes=order) for order in range(1, 8)]
    tasks = build_waves(lines, WaveOptions(max_orders=3))
    assert [ids(task) for task in tasks] == [(1, 2, 3), (4, 5, 6), (7,)]


def test_max_lines_closes_a_task_before_an_order_that_does_not_fit():
    lines = [line(1, 1), line(1, 2, "A-02", 2), line(2, 3, minutes=1), line(2, 4, "A-02", 2, minutes=1)]
    tasks = build_waves(lines, WaveOptions(max_orders=5, max_lines=3))
    assert [ids(task) for task in tasks] == [(1,), (2,)]


def test_an_order_bigger_than_max_lines_is_split_in_walk_order():
    lines = [line(1, i, f"A-{i:02}", i) for i in range(5, 0, -1)]
    tasks = build_waves(lines, WaveOptions(max_lines=2))
    assert [[p.due.walk_seq for p in task.lines] for task in tasks] == [[1, 2], [3, 4], [5]]
    assert all(ids(task) == (1,) for task in tasks)


def test_zones_and_locations_are_never_mixed():
    lines = [
        line(1, 1, "A-01", 1),
        line(1, 2, "B-01", 2),
        line(2, 3, "A-02", 3, location=WH2),
    ]
    tasks = build_waves(lines)
    assert [(t.location_id, t.zone, ids(t)) for t in tasks] == [(WH1, "A", (1,)), (WH1, "B", (1,)), (WH2, "A", (2,))]


def test_tasks_of_a_location_come_in_the_priority_of_their_first_order():
    lines = [line(1, 1, "A-01", minutes=0), line(2, 2, "B-01", minutes=5, urgent=True)]
    assert [t.zone for t in build_waves(lines)] == ["B", "A"]


def test_an_order_and_a_transfer_with_the_same_id_get_a_tote_each():
    lines = [line(5, 1, "A-01", 1), line(5, 1, "A-02", 2, source="transfer", minutes=-3)]
    (task,) = build_waves(lines)
    assert task.orders == (OrderRef("transfer", 5), OrderRef("order", 5))
    assert [p.tote_slot for p in task.lines] == [2, 1]


def test_nothing_due_is_no_task():
    assert build_waves([]) == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (dict(qty=0), "qty"),
        (dict(bin_code=""), "bin_code"),
        (dict(fulfilment="drone"), "fulfilment"),
        (dict(source="invoice"), "source"),
    ],
)
def test_bad_lines_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        build_waves([line(1, 1, **{"bin_code": bad.pop("bin_code", "A-01")}, **bad)])


def test_a_line_given_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        build_waves([line(1, 1), line(1, 1)])


@pytest.mark.parametrize("options", [dict(max_orders=0), dict(max_orders=True), dict(max_lines=0)])
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError, match="max_"):
        WaveOptions(**options)


# --- properties ---------------------------------------------------------------------------------------------


@st.composite
def due_lines(draw):
    count = draw(st.integers(0, 60))
    orders = draw(st.integers(1, 12))
    result = []
    for line_id in range(1, count + 1):
        order_id = draw(st.integers(1, orders))
        zone = draw(st.sampled_from(["A", "B", "C"]))
        walk = draw(st.integers(0, 20))
        ship_by = draw(st.none() | st.integers(0, 600).map(lambda m: T0 + timedelta(minutes=m)))
        result.append(
            DueLine(
                order_id=order_id,
                line_id=line_id,
                product_id=draw(st.integers(1, 5)),
                qty=draw(st.integers(1, 5)),
                location_id=draw(st.sampled_from([WH1, WH2])),
                bin_code=f"{zone}-{walk:02}-{draw(st.integers(1, 3))}",
                walk_seq=walk,
                # per-order attributes drawn per line on purpose: the rule must cope with lines that disagree
                order_created_at=T0 + timedelta(minutes=order_id * 7 % 11),
                fulfilment=draw(st.sampled_from(["ship", "pickup"])),
                store_waiting=draw(st.booleans()),
                ship_by=ship_by,
                urgent=draw(st.booleans()),
                source=draw(st.sampled_from(["order", "order", "transfer"])),
            )
        )
    return result


options_strategy = st.builds(WaveOptions, max_orders=st.integers(1, 6), max_lines=st.none() | st.integers(1, 8))


@settings(max_examples=100, deadline=None)
@given(due_lines(), options_strategy)
def test_every_line_in_exactly_one_task(lines, options):
    tasks = build_waves(lines, options)
    placed = [(p.due.ref, p.due.line_id) for task in tasks for p in task.lines]
    assert sorted(placed) == sorted((d.ref, d.line_id) for d in lines)
    assert all(task.lines for task in tasks)


@settings(max_examples=100, deadline=None)
@given(due_lines(), options_strategy)
def test_tasks_are_walks_of_one_location_and_zone_within_the_limits(lines, options):
    for task in build_waves(lines, options):
        walk = [(p.due.walk_seq, p.due.bin_code) for p in task.lines]
        assert walk == sorted(walk)
        assert {p.due.location_id for p in task.lines} == {task.location_id}
        assert {zone_of(p.due.bin_code) for p in task.lines} == {task.zone}
        assert len(task.orders) <= options.max_orders
        assert len(set(task.orders)) == len(task.orders)
        if options.max_lines is not None:
            assert len(task.lines) <= options.max_lines
        # one tote slot per order, and every order of the task has lines in it
        assert {p.due.ref: p.tote_slot for p in task.lines} == {o: i for i, o in enumerate(task.orders, 1)}


@settings(max_examples=60, deadline=None)
@given(due_lines(), options_strategy, st.randoms(use_true_random=False))
def test_the_input_order_does_not_matter(lines, options, rnd: random.Random):
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    assert build_waves(shuffled, options) == build_waves(lines, options)


@settings(max_examples=60, deadline=None)
@given(due_lines())
def test_an_urgent_order_is_in_the_first_task_of_each_of_its_zones(lines):
    urgent = {d.ref for d in lines if d.urgent}
    first_task = {}
    for task in build_waves(lines, WaveOptions(max_orders=1)):
        first_task.setdefault((task.location_id, task.zone), task)
    for (location, zone), task in first_task.items():
        urgent_here = {d.ref for d in lines if d.ref in urgent and (d.location_id, d.zone) == (location, zone)}
        if urgent_here:
            assert task.orders[0] in urgent_here
