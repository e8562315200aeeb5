"""Receipts: booked in one transaction with their ledger rows; idempotent by (location, reference), also when
two deliveries with the same reference race; lot-tracked products need a lot; nothing changes on bad input."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import make_product, make_world, stock_snapshot
from wms.catalog.models import Product
from wms.errors import ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.stock.models import Lot, Receipt, StockChange, StockLevel, StockMovement
from wms.stock.service import check_stock, receive


def level(product_id: int, location: str) -> tuple[int, int]:
    row = db.session.execute(
        select(StockLevel.on_hand_sellable, StockLevel.reserved)
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.product_id == product_id, Location.code == location)
    ).first()
    db.session.rollback()
    return tuple(row) if row else (0, 0)


def count(model) -> int:
    n = db.session.execute(select(func.count()).select_from(model)).scalar_one()
    db.session.rollback()
    return n


@pytest.fixture
def world(any_app):
    make_world(stock_a=0, stock_b=0)
    ids = dict(db.session.execute(select(Product.sku, Product.id)).all())
    db.session.rollback()
    return ids


def test_receipt_books_every_line_with_a_ledger_row(world):
    changes = count(StockChange)
    result, created = receive(
        "WH1", "A-01", "DEL-1", [{"sku": "A", "qty": 3}, {"sku": "B", "qty": 2}, {"sku": "A", "qty": 1}]
    )
    assert created
    assert [(m["sku"], m["qty"], m["to_bin"], m["from_bin"]) for m in result["movements"]] == [
        ("A", 3, "A-01", None),
        ("B", 2, "A-01", None),
        ("A", 1, "A-01", None),
    ]
    assert (result["reference"], result["location"], result["bin"]) == ("DEL-1", "WH1", "A-01")
    assert level(world["A"], "WH1") == (4, 0) and level(world["B"], "WH1") == (2, 0)
    assert count(StockChange) == changes + 2  # one change-log row per level that moved
    assert check_stock() == []


def test_replay_returns_the_first_result_and_moves_nothing(world):
    first, _ = receive("WH1", "A-01", "DEL-1", [{"sku": "A", "qty": 3}])
    before = stock_snapshot()
    changes = count(StockChange)
    replay, created = receive("WH1", "B-01", "DEL-1", [{"sku": "B", "qty": 30}])
    assert not created and replay == first
    assert stock_snapshot() == before and count(StockChange) == changes
    # another location's delivery may carry the same reference
    _other, created = receive("WH2", "A-01", "DEL-1", [{"sku": "A", "qty": 1}])
    assert created
    assert count(Receipt) == 2


def test_into_a_non_sellable_bin_is_on_hand_but_not_sellable(world):
    receive("WH1", "DOCK", "DEL-1", [{"sku": "A", "qty": 5}])
    receive("ST1", "PU-01", "DEL-2", [{"sku": "A", "qty": 2}])
    assert level(world["A"], "WH1") == (0, 0) and level(world["A"], "ST1") == (0, 0)
    assert check_stock() == []


def test_lots(world):
    make_product("MILK", track_lots=True)
    before = stock_snapshot()
    with pytest.raises(ValidationError) as exc:
        receive("WH1", "A-01", "DEL-1", [{"sku": "MILK", "qty": 1}, {"sku": "MILK", "qty": 1, "lot": ""}])
    assert [e["field"] for e in exc.value.details] == ["lines[0].lot", "lines[1].lot"]
    assert stock_snapshot() == before and count(Receipt) == 0
    receive("WH1", "A-01", "DEL-1", [{"sku": "MILK", "qty": 2, "lot": "L1"}])
    # a later delivery of the same lot that knows its expiry completes the lot, and the quant is the same one
    receive("WH1", "A-01", "DEL-2", [{"sku": "MILK", "qty": 3, "lot": "L1", "expiry": date(2030, 1, 31)}])
    lots = db.session.execute(select(Lot.code, Lot.expiry)).all()
    assert lots == [("L1", date(2030, 1, 31))]
    milk = db.session.execute(select(Product.id).where(Product.sku == "MILK")).scalar_one()
    assert level(milk, "WH1") == (5, 0)
    assert check_stock() == []


def test_unknown_names_are_all_reported_and_change_nothing(world):
    before = stock_snapshot()
    with pytest.raises(ValidationError) as exc:
        receive("WH1", "A-01", "DEL-1", [{"sku": "NOPE", "qty": 1}, {"sku": "A", "qty": 1}, {"sku": "NOPE2", "qty": 1}])
    assert [e["field"] for e in exc.value.details] == ["lines[0].sku", "lines[2].sku"]
    for location, bin_code, field in (("NOPE", "A-01", "location"), ("WH1", "NOPE", "bin"), ("WH2", "B-01", "bin")):
        with pytest.raises(ValidationError) as exc:
            receive(location, bin_code, "DEL-1", [{"sku": "A", "qty": 1}])
        assert exc.value.details[0]["field"] == field
    assert stock_snapshot() == before
    assert count(Receipt) == 0 and count(StockMovement) == 0


def race(app, n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads started together, each with its own app context; results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
            except Exception as exc:  # noqa: BLE001 - the test reports whatever escaped
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_deliveries_with_one_reference_racing_book_once(any_app, world):
    """Every request finds no receipt yet; the unique (location, reference) lets one in, the others answer with
    the first result instead of failing with a database error."""
    results = race(any_app, 4, lambda _i: receive("WH1", "A-01", "DEL-RACE", [{"sku": "A", "qty": 7}]))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(created for _result, created in results) == [False, False, False, True]
    assert len({result["id"] for result, _created in results}) == 1
    assert level(world["A"], "WH1") == (7, 0)
    assert count(Receipt) == 1
    assert check_stock() == []


def test_deliveries_of_one_new_lot_racing_make_one_lot(any_app, world):
    milk = make_product("MILK", track_lots=True).id
    results = race(
        any_app,
        4,
        lambda i: receive("WH1", "A-01", f"DEL-{i}", [{"sku": "MILK", "qty": 2, "lot": "NEW", "expiry": None}]),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(created for _result, created in results)
    assert db.session.execute(select(Lot.code)).scalars().all() == ["NEW"]
    assert level(milk, "WH1") == (8, 0)
    assert check_stock() == []


def test_deliveries_of_the_same_new_lots_in_any_line_order_do_not_deadlock(any_app, world):
    make_product("MILK", track_lots=True)
    for round_ in range(4):
        lots = [f"X{round_}", f"Y{round_}"]

        def deliver(i: int, lots=lots, round_=round_):
            order = lots if i % 2 else lots[::-1]
            lines = [{"sku": "MILK", "qty": 1, "lot": lot} for lot in order]
            return receive("WH1", "A-01", f"DEL-{round_}-{i}", lines)

        results = race(any_app, 6, deliver)
        assert not [r for r in results if isinstance(r, Exception)], results
    assert check_stock() == []


@pytest.mark.parametrize("operation", ["receipt", "adjustment", "move"])
def test_a_bin_changing_kind_while_stock_is_booked_into_it(any_app, world, monkeypatch, operation):
    """The operation read the bin as a pick bin; the bin must not become a staging bin before the operation
    commits, or units would count as sellable in a staging bin (or the other way round)."""
    import wms.stock.service as stock_service
    from wms.errors import InvalidState
    from wms.stock.bins import upsert_bin
    from wms.stock.service import adjust, move

    upsert_bin("WH1", "C-01", {"kind": "pick"})
    receive("WH1", "DOCK", "DEL-0", [{"sku": "A", "qty": 5}])
    run = {
        "receipt": lambda: receive("WH1", "C-01", "DEL-1", [{"sku": "A", "qty": 5}]),
        "adjustment": lambda: adjust("WH1", "C-01", "A", 5, "found"),
        "move": lambda: move("WH1", "DOCK", "C-01", "A", 5),
    }[operation]
    read, go = threading.Event(), threading.Event()
    real_post = stock_service.post_entries

    def paused_post(session, entries):
        if any(e.to_bin is not None and e.to_bin.code == "C-01" for e in entries):
            read.set()  # the bin has been read
            go.wait(10)
        return real_post(session, entries)

    monkeypatch.setattr(stock_service, "post_entries", paused_post)
    outcome: dict[str, object] = {}

    def in_thread(name, call):
        def target():
            with any_app.app_context():
                try:
                    outcome[name] = call()
                except Exception as exc:  # noqa: BLE001 - reported below
                    outcome[name] = exc
                finally:
                    db.session.remove()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    booking = in_thread("booking", run)
    assert read.wait(10)
    change = in_thread("bin", lambda: upsert_bin("WH1", "C-01", {"kind": "staging"}))
    change.join(0.5)  # give the change every chance to slip in before the booking commits
    go.set()
    booking.join(30)
    change.join(30)
    assert not isinstance(outcome["booking"], Exception), outcome
    assert isinstance(outcome["bin"], InvalidState), outcome  # the bin holds stock by the time it may change
    db.session.rollback()
    assert check_stock() == []
