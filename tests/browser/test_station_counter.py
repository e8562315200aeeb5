"""A counter PC with a serial scanner: its station agent uploads the scans (``POST /api/v1/stations/{code}/scans``,
as ``wms station`` does) and the pickup counter page opened with ``?station=`` takes them as its own scans, with
the same flash: the customer's code finds the order, a wrong code is refused."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from sqlalchemy import select

from tests.browser.conftest import sign_in, wait_text, wait_until
from tests.browser.live import pickup_stage
from tests.factories import add_stock, gtin13, make_bin, make_product
from wms.extensions import db
from wms.orders.models import Order

pytest.importorskip("playwright.sync_api", reason="browser tests: the playwright package is not installed")

STATION = "ST1-COUNTER"
#: this test's own product on its own ST1 shelf: the live server is shared, and KT-1 on S-01 runs out
PRODUCT, GTIN, SHELF = "STC-1", gtin13(9401), "S-09"


def _station_token(server) -> str:
    from wms.printing.service import add_printer
    from wms.printing.stations import create_station_token

    with server.app.app_context():
        make_product(PRODUCT, "Kubek", barcodes=[GTIN])
        make_bin("ST1", SHELF, "pick", 9)
        add_stock("ST1", SHELF, PRODUCT, 2)
        folder = server.app.config["PRINTER_DIR_ROOT"]
        add_printer("ST1-counter-pdf", f"pdf+dir://{folder}/st1-counter", "ST1", station_code=STATION)
        token = create_station_token(STATION, "counter PC agent")
        db.session.remove()
    return token


def _agent_scan(server, token: str, code: str) -> None:
    """What ``wms station`` does with a line from its serial scanner: upload it."""
    body = json.dumps({"scans": [{"client_id": str(uuid.uuid4()), "code": code}]}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/v1/stations/{STATION}/scans",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201)


def _ready(server, order_id: int, task_id: int, code: str) -> None:
    from wms.auth.models import User
    from wms.tasks.service import apply_scan

    with server.app.app_context():
        kasia = db.session.execute(select(User).where(User.username == "kasia")).scalar_one()
        for n, scanned in enumerate([SHELF, GTIN, code, "PU-01"]):
            apply_scan(task_id, f"st-{order_id}-{n}", scanned, None, kasia)
        assert db.session.get(Order, order_id).status == "ready_for_pickup"
        db.session.remove()


def _status(server, order_id: int) -> str:
    with server.app.app_context():
        status = db.session.get(Order, order_id).status
        db.session.remove()
    return status


def test_the_station_scanner_drives_the_counter_page(page, live_server):
    token = _station_token(live_server)
    order_id, task_id, code = pickup_stage(live_server, "WEB-ST-1", [(PRODUCT, 1)])
    _ready(live_server, order_id, task_id, code)
    sign_in(page, live_server, "kasia")
    page.goto(f"{live_server.url}/hh/counter?station={STATION}")
    wait_until(lambda: page.get_attribute("#hh-station", "data-state") == "live", what="the station feed open")

    _agent_scan(live_server, token, "NOT-A-CODE-99")
    wait_until(lambda: page.get_attribute("#hh-flash", "data-last") == "error", what="a red flash for a wrong code")
    _agent_scan(live_server, token, code)
    wait_text(page, "#hh-pickup-title", "PU-01")
    assert page.get_attribute("#hh-flash", "data-last") == "ok"
    page.click("#hh-handover")
    wait_until(lambda: _status(live_server, order_id) == "collected", what="the order collected")


def test_a_station_the_clerk_may_not_see_is_refused(page, live_server):
    sign_in(page, live_server, "piotr")  # a picker at WH1: the counter is not his, nor ST1's station
    answer = page.goto(f"{live_server.url}/hh/counter?station=NO-SUCH-STATION")
    assert answer.status in (403, 404)
