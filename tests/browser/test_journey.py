"""One delivery's whole journey through the browser, as its people do it: a picker receives it by scanning and
puts it away on the handheld; a channel orders over the API; a manager releases the wave on the waves page; the
picker picks it into a tote, packs it and ships it; the channel sees it shipped with its tracking number. The books
agree with the ledger (``wms check``) after every step."""

from __future__ import annotations

import json
import urllib.request

import pytest
from sqlalchemy import select

from tests.browser.conftest import scan, sign_in, wait_ready, wait_text, wait_until
from tests.factories import gtin13, make_bin, make_product, order_body
from tests.web.staff import PASSWORD
from wms.channels.service import create_token
from wms.extensions import db
from wms.orders.models import Order
from wms.stock.service import check_stock
from wms.tasks.models import Task, TaskLine

pytest.importorskip("playwright.sync_api", reason="browser tests: the playwright package is not installed")

GTIN = gtin13(9301)


def _books_agree(server) -> None:
    with server.app.app_context():
        assert check_stock() == []
        db.session.remove()


def _api(server, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.url}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the live server on 127.0.0.1
        return answer.status, json.loads(answer.read())


def _task_of(server, kind: str, order_id: int) -> int:
    with server.app.app_context():
        task_id = db.session.execute(
            select(Task.id)
            .join(TaskLine, TaskLine.task_id == Task.id)
            .where(Task.kind == kind, TaskLine.order_id == order_id)
            .order_by(Task.id.desc())
        ).scalar()
        db.session.remove()
    return task_id


def _status(server, order_id: int) -> str:
    with server.app.app_context():
        status = db.session.get(Order, order_id).status
        db.session.remove()
    return status


def test_receive_put_away_order_wave_pick_pack_ship(browser, page, live_server):
    with live_server.app.app_context():
        make_product("JRN-1", "Konewka 5 l", barcodes=[GTIN])
        make_bin("WH1", "D-01", "pick", 40)  # an empty pick bin, whatever the other tests filled: one is suggested
        channel_token = create_token("channel", "journey", channel_code="WEB")
        db.session.remove()

    # 1. The delivery arrives: the picker scans it in against its reference and puts it away.
    sign_in(page, live_server, "piotr", "/hh/receive")
    wait_text(page, "#hh-next", "delivery reference")
    scan(page, "PO-JOURNEY-1")
    wait_text(page, "#hh-reference", "PO-JOURNEY-1")
    for _ in range(3):
        scan(page, GTIN)
    wait_until(lambda: page.inner_text("#hh-lines li:first-child .hh-line-count") == "3", what="3 units scanned")
    page.click("#hh-receive")
    wait_text(page, "#hh-msg", "Put-away task opened")
    _books_agree(live_server)
    page.click("#hh-task-link")
    wait_ready(page)
    wait_text(page, "#hh-next", "Scan item JRN-1")
    scan(page, GTIN)
    prompt = wait_text(page, "#hh-next", "Put 3 × JRN-1 in ")
    shelf = prompt.split(" in ")[1].split(":")[0].strip()  # the first empty pick bin in walk order
    scan(page, "D-99")  # no such bin: refused, nothing moves
    wait_text(page, "#hh-msg", "D-99")
    scan(page, shelf)
    wait_text(page, "#hh-next", "Task done")
    _books_agree(live_server)

    # 2. A customer orders two on the web shop.
    status, order = _api(live_server, "POST", "/api/v1/orders", channel_token, order_body("JOURNEY-1", [("JRN-1", 2)]))
    assert status == 201 and order["status"] == "reserved"
    order_id = order["id"]
    _books_agree(live_server)

    # 3. The manager releases the wave on the waves page (a desktop browser).
    desk = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    manager = desk.new_page()
    manager.goto(f"{live_server.url}/login?next=/waves")
    manager.fill("#username", "boss")
    manager.fill("#password", PASSWORD)
    manager.click("button[type=submit]")
    manager.wait_for_url(f"{live_server.url}/waves*")
    manager.check(f"#order-{order_id}")
    manager.click("#release-form button[type=submit]")
    wait_until(lambda: _status(live_server, order_id) == "picking", what="the order released")
    desk.close()
    pick_task = _task_of(live_server, "pick", order_id)
    assert pick_task
    _books_agree(live_server)

    # 4. The picker picks it into a tote: tote, bin, item, item.
    page.goto(f"{live_server.url}/hh/tasks?kind=pick")
    wait_ready(page)
    page.click(f"[data-claim='{pick_task}']")
    wait_ready(page)
    wait_text(page, "#hh-next", f"Scan a tote for order {order_id}")
    scan(page, "T-JRN")
    wait_text(page, "#hh-next", shelf)
    scan(page, "B-01" if shelf != "B-01" else "A-01")  # the wrong bin: refused
    wait_text(page, "#hh-msg", f"Scan bin {shelf}")
    scan(page, shelf)
    wait_text(page, "#hh-next", "JRN-1")
    scan(page, GTIN)
    wait_text(page, "#hh-next", "1 more × JRN-1 into tote T-JRN")
    scan(page, GTIN)
    wait_text(page, "#hh-next", "Task done")
    _books_agree(live_server)

    # 5. At the pack station: the tote, every unit checked, a parcel, shipped with a typed tracking number.
    pack_task = _task_of(live_server, "pack", order_id)
    page.goto(f"{live_server.url}/hh/tasks?kind=pack")
    wait_ready(page)
    page.click(f"[data-claim='{pack_task}']")
    wait_ready(page)
    wait_text(page, "#hh-next", "Scan tote T-JRN")
    scan(page, "T-JRN")
    scan(page, GTIN)
    scan(page, GTIN)
    wait_until(lambda: page.is_visible("#hh-ship"), what="the shipping form")
    assert _status(live_server, order_id) == "packed"
    page.fill("[name=weight_g]", "2400")
    page.select_option("#hh-carrier", "manual")
    page.fill("#hh-tracking", "PL-JOURNEY-0001")
    page.click("#hh-ship button[type=submit]")
    wait_text(page, "#hh-msg", "Shipped")
    _books_agree(live_server)

    # 6. The channel sees it shipped, with carrier and tracking number.
    status, seen = _api(live_server, "GET", f"/api/v1/orders/{order_id}", channel_token)
    assert status == 200 and seen["status"] == "shipped"
    assert [(s["carrier"], s["tracking"]) for s in seen["shipments"]] == [("manual", "PL-JOURNEY-0001")]
    assert seen["lines"][0]["picked"] == 2 and seen["lines"][0]["shipped"] == 2
