"""Put-away, end to end on the service: a receipt into a dock bin opens the task; item, then bin; the units move
dock -> bin with a ``move`` ledger row; wrong scans change nothing; a replayed scan id is applied once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import add_stock, fast_password_hashing, gtin13, make_bin, make_location, make_product
from wms.auth.service import create_user
from wms.errors import InvalidState, NotFound, WrongBin, WrongProduct
from wms.extensions import db
from wms.scanning.errors import UnknownCode
from wms.stock.models import StockMovement, StockQuant
from wms.stock.service import check_stock
from wms.tasks.models import Task, TaskScan
from wms.tasks.service import apply_scan, claim_task, complete_task, get_task, list_tasks, receive

GTIN_A, GTIN_B = gtin13(9001), gtin13(9002)


@pytest.fixture
def floor(any_app, monkeypatch):
    fast_password_hashing(monkeypatch)
    make_location("WH1")
    make_location("WH2")
    make_bin("WH1", "DOCK", "dock")
    make_bin("WH1", "A-01-1", "pick", 1)
    make_bin("WH1", "A-01-2", "pick", 2)
    make_bin("WH1", "B-01", "bulk", 3)
    make_product("A", barcodes=[GTIN_A])
    make_product("B", barcodes=[GTIN_B])
    users = {
        "piotr": create_user("piotr", "picker", "WH1", "sekret-123"),
        "anna": create_user("anna", "picker", "WH1", "sekret-123"),
        "olaf": create_user("olaf", "picker", "WH2", "sekret-123"),
        "boss": create_user("boss", "manager", None, "sekret-123"),
    }
    return users


def _delivery(lines=(("A", 3), ("B", 1))) -> int:
    receive("WH1", "DOCK", "PO-1", [{"sku": sku, "qty": qty} for sku, qty in lines], actor="clerk")
    return db.session.execute(select(Task.id).order_by(Task.id.desc())).scalars().first()


def _quants() -> dict[tuple[int, int], int]:
    rows = db.session.execute(select(StockQuant.bin_id, StockQuant.product_id, StockQuant.qty)).all()
    return {(b, p): q for b, p, q in rows}


def test_a_receipt_into_a_dock_bin_opens_a_putaway(floor):
    task_id = _delivery()
    view = get_task(task_id, floor["piotr"])
    assert view["kind"] == "putaway" and view["status"] == "open" and view["location"] == "WH1"
    assert view["reference"] == {"receipt": view["reference"]["receipt"], "delivery": "PO-1", "dock": "DOCK"}
    assert [(line["line"], line["sku"], line["qty"], line["done"]) for line in view["lines"]] == [
        (1, "A", 3, 0),
        (2, "B", 1, 0),
    ]
    assert view["next"] == {"expect": "product", "prompt": "Scan item A", "bin": None, "sku": "A", "qty": 3}


def test_a_receipt_into_a_pick_bin_opens_none(floor):
    add_stock("WH1", "A-01-1", "A", 2)
    assert db.session.execute(select(func.count(Task.id))).scalar_one() == 0


def test_a_replayed_receipt_opens_no_second_task(floor):
    _delivery()
    _delivery()
    assert db.session.execute(select(func.count(Task.id))).scalar_one() == 1


def test_put_away_moves_the_units_and_the_ledger_stays_clean(floor):
    add_stock("WH1", "A-01-2", "A", 1)  # A already lives in A-01-2: it goes there
    task_id = _delivery()
    piotr = floor["piotr"]
    first = apply_scan(task_id, "s1", GTIN_A, None, piotr, "TC52")
    assert first["task"]["next"]["expect"] == "bin" and first["task"]["next"]["bin"] == "A-01-2"
    assert first["task"]["status"] == "in_progress" and first["task"]["assignee"] == "piotr"
    placed = apply_scan(task_id, "s2", "A-01-2", None, piotr, "TC52")
    assert placed["ok"] and placed["task"]["lines"][0]["done"] == 3
    moves = db.session.execute(select(StockMovement).where(StockMovement.reason == "move")).scalars().all()
    assert [(m.qty, m.actor, m.device) for m in moves] == [(3, "piotr", "TC52")]
    # B lives nowhere: the first empty pick bin in walk order; confirmed by its label's code
    named = apply_scan(task_id, "s3", GTIN_B, None, piotr)
    assert named["task"]["next"]["bin"] == "A-01-1"
    done = apply_scan(task_id, "s4", "$B:WH1:A-01-1", None, piotr)
    assert done["task"]["status"] == "done" and done["task"]["next"]["expect"] == "nothing"
    assert check_stock() == []
    with pytest.raises(InvalidState):
        apply_scan(task_id, "s5", GTIN_B, None, piotr)
    with pytest.raises(InvalidState):
        complete_task(task_id, piotr)


def test_wrong_scans_change_nothing(floor):
    task_id = _delivery()
    piotr = floor["piotr"]
    with pytest.raises(WrongProduct):
        apply_scan(task_id, "w1", "A-01-1", None, piotr)
    apply_scan(task_id, "s1", GTIN_A, None, piotr)
    before = _quants()
    with pytest.raises(WrongBin) as err:
        apply_scan(task_id, "w2", "A-01-2", None, piotr)
    assert err.value.message == "This is bin A-01-2. Scan bin A-01-1."
    with pytest.raises(UnknownCode):
        apply_scan(task_id, "w3", "NO-SUCH-BIN", None, piotr)
    assert _quants() == before
    assert db.session.execute(select(func.count(TaskScan.id))).scalar_one() == 1
    assert get_task(task_id, piotr)["next"]["bin"] == "A-01-1"


def test_a_replayed_scan_id_is_applied_once(floor):
    task_id = _delivery([("A", 3)])
    piotr = floor["piotr"]
    apply_scan(task_id, "s1", GTIN_A, None, piotr)
    first = apply_scan(task_id, "s2", "A-01-1", 2, piotr)
    again = apply_scan(task_id, "s2", "A-01-1", 2, piotr)
    assert again == first
    assert get_task(task_id, piotr)["lines"][0]["done"] == 2
    assert check_stock() == []


def test_claims_and_visibility(floor):
    task_id = _delivery()
    assert claim_task(task_id, floor["piotr"])["status"] == "in_progress"
    with pytest.raises(InvalidState):
        claim_task(task_id, floor["anna"])
    with pytest.raises(InvalidState):
        apply_scan(task_id, "a1", GTIN_A, None, floor["anna"])
    with pytest.raises(NotFound):
        get_task(task_id, floor["olaf"])
    assert list_tasks(floor["olaf"]) == []
    assert [t["id"] for t in list_tasks(floor["boss"], kind="putaway", location_code="WH1")] == [task_id]
    assert list_tasks(floor["boss"], status="done") == []
    with pytest.raises(InvalidState):
        complete_task(task_id, floor["piotr"])


def test_a_kind_without_scan_rules_lists_and_refuses_scans(floor):
    putaway = db.session.get(Task, _delivery())
    task = Task(kind="count", status="open", location_id=putaway.location_id, reference={})
    db.session.add(task)
    db.session.commit()
    assert {t["kind"] for t in list_tasks(floor["piotr"])} == {"putaway", "count"}
    with pytest.raises(InvalidState):
        apply_scan(task.id, "c1", GTIN_A, None, floor["piotr"])
