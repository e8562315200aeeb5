"""Orders that reached a customer, to return: the packing floor of ``tests.integration.shipping.packing`` (WH1,
WH2, store ST1 with clerk kasia, manager boss) plus store ST2 with clerk ewa, a returns bin at WH1, ST1 and ST2
and a shelf at each store; ``shipped`` picks, packs and ships an order the way the floor does."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_bin, make_location
from tests.integration.shipping.packing import GTINS, PASSWORD, make_floor, picked, place
from wms.auth.models import User
from wms.auth.service import create_user
from wms.extensions import db
from wms.orders.models import Order
from wms.shipping.service import create_shipment
from wms.tasks.service import apply_scan

__all__ = ["GTINS", "make_returns_floor", "shipped", "users"]


def make_returns_floor(monkeypatch, app, tmp_path) -> str:
    """The floor; returns the WEB channel's token."""
    token = make_floor(monkeypatch, app, tmp_path)
    make_location("ST2", "store")
    make_bin("WH1", "RET", "returns", 200)
    for store in ("ST1", "ST2"):
        make_bin(store, "SHELF-1", "pick", 1)
        make_bin(store, "RET", "returns", 50)
    create_user("ewa", "clerk", "ST2", PASSWORD)
    return token


def users() -> dict[str, User]:
    return {u.username: u for u in db.session.execute(select(User)).scalars()}


def shipped(external_id: str = "WEB-1", lines=(("A", 2), ("B", 1))) -> int:
    """An order placed, picked and packed at WH1 and shipped with carrier ``test``; its id."""
    packer = users()["piotr"]
    order_id = place(external_id, lines)
    tote = f"T-{order_id:04d}"
    task_id = picked(order_id, "WH1", tote=tote)
    apply_scan(task_id, "pack-1", tote, None, packer)
    for i, (sku, qty) in enumerate(lines):
        apply_scan(task_id, f"pack-item-{i}", GTINS[sku], qty, packer)
    create_shipment(order_id, "test", None, [{"weight_g": 900}], None, packer)
    db.session.rollback()
    assert db.session.get(Order, order_id).status == "shipped"
    return order_id
