"""Races on the floor, on SQLite and PostgreSQL: two pickers reach for the last unit of a bin; a pick races a cancel
of its order. Whoever wins, the ledger and the levels agree (``check_stock``), and the loser gets a clear error."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import fast_password_hashing
from tests.integration.races import race
from tests.integration.tasks.pick_floor import GTIN, make_floor, order, pick_task, reload_order
from wms.auth.models import User
from wms.errors import WMSError
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.stock.models import Reservation, StockLevel, StockMovement
from wms.stock.service import check_stock
from wms.tasks.kinds.pick import cancel_order_and_work
from wms.tasks.models import Task, TaskLine
from wms.tasks.service import apply_scan


@pytest.fixture
def floor(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    return make_floor()


def reserved_rows_agree() -> None:
    """Every level's reserved equals the sum of its open reservation rows."""
    db.session.expire_all()
    levels = dict(
        ((p, loc), r)
        for p, loc, r in db.session.execute(select(StockLevel.product_id, StockLevel.location_id, StockLevel.reserved))
    )
    rows = dict(
        ((p, loc), q)
        for p, loc, q in db.session.execute(
            select(Reservation.product_id, Reservation.location_id, func.sum(Reservation.open_qty)).group_by(
                Reservation.product_id, Reservation.location_id
            )
        )
    )
    assert {key: value for key, value in levels.items() if value} == {k: v for k, v in rows.items() if v}


def test_two_pickers_on_the_last_unit_of_a_bin(floor, any_app):
    # A-01 holds 3 units of A; B-01 holds 4. Two orders of 3 each: by the wave the second goes to B-01, but here
    # both tasks are made to take A-01 (as two waves released at once could), so the last units are fought over.
    first, second = order(floor, "W-1", [("A", 3)]), order(floor, "W-2", [("A", 3)])
    tasks = [pick_task([first]), pick_task([second])]
    a01 = db.session.execute(
        select(Bin.id).join(Location, Location.id == Bin.location_id).where(Location.code == "WH1", Bin.code == "A-01")
    ).scalar_one()  # WH2 has an A-01 too
    for line in db.session.execute(select(TaskLine).where(TaskLine.task_id.in_(tasks))).scalars():
        line.bin_id = a01
    db.session.commit()
    users = [floor["piotr"], floor["anna"]]
    for task_id, user, tote in zip(tasks, users, ("T-1", "T-2"), strict=True):
        apply_scan(task_id, "tote", tote, None, user)
        apply_scan(task_id, "bin", "A-01", None, user)
    results = race(
        any_app,
        # Each thread loads its picker in its own session: ORM objects are not shared across threads.
        *(
            lambda t=t, u=u.id: apply_scan(t, "item", GTIN["A"], 3, db.session.get(User, u))
            for t, u in zip(tasks, users, strict=True)
        ),
    )
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, WMSError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "insufficient_stock", results
    db.session.expire_all()
    assert db.session.execute(select(func.count()).where(StockMovement.reason == "pick")).scalar_one() == 1
    assert check_stock() == []
    reserved_rows_agree()


@pytest.mark.parametrize("rounds", [5])  # B has 5 units: a unit picked and then cancelled waits in staging
def test_a_pick_racing_a_cancel_of_its_order(floor, any_app, rounds):
    outcomes = set()
    for n in range(rounds):
        order_id = order(floor, f"R-{n}", [("B", 1)])
        task_id = pick_task([order_id])
        apply_scan(task_id, "tote", f"T-{n}", None, floor["piotr"])
        apply_scan(task_id, "bin", "A-02", None, floor["piotr"])
        picked, cancelled = race(
            any_app,
            lambda t=task_id, u=floor["piotr"].id: apply_scan(t, "item", GTIN["B"], None, db.session.get(User, u)),
            lambda o=order_id: cancel_order_and_work(o, actor="shop"),
        )
        assert not isinstance(cancelled, Exception), cancelled  # a picking order can always be cancelled
        assert reload_order(order_id).status == "cancelled"
        putaways = (
            db.session.execute(
                select(Task).where(Task.kind == "putaway", Task.reference["order"].as_integer() == order_id)
            )
            .scalars()
            .all()
        )
        if isinstance(picked, dict):
            outcomes.add("picked first")
            assert len(putaways) == 1 and putaways[0].lines[0].qty == 1  # the picked unit goes back
        else:
            outcomes.add("cancelled first")
            assert picked.code == "invalid_state" and putaways == []
        db.session.rollback()
        assert check_stock() == []
        reserved_rows_agree()
