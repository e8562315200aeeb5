"""A store that takes click & collect orders: ST1 (shelves S-01 and S-02, pickup shelves PU-01 and PU-02, a returns
bin, held 3 days) with A and B on its shelves, ST2 (another store, its clerk ewa), WH1; clerk kasia at ST1, a
picker at WH1, manager boss; the WEB channel. ``staged`` prepares a pickup order on the stage task by scans, as a
clerk does."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import add_stock, fast_password_hashing, gtin13, make_bin, make_location, make_product, order_body
from wms.auth.models import User
from wms.auth.service import create_user
from wms.channels.service import create_channel
from wms.extensions import db
from wms.orders.models import Order
from wms.orders.service import place_order
from wms.tasks.kinds.stage import open_stage_tasks
from wms.tasks.service import apply_scan, get_task

PASSWORD = "sekret-123"
GTINS = {"A": gtin13(8101), "B": gtin13(8102)}


def make_pickup_floor(monkeypatch) -> dict:
    fast_password_hashing(monkeypatch)
    make_location("WH1", "warehouse")
    make_location("ST1", "store", pickup=True, pickup_hold_days=3)
    make_location("ST2", "store", pickup=True)
    for code, kind, seq in [
        ("S-01", "pick", 1),
        ("S-02", "pick", 2),
        ("PU-01", "pickup", 80),
        ("PU-02", "pickup", 81),
        ("RET", "returns", 90),
    ]:
        make_bin("ST1", code, kind, seq)
    make_bin("ST2", "S-01", "pick", 1)
    make_bin("WH1", "A-01", "pick", 1)
    for sku in ("A", "B"):
        make_product(sku, f"Product {sku}", barcodes=[GTINS[sku]])
    add_stock("ST1", "S-01", "A", 5)
    add_stock("ST1", "S-02", "B", 4)
    add_stock("ST2", "S-01", "A", 2)
    add_stock("WH1", "A-01", "A", 20)
    channel, token = create_channel("WEB", ship_from=["WH1"])
    for name, role, location in [
        ("kasia", "clerk", "ST1"),
        ("ewa", "clerk", "ST2"),
        ("piotr", "picker", "WH1"),
        ("boss", "manager", None),
    ]:
        create_user(name, role, location, PASSWORD)
    return {"channel": channel.id, "token": token}


def users() -> dict[str, User]:
    return {u.username: u for u in db.session.execute(select(User)).scalars()}


def pickup_order(floor: dict, external_id: str = "WEB-1", lines=(("A", 2), ("B", 1)), store: str = "ST1") -> int:
    body = order_body(external_id, list(lines), fulfilment="pickup", pickup_location=store)
    body.pop("ship_to", None)
    order, _ = place_order(floor["channel"], body)
    return order.id


def stage_task(order_id: int, store: str = "ST1") -> int:
    (task_id,) = open_stage_tasks(store, order_ids=[order_id])
    return task_id


def staged(floor: dict, external_id: str = "WEB-1", lines=(("A", 2), ("B", 1)), shelf: str = "PU-01") -> int:
    """A pickup order at ST1 prepared by kasia: every line by bin and item scans, the label, the shelf."""
    order_id = pickup_order(floor, external_id, lines)
    task_id = stage_task(order_id)
    clerk = users()["kasia"]
    n = 0
    step = get_task(task_id, clerk)["next"]
    while step["expect"] != "nothing":
        n += 1
        code = {
            "bin": step.get("bin"),
            "product": GTINS.get(step.get("sku") or ""),
            "order": order_code(order_id),
            "shelf": shelf,
        }.get(step["expect"])
        qty = step["qty"] if step["expect"] in ("product", "qty") else None
        answer = apply_scan(task_id, f"st-{order_id}-{n}", None if step["expect"] == "qty" else code, qty, clerk)
        step = answer["task"]["next"]
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Order, order_id).status == "ready_for_pickup"
    return order_id


def order_code(order_id: int) -> str:
    db.session.rollback()
    return db.session.get(Order, order_id).pickup_code
