"""Replenishment suggestions: below min, up to max, from the first source that has any, never the same units twice."""

from wms.transfers.rules import Need, Suggestion, suggest


def test_below_min_is_brought_up_to_max_from_the_first_source_with_stock():
    needs = [Need("ST1", "A", min_qty=5, max_qty=12, available=2, incoming=1)]
    assert suggest(needs, {"A": [("WH1", 0), ("WH2", 40)]}) == [Suggestion("ST1", "A", "WH2", 9, 3, 5, 12)]


def test_at_or_above_min_nothing_and_what_is_coming_counts():
    assert suggest([Need("ST1", "A", 5, 10, 5, 0)], {"A": [("WH1", 9)]}) == []
    assert suggest([Need("ST1", "A", 5, 10, 1, 4)], {"A": [("WH1", 9)]}) == []


def test_a_source_gives_what_it_has_once_and_never_to_itself():
    needs = [Need("ST1", "A", 5, 10, 0, 0), Need("ST2", "A", 5, 10, 0, 0), Need("WH1", "A", 1, 2, 0, 0)]
    got = suggest(needs, {"A": [("WH1", 12), ("ST2", 3)]})
    assert [(s.location, s.source, s.qty) for s in got] == [("ST1", "WH1", 10), ("ST2", "WH1", 2), ("WH1", "ST2", 2)]


def test_nowhere_to_send_from_is_said():
    (only,) = suggest([Need("ST1", "B", 1, 3, 0, 0)], {})
    assert only.source is None and only.qty == 0
