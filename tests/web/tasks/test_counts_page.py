"""The counts page: managers and admins see the counts waiting for approval (counted against expected, the variance
in units and %, who counted and when, the orders approving would hit), approve or recount them, and open counts of
bins; pickers and clerks may not open it."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from tests.web.staff import cheap_hashes_fixture, client_fixture, flashes, shop_fixture, sign_in  # noqa: F401
from wms.auth.models import User
from wms.channels.service import create_channel
from wms.extensions import db
from wms.orders.service import place_order
from wms.stock.models import StockMovement
from wms.stock.service import check_stock
from wms.tasks.counts import open_counts
from wms.tasks.models import Task
from wms.tasks.service import apply_scan, complete_task

KT1 = "5901234123457"  # KT-1's barcode in the shop


@pytest.fixture(autouse=True)
def threshold(app, monkeypatch):
    monkeypatch.setitem(app.config, "COUNT_VARIANCE_UNITS", 5)
    monkeypatch.setitem(app.config, "COUNT_VARIANCE_PERCENT", 10.0)


def user(name: str) -> User:
    return db.session.execute(select(User).where(User.username == name)).scalar_one()


def waiting_count(found: int = 2) -> int:
    """A count of WH1/A-01 (12 x KT-1 on the books) by piotr that found ``found`` units: it waits."""
    [task_id] = open_counts("WH1", ["A-01"], actor="boss")["tasks"]
    piotr = user("piotr")
    apply_scan(task_id, "b", "A-01", None, piotr, "TC52")
    if found:
        apply_scan(task_id, "p", KT1, found, piotr, "TC52")
    assert complete_task(task_id, piotr)["status"] == "awaiting_approval"
    db.session.rollback()
    return task_id


def count_rows() -> list[tuple[int, str]]:
    db.session.rollback()
    rows = db.session.execute(
        select(StockMovement.qty, StockMovement.actor).where(StockMovement.reason == "count").order_by(StockMovement.id)
    ).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("who", ["piotr", "kasia"])
def test_pickers_and_clerks_may_not_open_it(client, shop, who):
    sign_in(client, who)
    assert client.get("/counts").status_code == 403
    task_id = waiting_count()
    assert client.post(f"/counts/{task_id}/approve").status_code == 403
    assert client.post(f"/counts/{task_id}/recount").status_code == 403
    assert client.post("/counts/open", data={"location": "WH1", "bins": "A-02"}).status_code == 403
    assert count_rows() == []


def test_the_nav_links_it_for_managers_only(client, shop):
    sign_in(client, "piotr")
    assert "/counts" not in client.get("/").get_data(as_text=True)
    client.post("/logout")
    sign_in(client, "root")
    assert 'href="/counts"' in client.get("/").get_data(as_text=True)


def test_a_manager_sees_a_waiting_count_and_approves_it(client, shop):
    task_id = waiting_count()
    sign_in(client, "boss")
    page = client.get("/counts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-count="{task_id}"' in html and "WH1/A-01" in html
    row = html.split('class="list count-variances"', 1)[1].split("</table>", 1)[0]
    assert "KT-1" in row and ">2<" in row and ">12<" in row and "-10" in row and "-83.3 %" in row
    assert "Counted by piotr" in html
    r = client.post(f"/counts/{task_id}/approve")
    assert r.status_code == 303 and r.headers["Location"].endswith("/counts")
    assert flashes(client.get("/counts").get_data(as_text=True)) == [f"Count {task_id} of A-01 booked."]
    assert count_rows() == [(10, "boss")]
    db.session.expire_all()
    assert db.session.get(Task, task_id).status == "done"
    assert check_stock() == []
    assert "No count waits for approval." in client.get("/counts").get_data(as_text=True)


def test_the_page_names_the_orders_approving_would_hit(client, shop):
    channel, _token = create_channel("WEB", ship_from=["WH1"])
    order, _ = place_order(
        channel.id,
        {
            "external_id": "W-77",
            "fulfilment": "ship",
            "customer": {"name": "Anna"},
            "ship_to": {"line1": "ul. Długa 1", "city": "Kraków", "postcode": "31-001", "country": "PL"},
            "lines": [{"sku": "KT-1", "qty": 10}],
        },
    )
    task_id = waiting_count(found=0)
    sign_in(client, "boss")
    html = client.get("/counts").get_data(as_text=True)
    assert "they will be flagged" in html and "W-77" in html
    client.post(f"/counts/{task_id}/approve")
    assert flashes(client.get("/counts").get_data(as_text=True)) == [
        f"Count {task_id} of A-01 booked. Orders flagged: #{order.id}."
    ]
    db.session.expire_all()
    assert "no longer reserved" in db.session.get(type(order), order.id).attention
    assert check_stock() == []


def test_reject_cancels_the_count_and_opens_a_recount(client, shop):
    task_id = waiting_count()
    sign_in(client, "boss")
    assert client.post(f"/counts/{task_id}/recount").status_code == 303
    db.session.expire_all()
    tasks = db.session.execute(select(Task).order_by(Task.id)).scalars().all()
    assert [(t.id, t.status) for t in tasks] == [(task_id, "cancelled"), (task_id + 1, "open")]
    assert tasks[1].reference["recount_of"] == task_id
    assert count_rows() == []
    html = client.get("/counts").get_data(as_text=True)
    assert f"Count {task_id} cancelled; bin A-01 is to be counted again (task {task_id + 1})." in flashes(html)
    assert "counts-on-floor" in html
    # approving the cancelled one now says why not
    r = client.post(f"/counts/{task_id}/approve", headers={"Referer": "http://localhost/counts"})
    assert r.status_code == 303
    assert any("not a count waiting for approval" in f for f in flashes(client.get("/counts").get_data(as_text=True)))


def test_a_manager_opens_counts_of_bins(client, shop):
    sign_in(client, "boss")
    r = client.post("/counts/open", data={"location": "WH1", "bins": "A-01, A-02\nB-01"})
    assert r.status_code == 303
    assert flashes(client.get("/counts").get_data(as_text=True)) == ["3 count task(s) open at WH1: A-01, A-02, B-01."]
    db.session.rollback()
    refs = [t.reference for t in db.session.execute(select(Task).order_by(Task.id)).scalars()]
    assert [(r["bin"], r["opened_by"]) for r in refs] == [("A-01", "boss"), ("A-02", "boss"), ("B-01", "boss")]
    r = client.post(
        "/counts/open", data={"location": "WH1", "bins": "A-01 NOPE"}, headers={"Referer": "http://localhost/counts"}
    )
    assert r.status_code == 303
    assert [unescape(f) for f in flashes(client.get("/counts").get_data(as_text=True))] == [
        "bins[1]: no bin 'NOPE' at WH1"
    ]
    assert db.session.execute(select(db.func.count(Task.id))).scalar_one() == 3
    db.session.rollback()
