"""A location's stock health: pick faces short of the pick lines waiting on them, products below their min, slow
movers, what the stock check found there; clerks and pickers may not open it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.factories import order_body
from tests.integration.tasks.pick_floor import pick_task
from tests.integration.transfers.transfer_floor import make_transfer_floor
from tests.web.staff import client_fixture, sign_in  # noqa: F401
from wms.extensions import db
from wms.orders.service import place_order
from wms.stock.checks import run_check
from wms.stock.models import StockMovement, StockQuant
from wms.stock.service import move
from wms.summaries.last_movement import catch_up
from wms.timeutil import utcnow
from wms.transfers.replenishment import set_min_max


@pytest.fixture
def floor(app, monkeypatch):
    return make_transfer_floor(monkeypatch)


def section(html: str, cls: str) -> str:
    return html.split(f'class="list {cls}"', 1)[1].split("</table>", 1)[0] if f'class="list {cls}"' in html else ""


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_clerks_and_pickers_may_not_open_it(client, floor, who):
    sign_in(client, who)
    assert client.get("/health?location=WH1").status_code == 403


def test_a_locations_health(client, floor):
    order, _ = place_order(floor["channel"], order_body("WEB-1", [("A", 4)]))
    pick_task([order.id])
    # the face A-01 holds 2 of the 10 the books had: the pick line asks 4
    db.session.execute(update(StockQuant).where(StockQuant.qty == 10).values(qty=2))
    set_min_max("ST1", "A", 2, 5)
    # B has not moved at WH1 for 40 days
    db.session.execute(update(StockMovement).values(created_at=utcnow() - timedelta(days=40)))
    db.session.commit()
    run_check()
    sign_in(client, "boss")
    html = client.get("/health?location=WH1").get_data(as_text=True)
    faces = section(html, "h-faces")
    assert "A-01" in faces and ">4<" in faces and ">2<" in faces
    slow = section(html, "h-slow")
    assert ">B<" in slow and ">A<" in slow  # neither has moved at WH1 for 40 days
    assert "No movement" not in slow
    recent = client.get("/health?location=WH1&days=60").get_data(as_text=True)
    assert section(recent, "h-slow") == ""  # within 60 days both moved
    # The same from the summary of last movements the worker keeps (above: from the ledger rows it had not read)
    assert catch_up() > 0 and catch_up() == 0
    assert section(client.get("/health?location=WH1").get_data(as_text=True), "h-slow") == slow
    assert section(client.get("/health?location=WH1&days=60").get_data(as_text=True), "h-slow") == ""
    move("WH1", "A-02", "A-01", "B", 1)  # B moves today: no longer slow, before and after the worker reads it
    for _ in range(2):
        slow_now = section(client.get("/health?location=WH1").get_data(as_text=True), "h-slow")
        assert ">A<" in slow_now and ">B<" not in slow_now
        catch_up()
    assert "A in WH1/A-01" in html.split('id="h-drift"', 1)[1]
    store = client.get("/health?location=ST1").get_data(as_text=True)
    assert ">A<" in section(store, "h-min")
    assert client.get("/health?location=NOPE").status_code == 404
