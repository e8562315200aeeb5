"""The pure rules of returns: what may be asked back, what an intake may take in, the status it leaves."""

from __future__ import annotations

import pytest

from wms.errors import ValidationError
from wms.returns.rules import Asked, Bought, Intake, LineState, plan_intake, plan_request, status_after

BOUGHT = [Bought(11, 1, "A", sold=2, on_returns=0), Bought(12, 1, "A", sold=1, on_returns=1), Bought(13, 2, "B", 3, 0)]


def test_a_request_takes_units_from_the_lines_that_sold_them_first_line_first():
    planned = plan_request(7, BOUGHT, [Asked("A", 2, "too big"), Asked("B", 1)])
    assert [(p.order_line_id, p.sku, p.qty, p.reason) for p in planned] == [(11, "A", 2, "too big"), (13, "B", 1, "")]


def test_units_on_returns_already_are_not_returnable_twice():
    planned = plan_request(7, [Bought(11, 1, "A", 3, 1), Bought(12, 1, "A", 2, 0)], [Asked("A", 4)])
    assert [(p.order_line_id, p.qty) for p in planned] == [(11, 2), (12, 2)]
    with pytest.raises(ValidationError) as refused:
        plan_request(7, BOUGHT, [Asked("A", 3)])  # 2 + (1 - 1) returnable
    assert refused.value.details == [
        {"field": "lines[0].qty", "message": "only 2 unit(s) of A were sold on order 7 and are not on a return yet"}
    ]


def test_every_bad_line_is_named_at_once():
    with pytest.raises(ValidationError) as refused:
        plan_request(7, BOUGHT, [Asked("Z", 1), Asked("B", 4), Asked("A", 1)])
    assert [e["field"] for e in refused.value.details] == ["lines[0].sku", "lines[1].qty"]
    assert "Z was not bought on order 7" in refused.value.message


def test_the_same_sku_asked_twice_counts_both_asks():
    with pytest.raises(ValidationError):
        plan_request(7, BOUGHT, [Asked("A", 2), Asked("A", 1)])


LINES = [LineState(1, "A", 2, received=1), LineState(2, "B", 1, received=0)]


def test_an_intake_is_spread_over_the_lines_still_expecting_units():
    items = plan_intake("RMA-X", LINES, [Intake("A", 1, "new", "restock"), Intake("B", 1, "opened", "quarantine")])
    assert [(i.return_line_id, i.qty, i.grade, i.disposition) for i in items] == [
        (1, 1, "new", "restock"),
        (2, 1, "opened", "quarantine"),
    ]


def test_an_intake_refuses_unknown_skus_extra_units_and_restocking_damage():
    with pytest.raises(ValidationError) as refused:
        plan_intake(
            "RMA-X",
            LINES,
            [Intake("Z", 1, "new", "restock"), Intake("A", 2, "new", "restock"), Intake("B", 1, "damaged", "restock")],
        )
    assert [e["field"] for e in refused.value.details] == ["lines[0].sku", "lines[1].qty", "lines[2].disposition"]
    assert "return RMA-X expects 1 more unit(s) of A" in refused.value.message


@pytest.mark.parametrize(
    ("expected", "received", "waiting", "status"),
    [(3, 0, 0, "requested"), (3, 1, 0, "received"), (3, 2, 1, "received"), (3, 3, 1, "inspected"), (3, 3, 0, "closed")],
)
def test_the_status_follows_the_units(expected, received, waiting, status):
    assert status_after(expected, received, waiting) == status
