"""The waves page: managers and admins only; due orders per location, urgent ones on top; releasing all or the
ticked orders; marking urgent; recent waves with their tasks; the pick list as PDF or through the print queue."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import add_stock, make_channel, order_body
from tests.web.staff import (  # noqa: F401 (fixtures)
    PASSWORD,
    cheap_hashes_fixture,
    client_fixture,
    flashes,
    form_key,
    job_count,
    jobs,
    shop_fixture,
    sign_in,
)
from wms.auth.service import create_user
from wms.channels.models import Channel
from wms.extensions import db
from wms.orders.models import Order
from wms.orders.service import place_order
from wms.picking.models import Wave
from wms.tasks.models import Task


@pytest.fixture
def orders(shop) -> dict[str, int]:
    """WEB-1 (older) and WEB-2 at WH1, each one KT-1 (pick bin A-01) and WEB-1 also one KT-2 (bin B-01)."""
    make_channel("WEB", ship_from=["WH1"])
    add_stock("WH1", "B-01", "KT-2", 4)
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    ids = {}
    for external_id, lines in (("WEB-1", [("KT-1", 1), ("KT-2", 1)]), ("WEB-2", [("KT-1", 2)])):
        ids[external_id] = place_order(channel_id, order_body(external_id, lines=lines))[0].id
    db.session.rollback()
    return ids


def due_rows(html: str) -> list[str]:
    """External ids of the due orders, as the page lists them."""
    section = html.split('id="due-heading"', 1)[1].split('id="waves-heading"', 1)[0]
    return re.findall(r'<label for="order-\d+"><span class="code">([^<]+)</span>', section)


def status(order_id: int) -> str:
    value = db.session.get(Order, order_id).status
    db.session.rollback()
    return value


def waves() -> list[Wave]:
    db.session.rollback()
    return list(db.session.execute(select(Wave).order_by(Wave.id)).scalars())


def test_a_manager_sees_the_due_orders_oldest_first(client, orders):
    sign_in(client, "boss")
    r = client.get("/waves?location=WH1")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert due_rows(html) == ["WEB-1", "WEB-2"]
    assert 'href="/waves"' in html  # the nav link
    assert "No wave has been released at WH1 yet." in html


def test_an_admin_may_and_others_may_not(client, orders):
    sign_in(client, "root")
    assert client.get("/waves").status_code == 200
    client.post("/logout")
    sign_in(client, "piotr")
    assert client.get("/waves").status_code == 403
    assert client.post("/waves", data={"location": "WH1"}).status_code == 403
    assert client.post(f"/waves/orders/{orders['WEB-1']}/urgent", data={"urgent": "1"}).status_code == 403
    assert 'href="/waves"' not in client.get("/").get_data(as_text=True)
    assert waves() == []


def test_anonymous_is_sent_to_sign_in(client, orders):
    r = client.get("/waves")
    assert r.status_code in (302, 303) and "/login" in r.headers["Location"]


def test_marking_urgent_puts_the_order_on_top_and_back(client, orders):
    sign_in(client, "boss")
    r = client.post(f"/waves/orders/{orders['WEB-2']}/urgent", data={"urgent": "1", "location": "WH1"})
    assert r.status_code == 303
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert due_rows(html) == ["WEB-2", "WEB-1"]
    assert "Order WEB-2 is urgent: the next wave picks it first." in flashes(html)

    client.post(f"/waves/orders/{orders['WEB-2']}/urgent", data={"urgent": "0", "location": "WH1"})
    assert due_rows(client.get("/waves?location=WH1").get_data(as_text=True)) == ["WEB-1", "WEB-2"]


def test_releasing_every_due_order(client, orders):
    sign_in(client, "boss")
    r = client.post("/waves", data={"location": "WH1", "max_orders": "8"})
    assert r.status_code == 303
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    [wave] = waves()
    # Zone A (both orders' KT-1) and zone B (WEB-1's KT-2): two tasks.
    assert f"Wave {wave.id} released: 2 orders, 2 pick tasks." in flashes(html)
    assert due_rows(html) == []
    assert status(orders["WEB-1"]) == "picking" and status(orders["WEB-2"]) == "picking"
    assert wave.actor == "boss"
    tasks = re.findall(r'<article class="card wave".*?</article>', html, re.S)
    assert len(tasks) == 1 and tasks[0].count('<th scope="row">#') == 2 and "0 / 2" in tasks[0]


def test_releasing_only_the_ticked_orders(client, orders):
    sign_in(client, "boss")
    client.post("/waves", data={"location": "WH1", "orders": [str(orders["WEB-2"])], "max_orders": ""})
    assert status(orders["WEB-2"]) == "picking" and status(orders["WEB-1"]) == "reserved"
    assert due_rows(client.get("/waves?location=WH1").get_data(as_text=True)) == ["WEB-1"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"location": "WH1", "max_orders": "0"}, "max_orders: a whole number from 1 to 50"),
        ({"location": "WH1", "max_orders": "x"}, "max_orders: a whole number from 1 to 50"),
        ({"location": "WH1", "orders": ["abc"]}, "orders: a whole number"),
        ({"location": "ST1"}, "orders: no order is due for picking at ST1"),
    ],
)
def test_a_refused_release_says_why_and_changes_nothing(client, orders, data, message):
    sign_in(client, "boss")
    r = client.post("/waves", data=data, headers={"Referer": "http://localhost/waves?location=WH1"})
    assert r.status_code == 303
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert any(message in f for f in flashes(html)), flashes(html)
    assert waves() == [] and status(orders["WEB-1"]) == "reserved"


def test_the_pick_list_downloads_as_pdf(client, orders):
    sign_in(client, "boss")
    client.post("/waves", data={"location": "WH1"})
    [wave] = waves()
    r = client.get(f"/waves/{wave.id}/picklist.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")
    assert client.get(f"/waves/{wave.id + 1}/picklist.pdf").status_code == 404


def test_the_pick_list_prints_through_the_queue(client, orders, shop):
    sign_in(client, "boss")
    client.post("/waves", data={"location": "WH1"})
    [wave] = waves()
    html = client.get("/waves?location=WH1").get_data(as_text=True)
    key = form_key(html)
    form = {"printer": str(shop["WH1-pdf"]), "copies": "1", "key": key, "location": "WH1"}

    r = client.post(f"/waves/{wave.id}/print", data=form)
    assert r.status_code == 303
    printed = jobs()
    assert [(j.kind, j.printer_id) for j in printed] == [("picklist", shop["WH1-pdf"])] * 2  # a list per task
    assert {j.data["wave"] for j in printed} == {str(wave.id)}
    # The same form sent again (a double click): the same jobs, no second pick list.
    client.post(f"/waves/{wave.id}/print", data=form)
    assert job_count() == 2


def test_a_pick_list_is_refused_on_a_zpl_printer(client, orders, shop):
    sign_in(client, "boss")
    client.post("/waves", data={"location": "WH1"})
    [wave] = waves()
    # The page offers only PDF printers (the ZPL one is not a choice) ...
    html = client.get("/waves?location=WH1").get_data(as_text=True)
    offered = re.findall(r'<option value="(\d+)"', html)
    assert str(shop["WH1-pdf"]) in offered and str(shop["WH1-zebra"]) not in offered
    # ... and one sent anyway is refused.
    form = {"printer": str(shop["WH1-zebra"]), "copies": "1", "key": "k1", "location": "WH1"}
    r = client.post(f"/waves/{wave.id}/print", data=form, headers={"Referer": "http://localhost/waves"})
    assert r.status_code == 303
    assert job_count() == 0
    assert any("printer" in f.lower() for f in flashes(client.get(r.headers["Location"]).get_data(as_text=True)))


def test_the_page_in_polish(client, orders):
    create_user("ewa", "manager", None, PASSWORD, language="pl")
    sign_in(client, "ewa")
    html = client.get("/waves?location=WH1").get_data(as_text=True)
    assert "Zwolnij falę" in html and "Pilne" in html
    r = client.post("/waves", data={"location": "WH1"})
    [message] = flashes(client.get(r.headers["Location"]).get_data(as_text=True))
    assert message.startswith("Zwolniono falę") and message.endswith(": 2 zamówienia, 2 zadania kompletacji.")


def test_tasks_of_the_wave_are_open_picks(client, orders):
    sign_in(client, "boss")
    client.post("/waves", data={"location": "WH1"})
    [wave] = waves()
    tasks = list(db.session.execute(select(Task).order_by(Task.id)).scalars())
    assert [(t.kind, t.status, t.reference["wave"], t.reference["zone"]) for t in tasks] == [
        ("pick", "open", wave.id, "A"),
        ("pick", "open", wave.id, "B"),
    ]
    db.session.rollback()
