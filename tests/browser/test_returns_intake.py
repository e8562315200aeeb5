"""Returns at the store counter through the browser, on the clerk's handheld: a walk-in return (the order number
typed, the item scanned, graded opened and quarantined, then scrapped by a manager on the returns page), and a
return the channel opened online (its label scanned, the item restocked), and one of an item never bought,
refused. The books agree with the ledger (``wms check``) after each."""

from __future__ import annotations

import json
import urllib.request

import pytest
from sqlalchemy import select

from tests.browser.conftest import scan, sign_in, type_slowly, wait_text
from tests.browser.live import GTINS, collected_pickup, store_bin
from tests.factories import gtin13
from tests.web.staff import PASSWORD
from wms.extensions import db
from wms.returns.models import Return

pytest.importorskip("playwright.sync_api", reason="browser tests: the playwright package is not installed")


_in_bin = store_bin


def _returns_of(server, order_id: int) -> list[tuple[str, str]]:
    with server.app.app_context():
        rows = db.session.execute(select(Return.rma, Return.status).where(Return.order_id == order_id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_a_walk_in_return_is_quarantined_then_scrapped_by_a_manager(page, live_server):
    order_id = collected_pickup(live_server, "WEB-RT-1", [("KT-1", 1)])
    sign_in(page, live_server, "kasia")
    page.goto(f"{live_server.url}/hh/returns")
    wait_text(page, "#hh-next", "order number")
    type_slowly(page, str(order_id))
    wait_text(page, "#hh-next", f"order {order_id}")
    scan(page, GTINS["KT-1"])
    line = page.locator(".hh-return-lines li")
    line.wait_for()
    line.locator("[data-grade]").select_option("opened")
    line.locator("[data-disposition]").select_option("quarantine")
    page.click("#hh-take-in")
    wait_text(page, "#hh-msg", "in quarantine")
    ((rma, status),) = _returns_of(live_server, order_id)
    assert status == "inspected" and rma in page.inner_text("#hh-msg")
    assert ("quarantine", 1) in _in_bin(live_server, "RET")  # the live server is shared: other tests use RET too

    # the manager decides on the returns page: scrap
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login?next=/returns")
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/returns")
    row = page.locator("table.quarantine tr", has_text=rma)
    row.get_by_role("button", name="Scrap").click()
    page.wait_for_url(f"{live_server.url}/returns")
    assert f"Scrapped: the units of {rma} left stock." in page.inner_text("main")
    assert _returns_of(live_server, order_id) == [(rma, "closed")]
    assert ("quarantine", 1) not in _in_bin(live_server, "RET")


def test_an_online_return_is_scanned_by_its_label_and_restocked(page, live_server):
    order_id = collected_pickup(live_server, "WEB-RT-2", [("KT-1", 1)])
    # the channel opens it for its customer, to hand in at ST1
    body = {"order_id": order_id, "method": "store", "store": "ST1", "lines": [{"sku": "KT-1", "qty": 1}]}
    rma = _open_return(live_server, body)
    shelf_before = sum(q for _, q in _in_bin(live_server, "S-01"))
    sign_in(page, live_server, "kasia")
    page.goto(f"{live_server.url}/hh/returns")
    wait_text(page, "#hh-next", "order number")
    scan(page, f"$R:{rma}")
    wait_text(page, "#hh-next", rma)
    scan(page, GTINS["KT-1"])
    page.locator(".hh-return-lines li").wait_for()
    scan(page, GTINS["KT-1"])  # one more than the return expects: refused
    wait_text(page, "#hh-msg", "Only 1")
    page.click("#hh-take-in")
    wait_text(page, "#hh-msg", "closed")
    assert _returns_of(live_server, order_id) == [(rma, "closed")]
    assert sum(q for _, q in _in_bin(live_server, "S-01")) == shelf_before + 1


def _open_return(server, body: dict) -> str:
    """POST /api/v1/returns with a token of the live server's WEB channel; the RMA."""
    from wms.channels.service import create_token

    with server.app.app_context():
        token = create_token("channel", channel_code="WEB")
        db.session.remove()
    request = urllib.request.Request(
        f"{server.url}/api/v1/returns",
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["rma"]


def test_a_return_of_an_item_never_bought_is_refused_and_changes_nothing(page, live_server):
    order_id = collected_pickup(live_server, "WEB-RT-3", [("KT-1", 1)])
    before = _in_bin(live_server, "RET")
    sign_in(page, live_server, "kasia")
    page.goto(f"{live_server.url}/hh/returns")
    wait_text(page, "#hh-next", "order number")
    type_slowly(page, str(order_id))
    wait_text(page, "#hh-next", f"order {order_id}")
    scan(page, GTINS["BOX-9"])  # stocked here, but never on this order
    page.locator(".hh-return-lines li").wait_for()
    page.click("#hh-take-in")
    wait_text(page, "#hh-msg", "was not bought")
    assert page.get_attribute("#hh-flash", "data-last") == "error"
    assert _returns_of(live_server, order_id) == [] and _in_bin(live_server, "RET") == before


RTW, RTW_GTIN = "RTW-1", gtin13(9501)


def _shipped_from_the_warehouse(server, external_id: str) -> int:
    """An order of 1 x RTW-1 of the WEB channel, picked, packed and shipped from WH1 by piotr's scans: its id."""
    from tests.browser.live import pick_wave
    from tests.factories import add_stock, make_bin, make_product
    from wms.auth.models import User
    from wms.shipping.service import create_shipment
    from wms.tasks.models import Task
    from wms.tasks.service import apply_scan, get_task

    with server.app.app_context():
        make_product(RTW, "Czajnik", barcodes=[RTW_GTIN])
        make_bin("WH1", "R-09", "pick", 40)
        add_stock("WH1", "R-09", RTW, 3)
        db.session.remove()
    order_id, pick_id = pick_wave(server, external_id, [(RTW, 1)])
    with server.app.app_context():
        piotr = db.session.execute(select(User).where(User.username == "piotr")).scalar_one()
        n = 0
        for kind in ("pick", "pack"):
            if kind == "pick":
                task_id = pick_id
            else:
                task_id = db.session.execute(
                    select(Task.id).where(Task.kind == "pack", Task.reference["order"].as_integer() == order_id)
                ).scalar_one()
            step = get_task(task_id, piotr)["next"]
            while step["expect"] != "nothing":
                n += 1
                code = {"bin": step.get("bin"), "product": RTW_GTIN, "tote": "T-RTW1"}.get(step["expect"])
                step = apply_scan(task_id, f"rtw-{n}", code, None, piotr)["task"]["next"]
        create_shipment(order_id, "manual", "RTW-TRACK-1", [{"weight_g": 700}], user=piotr)
        db.session.remove()
    return order_id


def _wh1_quants(server) -> list[tuple[str, str, int]]:
    from wms.catalog.models import Product
    from wms.locations.models import Bin, Location
    from wms.stock.models import StockQuant
    from wms.stock.service import check_stock

    with server.app.app_context():
        rows = db.session.execute(
            select(Bin.code, StockQuant.status, StockQuant.qty)
            .join(Bin, Bin.id == StockQuant.bin_id)
            .join(Location, Location.id == Bin.location_id)
            .join(Product, Product.id == StockQuant.product_id)
            .where(Location.code == "WH1", Product.sku == RTW, StockQuant.qty != 0)
        ).all()
        assert check_stock() == []
        db.session.remove()
    return sorted(tuple(row) for row in rows)


def test_an_online_return_sent_to_the_warehouse_is_restocked_there(page, live_server):
    order_id = _shipped_from_the_warehouse(live_server, "WEB-RT-4")
    assert _wh1_quants(live_server) == [("R-09", "sellable", 2)]
    # the channel opens it for its customer, who sends it back by parcel: it is expected where it left from
    rma = _open_return(
        live_server, {"order_id": order_id, "method": "ship", "lines": [{"sku": RTW, "qty": 1, "reason": "broken"}]}
    )
    sign_in(page, live_server, "piotr")  # a picker at the warehouse takes the parcel in
    page.goto(f"{live_server.url}/hh/returns")
    wait_text(page, "#hh-next", "order number")
    scan(page, f"$R:{rma}")
    wait_text(page, "#hh-next", rma)
    scan(page, RTW_GTIN)
    page.locator(".hh-return-lines li").wait_for()
    page.click("#hh-take-in")
    wait_text(page, "#hh-msg", "closed")
    assert _returns_of(live_server, order_id) == [(rma, "closed")]
    # back on the shelf it was picked from, sellable again
    assert _wh1_quants(live_server) == [("R-09", "sellable", 3)]
