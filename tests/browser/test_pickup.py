"""Click & collect through the browser, as the store's clerk does it on the handheld: the stage task (shelf, item,
the pickup label, the pickup shelf), then the counter: the customer's code scanned, one unit declined as damaged,
the rest handed over. The books agree with the ledger (``wms check``) after each step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.conftest import scan, sign_in, wait_text, wait_until
from tests.browser.live import GTINS, pickup_stage, store_bin
from wms.extensions import db
from wms.orders.models import Order

pytest.importorskip("playwright.sync_api", reason="browser tests: the playwright package is not installed")


def _status(server, order_id: int) -> str:
    with server.app.app_context():
        status = db.session.get(Order, order_id).status
        db.session.remove()
    return status


_in_bin = store_bin


def test_stage_then_hand_over_with_a_sellable_and_a_damaged_line_declined(page, live_server):
    order_id, task_id, code = pickup_stage(live_server, "WEB-PU-1", [("KT-1", 2), ("BOX-9", 1)])
    shelf_before = _in_bin(live_server, "S-01")
    sign_in(page, live_server, "kasia")
    page.goto(f"{live_server.url}/hh/tasks/{task_id}")
    wait_text(page, "#hh-next", "S-01")
    scan(page, "S-01")
    wait_text(page, "#hh-next", "KT-1")
    scan(page, GTINS["KT-1"])
    scan(page, GTINS["KT-1"])
    wait_text(page, "#hh-next", "S-02")
    scan(page, "S-02")
    wait_text(page, "#hh-next", "BOX-9")
    scan(page, GTINS["BOX-9"])
    wait_text(page, "#hh-next", str(order_id))  # the pickup label now
    scan(page, code)
    wait_text(page, "#hh-next", "shelf")
    scan(page, "PU-01")
    wait_until(lambda: _status(live_server, order_id) == "ready_for_pickup", what="the order on its shelf")
    assert sorted(_in_bin(live_server, "PU-01")) == [("sellable", 1), ("sellable", 2)]

    page.goto(f"{live_server.url}/hh/counter")
    wait_text(page, "#hh-next", "pickup code")
    scan(page, code)
    wait_text(page, "#hh-pickup-title", "PU-01")
    assert "Anna Nowak" in page.inner_text("#hh-pickup-title")
    lines = page.locator(".hh-counter-line")
    assert lines.count() == 2 and "2 on the shelf" in lines.nth(0).inner_text()
    # one KT-1 declined, still sellable; the BOX-9 declined, damaged
    lines.nth(0).locator("[data-declined]").fill("1")
    lines.nth(0).locator("[data-reason]").fill("wrong colour")
    lines.nth(1).locator("[data-declined]").fill("1")
    lines.nth(1).locator("[data-condition]").select_option("damaged")
    lines.nth(1).locator("[data-reason]").fill("dented")
    page.click("#hh-handover")
    wait_text(page, "#hh-msg", "partially collected")
    assert page.get_attribute("#hh-flash", "data-last") == "ok"
    assert _status(live_server, order_id) == "partially_collected"
    assert _in_bin(live_server, "PU-01") == [] and ("damaged", 1) in _in_bin(live_server, "RET")
    # the declined KT-1 is back on the shelf it came from, sellable
    assert sum(q for _, q in _in_bin(live_server, "S-01")) == sum(q for _, q in shelf_before) - 2 + 1

    # the same code again: handed over already, a clear refusal
    scan(page, code)
    wait_text(page, "#hh-pickup-title", "partially collected")
    assert page.is_hidden("#hh-handover")


def test_an_expired_pickup_is_cleared_from_its_shelf_by_the_clerk(page, live_server):
    from datetime import timedelta

    from wms.pickups.expiry import expire_due
    from wms.tasks.models import Task
    from wms.timeutil import utcnow

    order_id, task_id, code = pickup_stage(live_server, "WEB-PU-2", [("KT-1", 1)])
    with live_server.app.app_context():
        from wms.auth.models import User
        from wms.tasks.service import apply_scan

        kasia = db.session.execute(select(User).where(User.username == "kasia")).scalar_one()
        for n, scanned in enumerate(["S-01", GTINS["KT-1"], code, "PU-01"]):
            apply_scan(task_id, f"x-{n}", scanned, None, kasia)
        assert expire_due(utcnow() + timedelta(days=30)) >= 1
        (clear_id,) = db.session.execute(
            select(Task.id).where(Task.kind == "putaway", Task.reference["order"].as_integer() == order_id)
        ).scalars()
        db.session.remove()
    assert _status(live_server, order_id) == "expired"
    sign_in(page, live_server, "kasia")
    page.goto(f"{live_server.url}/hh/tasks/{clear_id}")
    wait_text(page, "#hh-next", "KT-1")
    scan(page, GTINS["KT-1"])
    wait_text(page, "#hh-next", "S-01")  # back where the product is sold from
    scan(page, "S-01")
    wait_until(lambda: _in_bin(live_server, "PU-01") == [], what="the shelf cleared")
