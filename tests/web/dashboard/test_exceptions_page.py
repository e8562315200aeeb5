"""The exceptions page: what waits for a manager (flagged orders, counts over the threshold, print jobs failed or
unknown, failing webhooks, transfers received short), each resolved one click away, coming back to the page;
clerks and pickers may not open it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import order_body
from tests.integration.transfers.transfer_floor import GTINS, make_transfer_floor, users
from tests.web.staff import client_fixture, flashes, sign_in  # noqa: F401
from wms.extensions import db
from wms.orders.models import Order
from wms.orders.service import place_order
from wms.tasks.counts import open_counts
from wms.tasks.models import Task
from wms.tasks.service import apply_scan, complete_task
from wms.transfers.service import create_transfer


@pytest.fixture
def floor(app, monkeypatch):
    return make_transfer_floor(monkeypatch)


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_clerks_and_pickers_may_not_open_it(client, floor, who):
    sign_in(client, who)
    assert client.get("/exceptions").status_code == 403
    assert client.get("/exceptions?csv=orders").status_code == 403
    assert client.post("/exceptions/feeds/WEB/mute").status_code == 403


def test_nothing_waits(client, floor):
    sign_in(client, "boss")
    html = client.get("/exceptions").get_data(as_text=True)
    assert '<span class="muted small" id="exceptions-total">0</span>' in html


def test_a_flagged_order_is_settled_from_the_page(client, floor):
    order, _ = place_order(floor["channel"], order_body("WEB-X", [("A", 1)]))
    db.session.execute(update(Order).where(Order.id == order.id).values(attention="short pick: no stock elsewhere"))
    db.session.commit()
    sign_in(client, "boss")
    html = client.get("/exceptions").get_data(as_text=True)
    row = html.split(f'id="ex-order-{order.id}"', 1)[1].split("</tr>", 1)[0]
    assert "WEB-X" in row and "short pick: no stock elsewhere" in row
    r = client.post(f"/waves/orders/{order.id}/settled", data={"next": "/exceptions"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/exceptions")
    html = client.get("/exceptions").get_data(as_text=True)
    assert flashes(html) == ["Order WEB-X no longer waits for a manager."]
    assert f'id="ex-order-{order.id}"' not in html
    # an address on another site is not followed
    order2, _ = place_order(floor["channel"], order_body("WEB-Y", [("A", 1)]))
    db.session.execute(update(Order).where(Order.id == order2.id).values(attention="x"))
    db.session.commit()
    r = client.post(f"/waves/orders/{order2.id}/settled", data={"next": "https://evil.example/"})
    assert r.status_code == 303 and "evil" not in r.headers["Location"]


def test_a_count_over_the_threshold_is_approved_from_the_page(client, floor):
    (task_id,) = open_counts("WH1", ["A-01"], actor="boss")["tasks"]
    piotr = users()["piotr"]
    apply_scan(task_id, "c1", "A-01", None, piotr)
    apply_scan(task_id, "c2", GTINS["A"], 2, piotr)
    assert complete_task(task_id, piotr)["status"] == "awaiting_approval"
    sign_in(client, "boss")
    assert f'id="ex-count-{task_id}"' in client.get("/exceptions").get_data(as_text=True)
    r = client.post(f"/counts/{task_id}/approve", data={"next": "/exceptions"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/exceptions")
    db.session.rollback()
    assert db.session.execute(select(Task.status).where(Task.id == task_id)).scalar_one() == "done"
    assert f'id="ex-count-{task_id}"' not in client.get("/exceptions").get_data(as_text=True)


def test_a_transfer_received_short_is_listed(client, floor):
    transfer = create_transfer("WH1", "ST1", [{"sku": "A", "qty": 1}])
    from wms.transfers.models import Transfer

    db.session.execute(
        update(Transfer).where(Transfer.id == transfer.id).values(status="received", variance="short 1 x A")
    )
    db.session.commit()
    sign_in(client, "boss")
    html = client.get("/exceptions").get_data(as_text=True)
    assert "short 1 x A" in html.split('class="list ex-transfers"', 1)[1]


def test_stock_drift_is_found_by_the_check_and_shown(client, floor, app):
    from wms.stock.checks import check_due
    from wms.stock.models import StockQuant

    sign_in(client, "boss")
    assert "No stock check has run yet" in client.get("/exceptions").get_data(as_text=True)
    with app.app_context():
        assert check_due() == 1  # the worker's stage: the first check runs at once...
        assert check_due() == 0  # ...and the next one only after STOCK_CHECK_MINUTES
    assert 'id="check-ok"' in client.get("/exceptions").get_data(as_text=True)
    # a quant changed behind the ledger's back (what only the check can see)
    db.session.execute(update(StockQuant).where(StockQuant.qty == 10).values(qty=9))
    db.session.commit()
    r = client.post("/exceptions/check")
    assert r.status_code == 303
    html = client.get("/exceptions").get_data(as_text=True)
    assert flashes(html) == ["Problems the stock check found: 1."]
    problems = html.split('id="check-problems"', 1)[1].split("</ul>", 1)[0]
    assert "A in WH1/A-01" in problems and "ledger says 10, stored 9" in problems


@pytest.fixture
def feed_reads(monkeypatch):
    """Every feed read recorded (the once-a-minute throttle of a process would hide a test's reads)."""
    from wms.channels import availability

    monkeypatch.setattr(availability, "_feed_read_recorded", {})
    monkeypatch.setattr(availability, "FEED_READ_EVERY", 0.0)


def test_a_channel_whose_change_feed_lags_is_listed_until_it_reads_or_is_muted(client, floor, feed_reads):
    from wms.stock.models import StockChange
    from wms.timeutil import utcnow

    api = {"Authorization": f"Bearer {floor['token']}"}
    first = client.get("/api/v1/availability/changes", headers=api).json
    sign_in(client, "boss")
    # The channel has read nothing yet (no cursor): the stock it was told nothing about is fresh: no lag yet.
    assert 'id="ex-feed-WEB"' not in client.get("/exceptions").get_data(as_text=True)
    db.session.execute(update(StockChange).values(created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    html = client.get("/exceptions").get_data(as_text=True)
    row = html.split('id="ex-feed-WEB"', 1)[1].split("</tr>", 1)[0]
    assert 'data-label="Unread changes">3<' in row  # the floor's three receipts, unread for an hour
    assert 'id="exceptions-total">1<' in html
    # it sends the cursor of its first page: it has consumed those changes, nothing older waits
    client.get(f"/api/v1/availability/changes?after={first['next']}", headers=api)
    assert 'id="ex-feed-WEB"' not in client.get("/exceptions").get_data(as_text=True)
    # it starts over from the beginning (lost its cursor): it lags again; a manager who has told the integrator
    # hides it for a day
    client.get("/api/v1/availability/changes", headers=api)
    assert 'id="ex-feed-WEB"' in client.get("/exceptions").get_data(as_text=True)
    r = client.post("/exceptions/feeds/WEB/mute")
    assert r.status_code == 303
    assert 'id="ex-feed-WEB"' not in client.get("/exceptions").get_data(as_text=True)
    assert client.post("/exceptions/feeds/NOPE/mute").status_code == 404


def test_a_channel_that_never_reads_the_change_feed_does_not_lag(client, floor, feed_reads):
    from wms.stock.models import StockChange
    from wms.timeutil import utcnow

    db.session.execute(update(StockChange).values(created_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    sign_in(client, "boss")
    assert 'id="ex-feed-' not in client.get("/exceptions").get_data(as_text=True)
