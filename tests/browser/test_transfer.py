"""A click & collect order the store does not hold, brought from the warehouse by a transfer: WH1 picks, packs and
ships it into transit (on the services, as the warehouse's handhelds and worker do), then the store's clerk does
the rest on the handheld: receives the transfer from its list (the parcel's label, then the items), stages the
order (shelf, items, the pickup label, the pickup shelf) and hands it over at the counter. The books agree with
the ledger (``wms check``) after each step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.conftest import scan, sign_in, wait_ready, wait_text, wait_until
from tests.browser.live import store_bin
from tests.factories import add_stock, bin_contents, gtin13, level, make_bin, make_product, order_body
from wms.extensions import db
from wms.orders.models import Order

pytest.importorskip("playwright.sync_api", reason="browser tests: the playwright package is not installed")

SKU = "TR-1"
GTIN = gtin13(9201)


def _status(server, order_id: int) -> str:
    with server.app.app_context():
        status = db.session.get(Order, order_id).status
        db.session.remove()
    return status


def _transfer_status(server, transfer_id: int) -> str:
    from wms.transfers.models import Transfer

    with server.app.app_context():
        status = db.session.get(Transfer, transfer_id).status
        db.session.remove()
    return status


def _next(server, task_id: int) -> str:
    """What the task expects next, as the server sees it (the page says it in the clerk's language)."""
    from wms.auth.models import User
    from wms.tasks.service import get_task

    with server.app.app_context():
        kasia = db.session.execute(select(User).where(User.username == "kasia")).scalar_one()
        expect = get_task(task_id, kasia)["next"]["expect"]
        db.session.remove()
    return expect


def _books(server) -> dict:
    """TR-1's level at WH1 and ST1 ((on hand sellable, reserved)) and its units in ST1's bins; the books agree with
    the ledger."""
    from wms.stock.service import check_stock

    with server.app.app_context():
        assert check_stock() == []
        books = {"WH1": level(SKU, "WH1"), "ST1": level(SKU, "ST1")}
        for bin_code in ("RCV", "S-01", "PU-01", "RET"):
            held = bin_contents("ST1", bin_code)
            books[bin_code] = {status: qty for (sku, status), qty in held.items() if sku == SKU}
        db.session.remove()
    return books


def _drive(task_id: int, user, prefix: str, tote: str) -> None:
    """Scan a WH1 task through to its end as its ``next`` asks (transfer_floor.drive with this file's product)."""
    from wms.tasks.service import apply_scan, get_task

    step, n = get_task(task_id, user)["next"], 0
    while step["expect"] != "nothing":
        n += 1
        assert n < 50, step
        code = {"bin": step.get("bin"), "product": GTIN, "tote": tote, "order": f"$O:{step.get('order')}"}.get(
            step["expect"]
        )
        qty = step["qty"] if step["expect"] == "qty" else None
        step = apply_scan(task_id, f"{prefix}-{n}", code, qty, user)["task"]["next"]
    db.session.rollback()


def _shipped_to_the_store(server, external_id: str, qty: int) -> tuple[int, int, int, str]:
    """A pickup order at ST1 for units only WH1 holds, its transfer opened by the worker's stage, waved, picked,
    packed and shipped at WH1: ``(order id, transfer id, receive task id, the parcel's SSCC)``."""
    from wms.auth.models import User
    from wms.channels.models import Channel
    from wms.locations.models import Location
    from wms.orders.models import OrderLine
    from wms.orders.service import place_order
    from wms.picking.service import release_wave
    from wms.shipping.service import create_shipment
    from wms.stock.models import Reservation
    from wms.tasks.models import Task
    from wms.transfers.models import Transfer
    from wms.transfers.service import pickup_transfers_due

    with server.app.app_context():
        make_product(SKU, "Czajnik z magazynu", barcodes=[GTIN])
        make_bin("WH1", "T-01", "pick", 30)
        add_stock("WH1", "T-01", SKU, 4)
        make_bin("ST1", "RCV", "dock", 70)  # where the units wait in transit
        channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
        body = order_body(external_id, [(SKU, qty)], fulfilment="pickup", pickup_location="ST1")
        body.pop("ship_to", None)
        placed, _ = place_order(channel_id, body)
        order_id = placed.id
        db.session.rollback()
        (reservation,) = db.session.execute(
            select(Reservation.needs_transfer, Location.code)
            .join(OrderLine, OrderLine.id == Reservation.order_line_id)
            .join(Location, Location.id == Reservation.location_id)
            .where(OrderLine.order_id == order_id)
        ).all()
        assert tuple(reservation) == (True, "WH1")  # ST1 holds none: reserved at the warehouse, to be brought
        assert pickup_transfers_due() >= 1
        transfer_id = db.session.execute(select(Transfer.id).where(Transfer.for_order_id == order_id)).scalar_one()

        piotr = db.session.execute(select(User).where(User.username == "piotr")).scalar_one()
        wave = release_wave("WH1", [order_id], actor="boss")
        for task_id in wave["tasks"]:
            _drive(task_id, piotr, f"tr-pick-{task_id}", "T-TR1")
        (pack_id,) = db.session.execute(
            select(Task.id).where(
                Task.kind == "pack",
                Task.status.in_(["open", "in_progress"]),
                Task.reference["order"].as_integer() == order_id,
            )
        ).scalars()
        _drive(pack_id, piotr, f"tr-pack-{pack_id}", "T-TR1")
        shipment = create_shipment(order_id, "test", None, [{"weight_g": 900}], user=piotr)
        assert shipment["transfer_id"] == transfer_id
        (receive_id,) = db.session.execute(
            select(Task.id).where(
                Task.kind == "transfer_receive",
                Task.status.in_(["open", "in_progress"]),
                Task.reference["transfer"].as_integer() == transfer_id,
            )
        ).scalars()
        db.session.remove()
    return order_id, transfer_id, receive_id, shipment["parcels"][0]["sscc"]


def test_a_pickup_order_from_the_warehouse_is_received_staged_and_handed_over_at_its_store(page, live_server):
    order_id, transfer_id, receive_id, sscc = _shipped_to_the_store(live_server, "WEB-TR-1", 2)
    assert _status(live_server, order_id) == "in_transit"
    assert _transfer_status(live_server, transfer_id) == "in_transit"
    books = _books(live_server)
    # gone from the warehouse, waiting at the store's dock, sellable nowhere
    assert books["WH1"] == (2, 0) and books["ST1"] == (0, 0)
    assert books["RCV"] == {"in_transit": 2} and books["S-01"] == {}

    # 1. The transfer is received: from the list, the parcel's label, then the items, one unit a scan.
    sign_in(page, live_server, "kasia")
    page.goto(f"{live_server.url}/hh/tasks?kind=transfer_receive")
    row = page.locator(f"[data-claim='{receive_id}']")
    codes = row.locator(".hh-code").all_inner_texts()
    assert str(transfer_id) in codes and str(order_id) in codes  # "transfer N · order M"
    row.click()
    page.wait_for_url(f"{live_server.url}/hh/tasks/{receive_id}")
    wait_text(page, "#hh-next", str(transfer_id))  # the transfer's label first
    assert _next(live_server, receive_id) == "order"
    wait_text(page, "#hh-lines", "0/2")
    scan(page, sscc)
    wait_until(lambda: _next(live_server, receive_id) == "product", what="the label taken")
    scan(page, GTIN)
    wait_text(page, "#hh-lines", "1/2")
    scan(page, GTIN)
    wait_until(lambda: _status(live_server, order_id) == "reserved", what="the order back to reserved")
    wait_text(page, "#hh-lines", "2/2")
    assert _transfer_status(live_server, transfer_id) == "received"
    assert page.get_attribute("#hh-flash", "data-last") == "ok"
    books = _books(live_server)
    # the store's now, on its first shelf, sellable and reserved for the order; the dock empty again
    assert books["ST1"] == (2, 2) and books["WH1"] == (2, 0)
    assert books["S-01"] == {"sellable": 2} and books["RCV"] == {} and books["RET"] == {}

    # 2. Staged: the shelf, the items, the pickup label, the pickup shelf.
    from wms.tasks.kinds.stage import open_stage_tasks

    with live_server.app.app_context():
        (stage_id,) = open_stage_tasks("ST1", order_ids=[order_id])
        code = db.session.get(Order, order_id).pickup_code
        db.session.remove()
    page.goto(f"{live_server.url}/hh/tasks/{stage_id}")
    wait_text(page, "#hh-next", "S-01")
    scan(page, "S-01")
    wait_text(page, "#hh-next", SKU)
    scan(page, GTIN)
    scan(page, GTIN)
    wait_text(page, "#hh-next", str(order_id))  # the pickup label now
    scan(page, code)
    wait_until(lambda: _next(live_server, stage_id) == "shelf", what="the label taken")
    scan(page, "PU-01")
    wait_until(lambda: _status(live_server, order_id) == "ready_for_pickup", what="the order on its shelf")
    books = _books(live_server)
    assert books["PU-01"] == {"sellable": 2} and books["S-01"] == {}
    assert books["ST1"][1] == 0  # nothing reserved any more: the units are the order's, on its shelf

    # 3. Handed over at the counter.
    page.goto(f"{live_server.url}/hh/counter")
    wait_ready(page)
    scan(page, code)
    wait_text(page, "#hh-pickup-title", "PU-01")
    assert "Anna Nowak" in page.inner_text("#hh-pickup-title")
    lines = page.locator(".hh-counter-line")
    assert lines.count() == 1 and SKU in lines.nth(0).inner_text()
    page.click("#hh-handover")
    wait_until(lambda: _status(live_server, order_id) == "collected", what="the order collected")
    wait_until(lambda: page.get_attribute("#hh-flash", "data-last") == "ok", what="the ok flash")
    books = _books(live_server)
    assert books["PU-01"] == {} and books["S-01"] == {} and books["RCV"] == {} and books["RET"] == {}
    assert books["ST1"] == (0, 0) and books["WH1"] == (2, 0)
    assert store_bin(live_server, "RCV") == []
