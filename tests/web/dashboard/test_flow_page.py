"""The flow page: orders being worked per location and status, click & collect per store, returns per location,
transfers per route, counted as the work stands; clerks and pickers may not open it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import order_body
from tests.integration.transfers.transfer_floor import make_transfer_floor, pickup_order
from tests.web.staff import client_fixture, sign_in  # noqa: F401
from wms.extensions import db
from wms.orders.models import Order
from wms.orders.service import place_order
from wms.timeutil import utcnow
from wms.transfers.models import Transfer
from wms.transfers.service import create_transfer


@pytest.fixture
def floor(app, monkeypatch):
    return make_transfer_floor(monkeypatch)


def row(html: str, marker: str) -> list[str]:
    """The cells' texts of the row that starts at ``marker``."""
    part = html.split(marker, 1)[1].split("</tr>", 1)[0]
    return [cell.rsplit(">", 1)[-1].strip() for cell in part.split("</td>")[:-1]]


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_clerks_and_pickers_may_not_open_it(client, floor, who):
    sign_in(client, who)
    assert client.get("/flow").status_code == 403


def test_the_work_as_it_stands(client, floor):
    place_order(floor["channel"], order_body("WEB-1", [("A", 1)]))
    place_order(floor["channel"], order_body("WEB-2", [("B", 1)]))
    waiting = pickup_order(floor, "WEB-3", [("A", 1)])  # reserved at WH1, to travel to ST1
    ready = pickup_order(floor, "WEB-4", [("A", 1)])
    db.session.execute(
        update(Order)
        .where(Order.id == ready)
        .values(status="ready_for_pickup", hold_until=utcnow() - timedelta(hours=1))
    )
    late = create_transfer("WH1", "ST1", [{"sku": "B", "qty": 1}])
    db.session.execute(
        update(Transfer)
        .where(Transfer.id == late.id)
        .values(status="in_transit", shipped_at=utcnow() - timedelta(days=3))
    )
    db.session.commit()
    sign_in(client, "boss")
    html = client.get("/flow").get_data(as_text=True)
    orders = html.split('class="list flow-orders"', 1)[1].split("</table>", 1)[0]
    assert "WH1" in orders and ">reserved<" in orders.replace("Reserved", "reserved")
    assert row(html, 'id="flow-pickups-ST1"') == ["1", "0", "1", "1", "0"]
    assert waiting
    exported = client.get("/flow?csv=transfers")
    assert exported.mimetype == "text/csv"
    assert list(csv.DictReader(io.StringIO(exported.get_data(as_text=True)))) == [
        {"From": "WH1", "To": "ST1", "To ship": "0", "In transit": "1", "Late (over 2 days)": "1"}
    ]


def test_waves_and_pick_productivity(client, floor):
    from tests.integration.transfers.transfer_floor import GTINS, users
    from wms.picking.service import release_wave
    from wms.tasks.models import Task
    from wms.tasks.service import apply_scan

    first, _ = place_order(floor["channel"], order_body("WEB-1", [("A", 2)]))
    place_order(floor["channel"], order_body("WEB-2", [("B", 1)]))
    wave = release_wave("WH1", actor="boss")
    piotr = users()["piotr"]
    (task_id,) = [
        t.id
        for t in db.session.execute(select(Task).where(Task.kind == "pick")).scalars()
        if first.id in t.reference["orders"]
    ]
    db.session.rollback()
    # WEB-1's line: two units of A from A-01, scanned one by one (one line, two ledger rows)
    for n, code in enumerate(["T-1", "A-01", GTINS["A"], GTINS["A"]]):
        apply_scan(task_id, f"s{n}", code, None, piotr)
    sign_in(client, "boss")
    html = client.get("/flow").get_data(as_text=True)
    cells = row(html, f'id="flow-wave-{wave["id"]}"')
    # location, released, by, orders, tasks done, tasks, lines picked, lines, progress
    assert cells[0] == "WH1" and cells[2] == "boss" and cells[3:8] == ["2", "1", "1", "1", "2"] or cells
    pickers = list(csv.DictReader(io.StringIO(client.get("/flow?csv=pickers").get_data(as_text=True))))
    assert pickers == [
        {"Picker": "piotr", "Lines picked": "1", "Units": "2", "Hours picking": "1", "Lines per hour": "1.0"}
    ]
    zones = list(csv.DictReader(io.StringIO(client.get("/flow?csv=zones").get_data(as_text=True))))
    assert zones == [
        {
            "Location": "WH1",
            "Zone": "A",
            "Lines picked": "1",
            "Units": "2",
            "Hours picking": "1",
            "Lines per hour": "1.0",
        }
    ]


def test_orders_against_the_carriers_cut_off(client, floor):
    fresh, _ = place_order(floor["channel"], order_body("WEB-NEW", [("A", 1)]))
    old, _ = place_order(floor["channel"], order_body("WEB-OLD", [("B", 1)]))
    db.session.execute(update(Order).where(Order.id == old.id).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    sign_in(client, "boss")
    exported = client.get("/flow?csv=orders").get_data(as_text=True)
    (wh1,) = [r for r in csv.DictReader(io.StringIO(exported)) if r["Location"] == "WH1"]
    assert (wh1["Orders"], wh1["Due by the next cut-off"], wh1["Past their cut-off"]) == ("2", "1", "1")
    assert fresh
