"""The managers' pages in a desktop browser: the stock search answers as you type and a scanned barcode opens the
product at once; the exceptions panel refreshes itself without a reload and resolves a flagged order in one click."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import update

from tests.browser.conftest import wait_until
from tests.browser.live import GTINS, pick_wave
from tests.web.staff import PASSWORD
from wms.extensions import db
from wms.orders.models import Order

pytest.importorskip("playwright.sync_api", reason="browser tests: the playwright package is not installed")

DESKTOP = {"width": 1280, "height": 800}


def _csv_rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def desk(browser, live_server):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/login?next=/stock")
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/stock")
    yield page
    context.close()


def test_search_as_you_type_and_by_a_scan(desk, live_server):
    desk.fill("#q", "kt")
    wait_until(lambda: desk.get_attribute("#stock-search", "data-count") == "2", what="two products as you type")
    assert "KT-1" in desk.inner_text("#stock-hits")
    desk.fill("#q", "")
    desk.keyboard.type(GTINS["KT-1"], delay=5)  # a wedge scanner into the search box
    desk.keyboard.press("Enter")
    desk.wait_for_url(f"{live_server.url}/stock/KT-1*")
    assert "Patelnia" in desk.inner_text("h1")
    # drill down to the stock card and export it: a download, parsed as a spreadsheet would
    with desk.expect_download() as download:
        desk.click("#card-csv")
    rows = _csv_rows(download.value.path())
    assert rows and set(rows[0]) >= {"at", "qty", "reason", "actor"}
    assert all(r["qty"].lstrip("-").isdigit() for r in rows)


def test_a_table_sorts_pages_and_exports_to_csv(desk, live_server):
    from wms.transfers.replenishment import set_min_max

    with live_server.app.app_context():
        for sku in ("KT-1", "LOT-1", "BOX-9"):
            set_min_max("ST1", sku, 1, 5, actor="boss")
        db.session.remove()
    desk.goto(f"{live_server.url}/replenishment")
    # sort the min/max rules by product, descending (two clicks on the header), then export what is shown
    header = desk.locator("table.min-max th", has_text="Product")
    header.locator("a.sort").click()
    desk.wait_for_url("**rules-sort=sku*")
    desk.locator("table.min-max th", has_text="Product").locator("a.sort").click()
    desk.wait_for_url("**rules-sort=-sku*")
    assert desk.locator("table.min-max th", has_text="Product").get_attribute("aria-sort") == "descending"
    shown = desk.locator("table.min-max tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    with desk.expect_download() as download:
        desk.locator("nav.table-pager[data-table=rules] a.csv").click()
    assert download.value.suggested_filename == "rules.csv"
    rows = _csv_rows(download.value.path())
    assert [f"rule-{r['Location']}-{r['Product']}" for r in rows] == shown
    assert [r["Product"] for r in rows] == sorted((r["Product"] for r in rows), reverse=True)


def test_the_exceptions_panel_refreshes_itself_and_settles_a_flag(desk, live_server):
    order_id, _task = pick_wave(live_server, "WEB-EX-1", [("KT-1", 1)])
    desk.clock.install()  # the page's timers run when the test says, not 15 s later
    desk.goto(f"{live_server.url}/exceptions")
    assert f"ex-order-{order_id}" not in desk.content()
    with live_server.app.app_context():
        db.session.execute(update(Order).where(Order.id == order_id).values(attention="bin A-01 was empty"))
        db.session.commit()
        db.session.remove()
    # no reload: the panel fetches itself again within its interval (and not before it)
    desk.clock.run_for(10_000)
    desk.wait_for_timeout(300)
    assert desk.locator(f"#ex-order-{order_id}").count() == 0
    desk.clock.run_for(6_000)
    wait_until(lambda: desk.locator(f"#ex-order-{order_id}").count() == 1, timeout=25, what="the flag on the panel")
    desk.locator(f"#ex-order-{order_id} button").click()
    desk.wait_for_url(f"{live_server.url}/exceptions")
    assert desk.locator(f"#ex-order-{order_id}").count() == 0
    with live_server.app.app_context():
        assert db.session.get(Order, order_id).attention is None
        db.session.remove()


def test_a_suggestion_becomes_a_transfer(desk, live_server):
    from wms.transfers.replenishment import set_min_max

    with live_server.app.app_context():
        set_min_max("ST2", "KT-1", 10, 12, actor="boss")  # ST2 holds 7 of KT-1: below its min
        db.session.remove()
    desk.goto(f"{live_server.url}/replenishment")
    row = desk.locator("#suggestion-ST2-KT-1")
    assert "WH1" in row.inner_text() and row.locator("input[type=checkbox]").is_checked()
    desk.click("#make-transfers")
    desk.wait_for_url(f"{live_server.url}/transfers")
    assert "ST2" in desk.inner_text("table.transfers")
    desk.goto(f"{live_server.url}/replenishment")
    assert desk.locator("#suggestion-ST2-KT-1").count() == 0  # what is coming covers it now


def test_charts_are_drawn_from_the_apps_own_library(desk, live_server):
    desk.goto(f"{live_server.url}/stock/KT-1")
    wait_until(lambda: desk.get_attribute("#history-chart", "data-drawn") == "60", what="the stock history drawn")
    desk.goto(f"{live_server.url}/flow")
    for chart in ("#orders-chart", "#picks-chart", "#pickups-chart"):
        wait_until(lambda c=chart: desk.get_attribute(c, "data-drawn") is not None, what=f"{chart} drawn")
    # nothing came from anywhere but the app (no CDN: stores' networks are closed)
    assert all(r.startswith(live_server.url) for r in _resources(desk))


def _resources(page) -> list[str]:
    return [
        entry["name"] for entry in page.evaluate("performance.getEntriesByType('resource').map(e => ({name: e.name}))")
    ]
