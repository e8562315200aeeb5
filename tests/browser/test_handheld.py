"""The handheld pages in Chromium at 360x640, scanned the way a keyboard-wedge scanner types: receive a delivery
by scanning, put it away through wrong item and wrong bin (red, nothing changes) to done; two scans back to back;
scans made offline kept across a reload and sent once; a retried scan applied once."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import flashes, scan, sign_in, type_slowly, unsent, wait_ready, wait_text, wait_until
from tests.browser.live import GTINS
from wms.extensions import db
from wms.locations.models import Bin
from wms.stock.models import StockMovement, StockQuant
from wms.stock.service import check_stock
from wms.tasks.models import Task, TaskScan
from wms.tasks.service import receive

expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests: the playwright package is not installed"
).expect

_refs = itertools.count(1)


def _gs1(sku: str, lot: str, expiry: str) -> str:
    """A GS1-128 element string as a wedge scanner types it: GTIN, expiry, then the lot (variable length, last)."""
    return f"01{'0' + GTINS[sku]}17{expiry}10{lot}"


def _quantity(server, bin_code: str, sku: str) -> int:
    from wms.catalog.models import Product

    with server.app.app_context():
        return db.session.execute(
            select(func.coalesce(func.sum(StockQuant.qty), 0))
            .join(Bin, Bin.id == StockQuant.bin_id)
            .join(Product, Product.id == StockQuant.product_id)
            .where(Bin.code == bin_code, Product.sku == sku)
        ).scalar_one()


def _delivery(server, lines: list[tuple[str, int]]) -> int:
    """A delivery into the dock booked on the server: the put-away task it opened."""
    reference = f"PO-T{next(_refs)}"
    with server.app.app_context():
        receive("WH1", "DOCK", reference, [{"sku": sku, "qty": qty} for sku, qty in lines], actor="test")
        task_id = db.session.execute(select(Task.id).order_by(Task.id.desc())).scalars().first()
        db.session.remove()
    return task_id


def _scans(server, task_id: int) -> int:
    with server.app.app_context():
        return db.session.execute(select(func.count(TaskScan.id)).where(TaskScan.task_id == task_id)).scalar_one()


def _moves(server, reference_like: str) -> list[tuple[str, int]]:
    with server.app.app_context():
        return [
            (m.sku, m.qty)
            for m in db.session.execute(
                select(StockMovement).where(StockMovement.reason == "move").order_by(StockMovement.id)
            ).scalars()
            if reference_like in (m.reference or "")
        ]


def _stock_is_clean(server) -> bool:
    with server.app.app_context():
        return check_stock() == []


def test_receive_by_scanning_then_put_away_through_wrong_scans(page, live_server):
    sign_in(page, live_server, "piotr", "/hh/receive")
    a01_before = _quantity(live_server, "A-01", "KT-1")
    wait_text(page, "#hh-next", "delivery reference")
    scan(page, "PO-B1")
    wait_text(page, "#hh-reference", "PO-B1")
    scan(page, GTINS["KT-1"])
    scan(page, GTINS["KT-1"])
    # A lot-tracked item by its plain GTIN: refused, it needs the label with the lot.
    scan(page, GTINS["LOT-1"])
    wait_text(page, "#hh-msg", "tracked by lot")
    assert flashes(page)[0] == "error"
    scan(page, _gs1("LOT-1", "L77", "271231"))
    wait_text(page, "#hh-lines", "L77")
    lines = page.inner_text("#hh-lines")
    assert "KT-1" in lines and "2027-12-31" in lines
    assert page.inner_text("#hh-lines li:first-child .hh-line-count") == "2"
    page.click("#hh-receive")
    wait_text(page, "#hh-msg", "Put-away task opened")
    page.click("#hh-task-link")
    wait_ready(page)
    wait_text(page, "#hh-next", "Scan item KT-1")

    # Wrong item: a bin where the item is asked for. Red, and nothing moves.
    scan(page, "A-02")
    wait_text(page, "#hh-msg", "Scan item")
    assert flashes(page)[0] == "error"
    scan(page, GTINS["KT-1"])
    wait_text(page, "#hh-next", "Put 2 × KT-1 in A-01")
    assert flashes(page)[0] == "ok"
    # Wrong bin: red, in the page's words, and the dock still holds the units.
    scan(page, "A-02")
    wait_text(page, "#hh-msg", "This is bin A-02. Scan bin A-01.")
    assert flashes(page)[0] == "error"
    assert _quantity(live_server, "A-01", "KT-1") == a01_before
    scan(page, "A-01")
    wait_text(page, "#hh-next", "LOT-1")
    assert _quantity(live_server, "A-01", "KT-1") == a01_before + 2
    scan(page, _gs1("LOT-1", "L77", "271231"))
    prompt = wait_text(page, "#hh-next", "Put 1 × LOT-1 in ")
    scan(page, prompt.split(" in ")[-1].split(":")[0].strip())
    wait_text(page, "#hh-next", "Task done")
    assert "2/2" in page.inner_text("#hh-lines") and "1/1" in page.inner_text("#hh-lines")
    assert _stock_is_clean(live_server)


def test_two_scans_back_to_back_are_both_taken(page, live_server):
    task_id = _delivery(live_server, [("KT-1", 1)])
    sign_in(page, live_server, "piotr", f"/hh/tasks/{task_id}")
    wait_text(page, "#hh-next", "Scan item KT-1")
    before = _quantity(live_server, "A-01", "KT-1")
    # A tap elsewhere (the title bar, the lines) leaves the scan field ready: the next scan still lands in it.
    page.click(".hh-title")
    expect(page.locator("#hh-scan")).to_be_focused()
    page.click("#hh-lines")
    expect(page.locator("#hh-scan")).to_be_focused()
    # Item and bin as two bursts with no pause: both queued, sent in order, both applied.
    scan(page, GTINS["KT-1"])
    scan(page, "A-01")
    wait_text(page, "#hh-next", "Task done")
    assert _scans(live_server, task_id) == 2
    assert _quantity(live_server, "A-01", "KT-1") == before + 1
    assert flashes(page)[0] == "ok"


def test_slow_typing_of_a_number_is_a_quantity(page, live_server):
    task_id = _delivery(live_server, [("KT-1", 5)])
    sign_in(page, live_server, "ewa", f"/hh/tasks/{task_id}")
    wait_text(page, "#hh-next", "Zeskanuj towar KT-1")
    before = _quantity(live_server, "A-01", "KT-1")
    scan(page, GTINS["KT-1"])
    wait_text(page, "#hh-next", "A-01")
    type_slowly(page, "2")  # a person types 2: the next scan places 2, not all 5
    wait_text(page, "#hh-qty-next", "2")
    scan(page, "A-01")
    wait_until(lambda: _quantity(live_server, "A-01", "KT-1") == before + 2, what="2 units placed")
    wait_text(page, "#hh-lines", "2/5")
    # A slowly typed code is still a code (typed by hand).
    type_slowly(page, GTINS["KT-1"])
    wait_text(page, "#hh-next", "A-01")
    type_slowly(page, "A-01")
    wait_text(page, "#hh-lines", "5/5")
    assert _quantity(live_server, "A-01", "KT-1") == before + 5


def test_scans_made_offline_are_kept_across_a_reload_and_sent_once(page, context, live_server):
    task_id = _delivery(live_server, [("KT-1", 2)])
    sign_in(page, live_server, "piotr", f"/hh/tasks/{task_id}")
    wait_text(page, "#hh-next", "Scan item KT-1")
    context.set_offline(True)
    scan(page, GTINS["KT-1"])
    wait_until(lambda: unsent(page) == 1, what="one unsent scan")
    wait_text(page, "[data-unsent]", "Offline: 1 unsent")
    # Back on the network, but the API still out of reach: the page reloads, the scan waits in IndexedDB.
    page.route("**/api/v1/tasks/*/scans", lambda route: route.abort())
    context.set_offline(False)
    page.reload()
    wait_ready(page)
    wait_until(lambda: unsent(page) == 1, what="the scan kept across the reload")
    assert _scans(live_server, task_id) == 0
    page.unroute("**/api/v1/tasks/*/scans")
    wait_until(lambda: unsent(page) == 0, timeout=20, what="the kept scan to be sent")
    wait_text(page, "#hh-next", "Put 2 × KT-1 in A-01")
    assert _scans(live_server, task_id) == 1


def test_a_retried_scan_is_applied_once(page, live_server):
    task_id = _delivery(live_server, [("KT-1", 3)])
    sign_in(page, live_server, "piotr", f"/hh/tasks/{task_id}")
    wait_text(page, "#hh-next", "Scan item KT-1")
    scan(page, GTINS["KT-1"])
    wait_text(page, "#hh-next", "A-01")
    before = _quantity(live_server, "A-01", "KT-1")
    sent: list[str] = []

    def lose_the_first_answer(route):
        sent.append(route.request.post_data or "")
        if len(sent) == 1:
            route.fetch()  # the server applies it...
            route.abort()  # ...and the answer is lost on the way back
        else:
            route.continue_()

    page.route("**/api/v1/tasks/*/scans", lose_the_first_answer)
    scan(page, "A-01")
    wait_until(lambda: unsent(page) == 0 and len(sent) >= 2, timeout=20, what="the retry")
    wait_text(page, "#hh-next", "Task done")
    assert sent[0] == sent[1]  # the same client id both times
    assert _quantity(live_server, "A-01", "KT-1") == before + 3  # placed once, not twice
    assert _scans(live_server, task_id) == 2  # the item and the bin, the retry stored nothing new
    assert _stock_is_clean(live_server)


def _order_status(server, order_id: int) -> str:
    from wms.orders.models import Order

    with server.app.app_context():
        return db.session.get(Order, order_id).status


def test_pick_into_a_tote_then_pack_and_ship(page, live_server):
    from tests.browser.live import pick_wave

    order_id, task_id = pick_wave(live_server, "HH-PICK-1", [("KT-1", 2)])
    sign_in(page, live_server, "piotr", "/hh/tasks?kind=pick")
    page.click(f"[data-claim='{task_id}']")  # a tap claims the task and opens it
    wait_ready(page)
    wait_text(page, "#hh-next", f"Scan a tote for order {order_id}")
    scan(page, "T-HH1")
    prompt = wait_text(page, "#hh-next", "Go to bin ")
    scan(page, prompt.split("Go to bin ")[1].split(":")[0])
    wait_text(page, "#hh-next", "Scan item KT-1")
    scan(page, GTINS["KT-1"])
    wait_text(page, "#hh-next", "1 more × KT-1 into tote T-HH1")
    type_slowly(page, "1")  # the rest, typed as a quantity
    wait_text(page, "#hh-next", "Task done")
    assert _stock_is_clean(live_server)

    page.goto(f"{live_server.url}/hh/tasks?kind=pack")
    wait_ready(page)
    page.click("[data-claim]")
    wait_ready(page)
    wait_text(page, "#hh-next", "Scan tote T-HH1")
    scan(page, "T-HH1")
    wait_text(page, "#hh-next", "Check 2 × KT-1")
    scan(page, GTINS["KT-1"])
    scan(page, GTINS["KT-1"])
    wait_until(lambda: page.is_visible("#hh-ship"), what="the shipping form")
    assert _order_status(live_server, order_id) == "packed"
    page.fill("[name=weight_g]", "1200")
    page.click(".hh-next")  # away from the field: a scan now is the parcel's tracking label
    scan(page, "TRK-123")
    assert page.input_value("#hh-tracking") == "TRK-123"
    page.select_option("#hh-carrier", "test")
    page.click("#hh-ship button[type=submit]")
    wait_text(page, "#hh-msg", "Shipped")
    wait_until(lambda: _order_status(live_server, order_id) == "shipped", what="the order shipped")
    assert _stock_is_clean(live_server)


def test_move_stock_bin_to_bin_by_scanning(page, live_server):
    before = (_quantity(live_server, "A-01", "KT-1"), _quantity(live_server, "B-01", "KT-1"))
    sign_in(page, live_server, "ewa", "/hh/move")
    wait_text(page, "#hh-next", "Zeskanuj lokację, z której bierzesz")
    scan(page, "A-01")
    wait_text(page, "#hh-from", "A-01")
    scan(page, GTINS["KT-1"])
    scan(page, GTINS["KT-1"])  # one more of the same
    wait_text(page, "#hh-move-qty", "2")
    type_slowly(page, "3")  # or typed
    wait_text(page, "#hh-move-qty", "3")
    scan(page, "B-01")
    wait_text(page, "#hh-msg", "Przeniesiono 3 × KT-1 A-01 → B-01")
    assert (_quantity(live_server, "A-01", "KT-1"), _quantity(live_server, "B-01", "KT-1")) == (
        before[0] - 3,
        before[1] + 3,
    )
    # More than the bin holds: refused, nothing moves.
    scan(page, "B-01")
    scan(page, GTINS["KT-1"])
    type_slowly(page, "999")
    scan(page, "A-02")
    wait_until(lambda: flashes(page)[0] == "error", what="a refusal")
    assert _quantity(live_server, "B-01", "KT-1") == before[1] + 3
    assert _stock_is_clean(live_server)


def test_a_short_pick_says_how_many_are_there(page, live_server):
    from tests.browser.live import pick_wave

    _order_id, task_id = pick_wave(live_server, "HH-SHORT-1", [("KT-1", 2)])
    sign_in(page, live_server, "piotr", f"/hh/tasks/{task_id}")
    scan(page, "T-HH2")
    prompt = wait_text(page, "#hh-next", "Go to bin ")
    bin_code = prompt.split("Go to bin ")[1].split(":")[0]
    scan(page, bin_code)
    wait_text(page, "#hh-next", "Scan item KT-1")
    page.click("#hh-short")
    wait_text(page, "#hh-qty-label", "How many are there?")
    page.fill("#hh-qty-input", "0")
    page.click("#hh-qty-ok")
    wait_until(lambda: flashes(page) == ("ok", 3), what="the short pick taken")
    with live_server.app.app_context():
        counts = db.session.execute(select(Task).where(Task.kind == "count")).scalars().all()
        assert any(task.reference.get("bin") == bin_code for task in counts)
    assert _stock_is_clean(live_server)


def test_a_blind_count_of_a_bin(page, live_server):
    from wms.tasks.kinds.count import open_count_task
    from wms.uow import unit_of_work

    with live_server.app.app_context():
        with unit_of_work() as session:
            bin_ = session.execute(select(Bin).where(Bin.code == "C-01")).scalar_one()
            task_id = open_count_task(session, bin_).id
        db.session.remove()
    sign_in(page, live_server, "ewa", f"/hh/tasks/{task_id}")
    wait_text(page, "#hh-next", "Zeskanuj lokację C-01")
    assert not page.is_visible("#hh-finish")  # nothing to finish before the bin is scanned
    scan(page, "C-01")
    wait_text(page, "#hh-next", "C-01")
    scan(page, GTINS["BOX-9"])
    scan(page, GTINS["BOX-9"])
    scan(page, GTINS["BOX-9"])
    wait_until(lambda: flashes(page) == ("ok", 4), what="four scans taken")
    lines = page.inner_text("#hh-lines")
    assert "BOX-9" in lines and "3" in lines and "/" not in lines  # blind: what the books say is not shown
    page.click("#hh-finish")
    wait_text(page, "#hh-msg", "Zakończono")
    with live_server.app.app_context():
        assert db.session.get(Task, task_id).status == "done"
    assert _quantity(live_server, "C-01", "BOX-9") == 3
    assert _stock_is_clean(live_server)


def test_a_gs1_label_with_the_lot_before_the_expiry_needs_the_group_separator(page, live_server):
    sign_in(page, live_server, "piotr", "/hh/receive")
    scan(page, "PO-GS-1")
    wait_text(page, "#hh-reference", "PO-GS-1")
    # The scanner sends FNC1 as the GS character (ASCII 29) after the variable-length lot.
    scan(page, f"01{'0' + GTINS['LOT-1']}10L78\x1d17271130")
    wait_text(page, "#hh-lines", "L78")
    assert "2027-11-30" in page.inner_text("#hh-lines")
    assert flashes(page)[0] == "ok"


def test_on_a_shared_handheld_a_kept_scan_waits_for_the_person_who_made_it(page, live_server):
    task_id = _delivery(live_server, [("KT-1", 1)])
    sign_in(page, live_server, "piotr", f"/hh/tasks/{task_id}")
    wait_text(page, "#hh-next", "Scan item KT-1")
    page.route("**/api/v1/tasks/*/scans", lambda route: route.abort())
    scan(page, GTINS["KT-1"])
    wait_until(lambda: unsent(page) == 1, what="one unsent scan")
    page.goto(f"{live_server.url}/hh")
    page.click(".hh-foot form[action='/logout'] button")
    page.unroute("**/api/v1/tasks/*/scans")
    sign_in(page, live_server, "ewa", "/hh")
    assert unsent(page) == 0  # not hers: not counted, not sent in her name
    page.wait_for_timeout(1500)
    assert _scans(live_server, task_id) == 0
    page.goto(f"{live_server.url}/hh")
    page.click(".hh-foot form[action='/logout'] button")
    sign_in(page, live_server, "piotr", "/hh")
    wait_until(lambda: _scans(live_server, task_id) == 1, what="piotr's scan sent in his session")
    with live_server.app.app_context():
        from wms.auth.models import User

        assert db.session.get(User, db.session.get(Task, task_id).assignee_id).username == "piotr"


def test_a_server_error_keeps_the_scan_and_a_refusal_drops_it(page, live_server):
    task_id = _delivery(live_server, [("KT-1", 1)])
    sign_in(page, live_server, "piotr", f"/hh/tasks/{task_id}")
    wait_text(page, "#hh-next", "Scan item KT-1")
    answers = iter([503])

    def flaky(route):
        status = next(answers, None)
        if status is None:
            route.continue_()
        else:
            route.fulfill(status=status, content_type="application/json", body='{"error": {"code": "x"}}')

    page.route("**/api/v1/tasks/*/scans", flaky)
    scan(page, GTINS["KT-1"])
    wait_text(page, "#hh-next", "Put 1 × KT-1 in A-01")  # the 503 was kept and sent again
    assert _scans(live_server, task_id) == 1
    scan(page, "NO-SUCH-CODE")  # a 422: dropped at once, red, nothing changes
    wait_text(page, "#hh-msg", "Unknown code: NO-SUCH-CODE")
    assert flashes(page)[0] == "error" and unsent(page) == 0
    assert _scans(live_server, task_id) == 1
