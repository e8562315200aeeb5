"""cancel_order: releases every open reservation at once, in the states that allow it; twice is harmless, also
when two cancels race; another channel's order is refused; nothing changes on refusal."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from tests.factories import add_stock, make_channel, make_world, order_body, stock_snapshot
from wms.channels.models import Channel, OutboxEvent
from wms.errors import Forbidden, InvalidState, NotFound
from wms.extensions import db
from wms.orders.models import Order, OrderEvent
from wms.orders.service import cancel_order, place_order
from wms.stock.models import Reservation, StockChange, StockLevel
from wms.stock.service import check_stock, move


def reserved() -> tuple[int, int]:
    levels = db.session.execute(select(func.coalesce(func.sum(StockLevel.reserved), 0))).scalar_one()
    rows = db.session.execute(select(func.coalesce(func.sum(Reservation.open_qty), 0))).scalar_one()
    db.session.rollback()
    return levels, rows


def count(model, *where) -> int:
    n = db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    db.session.rollback()
    return n


@pytest.fixture
def web(any_app) -> int:
    make_world(stock_a=10, stock_b=5)
    add_stock("WH2", "A-01", "A", 3)
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    db.session.rollback()
    return channel_id


def set_status(order_id: int, status: str) -> None:
    db.session.execute(update(Order).where(Order.id == order_id).values(status=status))
    db.session.commit()


def test_cancel_releases_every_reservation_at_once(web):
    order, _ = place_order(web, order_body("WEB-1", lines=[("A", 12), ("B", 5)]))
    keep, _ = place_order(web, order_body("WEB-2", lines=[("A", 1)]))
    assert reserved() == (18, 18)
    changes, outbox = count(StockChange), count(OutboxEvent)
    cancelled = cancel_order(order.id, channel_id=web, actor="WEB")
    assert cancelled.status == "cancelled"
    assert [e.status for e in cancelled.events] == ["reserved", "cancelled"]
    assert reserved() == (1, 1)  # only the other order's unit
    assert count(StockChange) == changes + 3  # A at WH1 and WH2, B at WH1
    assert count(OutboxEvent) == outbox + 1
    # the released units are available at once
    place_order(web, order_body("WEB-3", lines=[("A", 12), ("B", 5)]))
    assert check_stock() == []
    assert keep.status == "reserved"


def test_cancel_twice_is_harmless(web):
    order, _ = place_order(web, order_body("WEB-1", lines=[("A", 2)]))
    cancel_order(order.id)
    before = stock_snapshot(), count(OrderEvent), count(StockChange), count(OutboxEvent)
    again = cancel_order(order.id)
    assert again.status == "cancelled"
    assert (stock_snapshot(), count(OrderEvent), count(StockChange), count(OutboxEvent)) == before


@pytest.mark.parametrize("status", ["in_transit", "picking"])
def test_cancellable_states(web, status):
    order, _ = place_order(web, order_body("WEB-1", lines=[("A", 2)]))
    set_status(order.id, status)
    assert cancel_order(order.id).status == "cancelled"
    assert reserved() == (0, 0)


@pytest.mark.parametrize(
    "status", ["packed", "shipped", "ready_for_pickup", "collected", "partially_collected", "expired"]
)
def test_too_late_to_cancel(web, status):
    order, _ = place_order(web, order_body("WEB-1", lines=[("A", 2)]))
    set_status(order.id, status)
    before = stock_snapshot(), count(OrderEvent), count(OutboxEvent)
    with pytest.raises(InvalidState) as exc:
        cancel_order(order.id)
    assert exc.value.details == {"status": status}
    assert (stock_snapshot(), count(OrderEvent), count(OutboxEvent)) == before


def test_a_partly_picked_order_releases_what_is_still_open(web):
    """Picking lowers the open reservation and moves the units to staging; cancel releases only the rest."""
    order, _ = place_order(web, order_body("WEB-1", lines=[("A", 5)]))
    # what picking 2 units does (the picking service does not exist yet)
    reservation = order.lines[0].reservations[0]
    db.session.execute(update(Reservation).where(Reservation.id == reservation.id).values(open_qty=3))
    db.session.execute(
        update(StockLevel)
        .where(StockLevel.product_id == reservation.product_id, StockLevel.location_id == reservation.location_id)
        .values(reserved=StockLevel.reserved - 2)
    )
    db.session.commit()
    move("WH1", "A-01", "STAGE", "A", 2)
    assert check_stock() == []
    set_status(order.id, "picking")
    cancel_order(order.id)
    assert reserved() == (0, 0)
    assert check_stock() == []


def test_another_channels_order_and_unknown_orders(web):
    order, _ = place_order(web, order_body("WEB-1", lines=[("A", 2)]))
    make_channel("SHOP")
    shop = db.session.execute(select(Channel.id).where(Channel.code == "SHOP")).scalar_one()
    before = stock_snapshot(), count(OrderEvent)
    with pytest.raises(Forbidden):
        cancel_order(order.id, channel_id=shop)
    with pytest.raises(NotFound):
        cancel_order(order.id + 1000, channel_id=web)
    assert (stock_snapshot(), count(OrderEvent)) == before


def test_racing_cancels_release_once(any_app, web):
    order, _ = place_order(web, order_body("WEB-1", lines=[("A", 12), ("B", 5)]))
    place_order(web, order_body("WEB-2", lines=[("A", 1)]))
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def cancel():
        with any_app.app_context():
            barrier.wait()
            try:
                assert cancel_order(order.id, channel_id=web).status == "cancelled"
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cancel) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert reserved() == (1, 1)
    assert count(OrderEvent, OrderEvent.status == "cancelled") == 1
    assert check_stock() == []
