"""A warehouse that sends stock to a store: WH1 (A-01 holding A, A-02 holding B, a staging bin), ST1 (a click &
collect store with a shelf, a dock, a returns bin and a pickup shelf, holding nothing of A or B), ST2 (another
store, 3 x B on its shelf, a staging bin); picker piotr at WH1, clerk kasia at ST1, clerk ewa at ST2, manager
boss; the WEB channel ships from WH1.

``drive`` works a task by scans the way a person follows its ``next`` step."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import add_stock, fast_password_hashing, gtin13, make_bin, make_location, make_product, order_body
from wms.auth.models import User
from wms.auth.service import create_user
from wms.channels.service import create_channel
from wms.extensions import db
from wms.orders.models import Order
from wms.orders.service import place_order
from wms.tasks.models import Task
from wms.tasks.service import apply_scan, get_task

PASSWORD = "sekret-123"
GTINS = {"A": gtin13(9101), "B": gtin13(9102)}


def make_transfer_floor(monkeypatch) -> dict:
    fast_password_hashing(monkeypatch)
    make_location("WH1", "warehouse")
    make_location("ST1", "store", pickup=True, pickup_hold_days=3)
    make_location("ST2", "store", pickup=True)
    for code, kind, seq in [("A-01", "pick", 1), ("A-02", "pick", 2), ("STAGE", "staging", 99)]:
        make_bin("WH1", code, kind, seq)
    for code, kind, seq in [("S-01", "pick", 1), ("DOCK", "dock", 70), ("PU-01", "pickup", 80), ("RET", "returns", 90)]:
        make_bin("ST1", code, kind, seq)
    make_bin("ST2", "S-01", "pick", 1)
    make_bin("ST2", "STG", "staging", 90)  # ST2 sends transfers too: its picks go there
    for sku in ("A", "B"):
        make_product(sku, f"Product {sku}", barcodes=[GTINS[sku]])
    add_stock("WH1", "A-01", "A", 10)
    add_stock("WH1", "A-02", "B", 5)
    add_stock("ST2", "S-01", "B", 3)
    channel, token = create_channel("WEB", ship_from=["WH1"])
    for name, role, location in [
        ("piotr", "picker", "WH1"),
        ("kasia", "clerk", "ST1"),
        ("ewa", "clerk", "ST2"),
        ("boss", "manager", None),
    ]:
        create_user(name, role, location, PASSWORD)
    return {"channel": channel.id, "token": token}


def users() -> dict[str, User]:
    return {u.username: u for u in db.session.execute(select(User)).scalars()}


def pickup_order(floor: dict, external_id: str = "WEB-1", lines=(("A", 2),), store: str = "ST1") -> int:
    body = order_body(external_id, list(lines), fulfilment="pickup", pickup_location=store)
    body.pop("ship_to", None)
    order, _ = place_order(floor["channel"], body)
    return order.id


def open_tasks(kind: str, location_id: int | None = None) -> list[int]:
    db.session.rollback()
    query = select(Task.id).where(Task.kind == kind, Task.status.in_(["open", "in_progress"])).order_by(Task.id)
    if location_id is not None:
        query = query.where(Task.location_id == location_id)
    return list(db.session.execute(query).scalars())


def drive(task_id: int, user: User, prefix: str, tote: str = "T-0001", label: str | None = None) -> dict:
    """Scan a task through to its end as its ``next`` asks (a pick's bins, items and tote; a pack's tote and items;
    a receiving's ``label`` and items); the last answer."""
    step = get_task(task_id, user)["next"]
    answer: dict = {}
    n = 0
    while step["expect"] != "nothing":
        n += 1
        assert n < 100, step
        code = {
            "bin": step.get("bin"),
            "product": GTINS.get(step.get("sku") or ""),
            "tote": tote,
            "order": label if label is not None else f"$O:{step.get('order')}",
        }.get(step["expect"])
        qty = step["qty"] if step["expect"] == "qty" else None
        answer = apply_scan(task_id, f"{prefix}-{n}", code, qty, user)
        step = answer["task"]["next"]
    db.session.rollback()
    return answer


def order_status(order_id: int) -> str:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Order, order_id).status
