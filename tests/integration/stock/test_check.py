"""``wms check`` (check_stock): clean after every kind of stock change, and not clean when a quant, a level, a
reservation or the ledger is changed behind the services' back, which proves the check can fail."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import add_stock, make_product, make_world, order_body
from wms.channels.models import Channel
from wms.extensions import db
from wms.orders.service import cancel_order, place_order
from wms.stock.service import adjust, check_stock, move


@pytest.fixture
def scenario(any_app):
    """Receipts, moves, adjustments, lots, orders (one cancelled): every path that writes stock."""
    make_world(stock_a=10, stock_b=5)
    make_product("MILK", track_lots=True)
    add_stock("WH1", "B-01", "MILK", 6, lot="L1")
    add_stock("ST2", "S-01", "A", 4)
    add_stock("WH1", "DOCK", "B", 3)
    move("WH1", "DOCK", "B-01", "B", 2)
    move("WH1", "A-01", "STAGE", "A", 1)
    adjust("WH1", "A-02", "B", -1, "broken")
    adjust("WH1", "A-01", "A", 2, "dropped", status="damaged")
    web = db.session.execute(db.select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    place_order(web, order_body("WEB-1", lines=[("A", 9), ("B", 2), ("MILK", 1)]))
    cancelled, _ = place_order(web, order_body("WEB-2", lines=[("B", 3)]))
    cancel_order(cancelled.id)
    db.session.rollback()
    return any_app


def run(sql: str) -> None:
    db.session.execute(text(sql))
    db.session.commit()


ONE_QUANT = "(SELECT MIN(id) FROM stock_quant WHERE qty > 0 AND status = 'sellable')"
A_AT_WH1 = (
    "product_id = (SELECT id FROM product WHERE sku = 'A') "
    "AND location_id = (SELECT id FROM location WHERE code = 'WH1')"
)

TAMPERING = [
    # (what, tamper, undo, a phrase the report must contain)
    (
        "a quant raised",
        f"UPDATE stock_quant SET qty = qty + 1 WHERE id = {ONE_QUANT}",
        f"UPDATE stock_quant SET qty = qty - 1 WHERE id = {ONE_QUANT}",
        "ledger says",
    ),
    (
        "a quant's status changed",
        "UPDATE stock_quant SET status = 'quarantine' WHERE status = 'damaged'",
        "UPDATE stock_quant SET status = 'damaged' WHERE status = 'quarantine'",
        "(quarantine): ledger says 0, stored 2",
    ),
    (
        "on hand sellable raised",
        f"UPDATE stock_level SET on_hand_sellable = on_hand_sellable + 1 WHERE {A_AT_WH1}",
        f"UPDATE stock_level SET on_hand_sellable = on_hand_sellable - 1 WHERE {A_AT_WH1}",
        "A at WH1: on hand sellable from ledger 9, stored 10",
    ),
    (
        "reserved lowered",
        f"UPDATE stock_level SET reserved = reserved - 1 WHERE {A_AT_WH1}",
        f"UPDATE stock_level SET reserved = reserved + 1 WHERE {A_AT_WH1}",
        "A at WH1: reserved by open reservations 9, stored 8",
    ),
    (
        "a reservation released without its level",
        "UPDATE reservation SET open_qty = open_qty - 1 WHERE open_qty > 0 AND id = (SELECT MIN(id) FROM reservation)",
        "UPDATE reservation SET open_qty = open_qty + 1 WHERE id = (SELECT MIN(id) FROM reservation)",
        "reserved by open reservations 8, stored 9",
    ),
    (
        "a level row lost",
        "DELETE FROM stock_level WHERE product_id = (SELECT id FROM product WHERE sku = 'MILK')",
        "INSERT INTO stock_level (product_id, location_id, on_hand_sellable, reserved) SELECT p.id, l.id, 6, 1 "
        "FROM product p, location l WHERE p.sku = 'MILK' AND l.code = 'WH1'",
        "MILK at WH1: on hand sellable from ledger 6, stored 0",
    ),
    (
        "a ledger row rewritten",
        "UPDATE stock_movement SET qty = qty + 5 WHERE id = (SELECT MIN(id) FROM stock_movement)",
        "UPDATE stock_movement SET qty = qty - 5 WHERE id = (SELECT MIN(id) FROM stock_movement)",
        "ledger says",
    ),
    (
        "a sellable bin turned into staging",
        "UPDATE bin SET kind = 'staging' WHERE code = 'B-01'",
        "UPDATE bin SET kind = 'bulk' WHERE code = 'B-01'",
        "on hand sellable from ledger",
    ),
]


def test_clean_after_every_kind_of_change(scenario):
    assert check_stock() == []


@pytest.mark.parametrize("what, tamper, undo, phrase", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_is_found(scenario, what, tamper, undo, phrase):
    run(tamper)
    problems = check_stock()
    assert problems, f"{what} went unnoticed"
    assert any(phrase in p for p in problems), problems
    run(undo)
    assert check_stock() == [], "the undo restores a clean state, so the problem above was the tampering"


def test_a_quant_without_any_ledger_row_is_found(scenario):
    run(
        "INSERT INTO stock_quant (location_id, bin_id, product_id, lot, status, qty) "
        "SELECT b.location_id, b.id, p.id, '', 'sellable', 3 FROM bin b, product p "
        "WHERE b.code = 'S-01' AND b.location_id = (SELECT id FROM location WHERE code = 'ST1') AND p.sku = 'B'"
    )
    problems = check_stock()
    assert any("B in ST1/S-01 (sellable): ledger says 0, stored 3" in p for p in problems), problems
