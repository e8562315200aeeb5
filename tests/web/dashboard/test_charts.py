"""The charts' data: a product's stock per location day by day from the ledger, orders per hour by channel, pick
lines per hour, click & collect's median time from ready to collected; the charting library is served by the app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import add_stock, order_body
from tests.integration.transfers.transfer_floor import make_transfer_floor
from tests.web.staff import client_fixture, sign_in  # noqa: F401
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Order, OrderEvent
from wms.orders.service import place_order
from wms.stock.models import StockMovement
from wms.timeutil import utcnow


@pytest.fixture
def floor(app, monkeypatch):
    return make_transfer_floor(monkeypatch)


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_clerks_and_pickers_get_no_chart(client, floor, who):
    sign_in(client, who)
    for path in ("/stock/A/history.json", "/charts/orders.json", "/charts/picks.json", "/charts/pickups.json"):
        assert client.get(path).status_code == 403, path


def test_stock_over_time_from_the_ledger(client, floor):
    # the seed's receipt 10 days ago, 3 more today
    db.session.execute(update(StockMovement).values(created_at=utcnow() - timedelta(days=10)))
    db.session.commit()
    add_stock("WH1", "A-01", "A", 3)
    sign_in(client, "boss")
    spec = client.get("/stock/A/history.json").json
    assert spec["type"] == "line" and len(spec["labels"]) == 60
    (wh1,) = [d for d in spec["datasets"] if d["label"] == "WH1"]
    assert wh1["data"][-12] == 0 and wh1["data"][-11] == 10 and wh1["data"][-1] == 13
    assert client.get("/stock/NOPE/history.json").status_code == 404


def test_orders_per_hour_by_channel_and_pickup_times(client, floor):
    order, _ = place_order(floor["channel"], order_body("WEB-1", [("A", 1)]))
    now = utcnow()
    db.session.add_all(
        [
            OrderEvent(order_id=order.id, status="ready_for_pickup", at=now - timedelta(hours=5)),
            OrderEvent(order_id=order.id, status="collected", at=now - timedelta(hours=2)),
        ]
    )
    st1 = db.session.execute(select(Location.id).where(Location.code == "ST1")).scalar_one()
    db.session.execute(update(Order).where(Order.id == order.id).values(pickup_location_id=st1, fulfilment="pickup"))
    db.session.commit()
    sign_in(client, "boss")
    orders = client.get("/charts/orders.json").json
    assert orders["stacked"] and len(orders["labels"]) == 48
    (web,) = orders["datasets"]
    assert web["label"] == "WEB" and web["data"][-1] == 1 and sum(web["data"]) == 1
    pickups = client.get("/charts/pickups.json").json
    assert pickups["labels"] == ["ST1"] and pickups["datasets"][0]["data"] == [3.0]
    assert client.get("/charts/picks.json").json["datasets"] == []
    assert client.get("/charts/nothing.json").status_code == 404


def test_the_charting_library_is_served_by_the_app(client, floor):
    r = client.get("/static/vendor/chart.umd.js")
    assert r.status_code == 200 and b"Chart.js v4" in r.data[:200]
