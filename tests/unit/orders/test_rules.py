import pytest

from wms.orders.rules import Allocation, Candidate, NotEnoughStock, route_pickup, route_ship

WH1, WH2, ST1, ST2 = 1, 2, 3, 4
A, B, C = 10, 20, 30


def test_ship_order_from_one_location_when_it_covers_everything():
    available = {(A, WH1): 5, (B, WH1): 1, (A, WH2): 10, (B, WH2): 10}
    allocations = route_ship([(A, 2), (B, 2)], [Candidate(WH1), Candidate(WH2)], available)
    # WH1 is preferred but cannot take B whole; WH2 takes everything: no split.
    assert allocations == [Allocation(0, WH2, 2), Allocation(1, WH2, 2)]


def test_ship_order_prefers_priority_order():
    available = {(A, WH1): 5, (A, WH2): 5}
    assert route_ship([(A, 3)], [Candidate(WH1), Candidate(WH2)], available) == [Allocation(0, WH1, 3)]


def test_ship_order_splits_lines_over_fewest_locations():
    available = {(A, WH1): 5, (B, WH2): 5, (B, ST2): 5, (C, WH2): 1}
    allocations = route_ship([(A, 2), (B, 2), (C, 1)], [Candidate(WH1), Candidate(WH2), Candidate(ST2)], available)
    assert {a.location_id for a in allocations} == {WH1, WH2}


def test_ship_line_split_when_no_location_has_it_whole():
    available = {(A, WH1): 2, (A, ST2): 3}
    allocations = route_ship([(A, 4)], [Candidate(WH1), Candidate(ST2)], available)
    assert allocations == [Allocation(0, WH1, 2), Allocation(0, ST2, 2)]


def test_shortage_lists_every_short_line():
    available = {(A, WH1): 1, (B, WH1): 0, (C, WH1): 9}
    with pytest.raises(NotEnoughStock) as short:
        route_ship([(A, 2), (B, 1), (C, 1)], [Candidate(WH1)], available)
    assert [(s.line_index, s.requested, s.available) for s in short.value.shortages] == [(0, 2, 1), (1, 1, 0)]


def test_repeated_product_counts_together():
    with pytest.raises(NotEnoughStock):
        route_ship([(A, 2), (A, 2)], [Candidate(WH1)], {(A, WH1): 3})


def test_negative_figures_are_treated_as_nothing():
    with pytest.raises(NotEnoughStock):
        route_ship([(A, 1)], [Candidate(WH1)], {(A, WH1): -5})


def test_pickup_from_store_shelf_when_it_has_the_line():
    available = {(A, ST1): 2, (A, WH1): 50}
    assert route_pickup([(A, 2)], ST1, [WH1], available) == [Allocation(0, ST1, 2, False)]


def test_pickup_from_warehouse_with_transfer_otherwise():
    available = {(A, ST1): 1, (A, WH1): 50, (B, ST1): 4}
    allocations = route_pickup([(A, 2), (B, 1)], ST1, [WH1], available)
    assert allocations == [Allocation(0, WH1, 2, True), Allocation(1, ST1, 1, False)]


def test_pickup_split_between_shelf_and_warehouse_when_neither_has_it_whole():
    available = {(A, ST1): 1, (A, WH1): 1, (A, WH2): 1}
    allocations = route_pickup([(A, 3)], ST1, [WH1, WH2], available)
    assert allocations == [Allocation(0, ST1, 1, False), Allocation(0, WH1, 1, True), Allocation(0, WH2, 1, True)]


def test_pickup_short():
    with pytest.raises(NotEnoughStock):
        route_pickup([(A, 3)], ST1, [WH1], {(A, ST1): 1, (A, WH1): 1})


def test_the_safety_buffer_is_held_back_from_delivery_orders():
    available = {(A, WH1): 3, (A, WH2): 2}
    candidates = [Candidate(WH1), Candidate(WH2)]
    # 5 on hand, buffer 2: the channel may sell 3 (what its availability showed), not 4
    assert route_ship([(A, 3)], candidates, available, buffer=2) == [Allocation(0, WH1, 3)]
    with pytest.raises(NotEnoughStock) as short:
        route_ship([(A, 4)], candidates, available, buffer=2)
    assert [(s.requested, s.available) for s in short.value.shortages] == [(4, 3)]
    with pytest.raises(NotEnoughStock) as short:
        route_ship([(A, 1)], candidates, available, buffer=9)
    assert short.value.shortages[0].available == 0
