"""Returns on the service, SQLite and PostgreSQL: opened by a channel (sent back) or at a store counter; refused for
what was never bought or more than was sold; taken in with a grade and a disposition (restock at once in
availability, quarantine until a manager decides, scrap), each unit through the ledger; a retry applied once; a
walk-in at another store keeps the unit there; two clerks taking the same units in end with one intake."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import bin_contents, level, stock_snapshot
from tests.integration.races import race
from tests.integration.returns.returns_floor import make_returns_floor, shipped, users
from wms.channels.models import Channel, OutboxEvent
from wms.errors import Forbidden, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.returns.service import (
    decide_quarantined,
    get_return,
    quarantined,
    receive_return,
    request_return,
    return_view,
)
from wms.stock.models import StockMovement
from wms.stock.service import check_stock


@pytest.fixture
def floor(any_app, monkeypatch, tmp_path):
    make_returns_floor(monkeypatch, any_app, tmp_path)
    return users()


def web() -> int:
    return db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()


def view(return_id: int) -> dict:
    """The return as the API shows it now (the session's objects read again: other sessions changed them)."""
    db.session.rollback()
    db.session.expire_all()
    return return_view(get_return(return_id))


def updates(return_id: int) -> int:
    db.session.rollback()
    return db.session.execute(
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.event == "return.updated", OutboxEvent.subject_id == return_id)
    ).scalar_one()


def test_a_shipped_order_is_returned_by_post_and_restocked_at_the_warehouse(floor):
    order_id = shipped("WEB-1", (("A", 2), ("B", 1)))
    ret = request_return(order_id, "ship", [{"sku": "A", "qty": 1, "reason": "too small"}], channel_id=web())
    shown = view(ret.id)
    assert shown["status"] == "requested" and shown["method"] == "ship" and shown["location"] == "WH1"
    assert shown["rma"].startswith("RMA-") and shown["store"] is None
    assert shown["label_url"] == f"/api/v1/returns/{ret.id}/label.pdf"
    assert shown["lines"] == [
        {
            "line": 1,
            "sku": "A",
            "qty": 1,
            "reason": "too small",
            "received": 0,
            "refund_due": 0,
            "disposition": None,
            "dispositions": {},
        }
    ]
    assert [h["status"] for h in shown["history"]] == ["requested"] and updates(ret.id) == 1

    before = level("A", "WH1")
    received, applied = receive_return(
        ret.id, "in-1", "WH1", [{"sku": "A", "qty": 1, "grade": "new", "disposition": "restock"}], floor["piotr"]
    )
    assert applied
    after = view(ret.id)
    assert after["status"] == "closed" and after["refund_due"] == 1
    assert after["lines"][0]["disposition"] == "restock" and after["lines"][0]["received"] == 1
    assert [h["status"] for h in after["history"]] == ["requested", "closed"] and updates(ret.id) == 2
    # back on the shelf that holds A, sellable at once
    assert level("A", "WH1") == (before[0] + 1, before[1])
    movement = db.session.execute(
        select(StockMovement).where(StockMovement.reference == f"return:{ret.id}")
    ).scalar_one()
    assert (movement.reason, movement.qty, movement.to_status, movement.actor) == ("return", 1, "sellable", "piotr")
    assert check_stock() == []


def test_a_sku_never_bought_or_more_than_was_sold_is_refused_and_nothing_changes(floor):
    order_id = shipped("WEB-1", (("A", 2),))
    snap = stock_snapshot()
    with pytest.raises(ValidationError) as refused:
        request_return(order_id, "ship", [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 3}], channel_id=web())
    assert [e["field"] for e in refused.value.details] == ["lines[0].sku", "lines[1].qty"]
    assert "B was not bought on order" in refused.value.message
    request_return(order_id, "ship", [{"sku": "A", "qty": 1}], channel_id=web())
    with pytest.raises(ValidationError, match="only 1 unit"):
        request_return(order_id, "store", [{"sku": "A", "qty": 2}], store="ST1", channel_id=web())
    assert stock_snapshot() == snap
    db.session.rollback()
    from wms.returns.models import Return

    assert db.session.execute(select(func.count()).select_from(Return)).scalar_one() == 1


def test_an_order_not_yet_shipped_or_of_another_channel_cannot_be_returned(floor):
    from tests.integration.shipping.packing import place

    order_id = place("WEB-9", (("A", 1),))
    with pytest.raises(ValidationError):
        request_return(order_id, "ship", [{"sku": "A", "qty": 1}], channel_id=web())
    shipped_id = shipped("WEB-2", (("A", 1),))
    with pytest.raises(NotFound):
        request_return(shipped_id, "ship", [{"sku": "A", "qty": 1}], channel_id=web() + 100)
    with pytest.raises(ValidationError, match="not a store"):
        request_return(shipped_id, "store", [{"sku": "A", "qty": 1}], store="WH1", channel_id=web())


def test_a_walk_in_return_at_another_store_is_quarantined_then_scrapped_there(floor):
    order_id = shipped("WEB-1", (("A", 2),))
    # opened at ST2's counter by its clerk: the order was shipped from WH1, never touched ST2
    ret = request_return(order_id, "store", [{"sku": "A", "qty": 2}], store="ST2", user=floor["ewa"], actor="ewa")
    assert view(ret.id)["store"] == "ST2"
    before_wh1 = level("A", "WH1")
    receive_return(
        ret.id,
        "in-1",
        "ST2",
        [
            {"sku": "A", "qty": 1, "grade": "opened", "disposition": "quarantine"},
            {"sku": "A", "qty": 1, "grade": "new", "disposition": "restock"},
        ],
        floor["ewa"],
    )
    shown = view(ret.id)
    assert shown["status"] == "inspected" and shown["refund_due"] == 2
    assert shown["lines"][0]["dispositions"] == {"quarantine": 1, "restock": 1}
    assert shown["lines"][0]["disposition"] is None
    assert bin_contents("ST2", "RET") == {("A", "quarantine"): 1}
    assert bin_contents("ST2", "SHELF-1") == {("A", "sellable"): 1}
    assert level("A", "ST2") == (1, 0) and level("A", "WH1") == before_wh1

    (waiting,) = quarantined("ST2")
    assert (waiting["rma"], waiting["sku"], waiting["qty"], waiting["grade"]) == (ret.rma, "A", 1, "opened")
    with pytest.raises(Forbidden):
        decide_quarantined(waiting["item"], "scrap", floor["ewa"])
    decide_quarantined(waiting["item"], "scrap", floor["boss"])
    shown = view(ret.id)
    assert shown["status"] == "closed" and shown["lines"][0]["dispositions"] == {"scrap": 1, "restock": 1}
    assert bin_contents("ST2", "RET") == {} and quarantined() == []
    with pytest.raises(InvalidState):
        decide_quarantined(waiting["item"], "restock", floor["boss"])
    reasons = db.session.execute(
        select(StockMovement.reason, StockMovement.to_status, StockMovement.from_status)
        .where(StockMovement.reference == f"return:{ret.id}")
        .order_by(StockMovement.id)
    ).all()
    assert reasons == [("return", "quarantine", None), ("return", "sellable", None), ("scrap", None, "quarantine")]
    assert check_stock() == []


def test_a_quarantined_unit_restocked_by_a_manager_is_available_at_once(floor):
    order_id = shipped("WEB-1", (("B", 1),))
    ret = request_return(order_id, "store", [{"sku": "B", "qty": 1}], store="ST1", channel_id=web())
    receive_return(
        ret.id, "in-1", "ST1", [{"sku": "B", "qty": 1, "grade": "opened", "disposition": "quarantine"}], floor["kasia"]
    )
    assert level("B", "ST1") == (0, 0)
    (waiting,) = quarantined()
    decide_quarantined(waiting["item"], "restock", floor["boss"])
    assert level("B", "ST1") == (1, 0)
    assert view(ret.id)["status"] == "closed"
    assert check_stock() == []


def test_scrapped_units_come_in_and_leave_through_the_ledger(floor):
    order_id = shipped("WEB-1", (("A", 1),))
    ret = request_return(order_id, "ship", [{"sku": "A", "qty": 1}], channel_id=web())
    receive_return(
        ret.id, "in-1", "WH1", [{"sku": "A", "qty": 1, "grade": "damaged", "disposition": "scrap"}], floor["piotr"]
    )
    assert view(ret.id)["status"] == "closed"
    assert bin_contents("WH1", "RET") == {}
    reasons = db.session.execute(
        select(StockMovement.reason).where(StockMovement.reference == f"return:{ret.id}").order_by(StockMovement.id)
    ).scalars()
    assert list(reasons) == ["return", "scrap"]
    assert check_stock() == []


def test_an_intake_retried_with_its_id_is_applied_once(floor):
    order_id = shipped("WEB-1", (("A", 2),))
    ret = request_return(order_id, "ship", [{"sku": "A", "qty": 2}], channel_id=web())
    line = [{"sku": "A", "qty": 1, "grade": "new", "disposition": "restock"}]
    receive_return(ret.id, "in-1", "WH1", line, floor["piotr"])
    assert view(ret.id)["status"] == "received"
    snap = stock_snapshot()
    _, applied = receive_return(ret.id, "in-1", "WH1", line, floor["piotr"])
    assert not applied and stock_snapshot() == snap
    assert view(ret.id)["lines"][0]["received"] == 1


def test_bad_intakes_are_refused_and_change_nothing(floor):
    order_id = shipped("WEB-1", (("A", 2), ("B", 1)))
    ret = request_return(order_id, "ship", [{"sku": "A", "qty": 1}], channel_id=web())
    snap = stock_snapshot()
    piotr = floor["piotr"]
    with pytest.raises(ValidationError) as refused:
        receive_return(
            ret.id,
            "in-1",
            "WH1",
            [
                {"sku": "B", "qty": 1, "grade": "new", "disposition": "restock"},
                {"sku": "A", "qty": 2, "grade": "new", "disposition": "restock"},
                {"sku": "A", "qty": 1, "grade": "damaged", "disposition": "restock"},
            ],
            piotr,
        )
    assert [e["field"] for e in refused.value.details] == ["lines[0].sku", "lines[1].qty", "lines[2].disposition"]
    # another location's picker: not theirs to see; the clerk of a store: a ship return is not expected there
    with pytest.raises(NotFound):
        receive_return(
            ret.id, "in-2", "WH2", [{"sku": "A", "qty": 1, "grade": "new", "disposition": "restock"}], floor["olaf"]
        )
    with pytest.raises(NotFound):
        receive_return(
            ret.id, "in-3", "ST1", [{"sku": "A", "qty": 1, "grade": "new", "disposition": "restock"}], floor["kasia"]
        )
    # a manager may take it in anywhere it is expected, not elsewhere
    with pytest.raises(ValidationError, match="expected at WH1"):
        receive_return(
            ret.id, "in-4", "WH2", [{"sku": "A", "qty": 1, "grade": "new", "disposition": "restock"}], floor["boss"]
        )
    assert stock_snapshot() == snap and view(ret.id)["status"] == "requested"


def test_a_clerk_opens_returns_only_at_their_own_store(floor):
    order_id = shipped("WEB-1", (("A", 1),))
    with pytest.raises(Forbidden):
        request_return(order_id, "store", [{"sku": "A", "qty": 1}], store="ST1", user=floor["ewa"])
    with pytest.raises(Forbidden):
        request_return(order_id, "ship", [{"sku": "A", "qty": 1}], user=floor["ewa"])


def test_two_clerks_taking_in_the_same_units_end_with_one_intake(any_app, floor):
    order_id = shipped("WEB-1", (("A", 2),))
    ret = request_return(order_id, "store", [{"sku": "A", "qty": 2}], store="ST1", channel_id=web())
    line = [{"sku": "A", "qty": 2, "grade": "new", "disposition": "restock"}]

    def clerk(name: str, client_id: str):
        def call():
            user = users()[name]
            return receive_return(ret.id, client_id, user.location.code, line, user)

        return call

    outcomes = race(any_app, clerk("kasia", "k-1"), clerk("ewa", "e-1"))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], InvalidState | ValidationError), outcomes
    shown = view(ret.id)
    assert shown["status"] == "closed" and shown["lines"][0]["received"] == 2
    assert level("A", "ST1")[0] + level("A", "ST2")[0] == 2
    assert check_stock() == []
