"""``wms worker``: outbox -> deliveries -> signed POSTs to a loopback receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import select, text

from tests.factories import add_stock, make_world, order_body
from tests.integration.channels.helpers import settle
from wms.channels import subjects
from wms.channels.availability import availability
from wms.channels.models import OutboxEvent, WebhookDelivery
from wms.channels.service import authenticate, create_channel
from wms.channels.webhooks import register_webhook, remove_webhook
from wms.channels.worker import (
    claim_due,
    deliver_due,
    dispatch_availability,
    dispatch_events,
    lease_seconds,
)
from wms.extensions import db
from wms.orders.service import cancel_order, place_order
from wms.timeutil import utcnow
from wms.worker import run_worker

SECRET = "receiver-secret-1"


@contextmanager
def config(app, **values):
    old = {k: app.config[k] for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(old)


def _setup(receiver, events=("order.updated",)):
    world = make_world(stock_a=10, stock_b=5)
    channel_id = authenticate(world.web).channel_id
    register_webhook(channel_id, receiver.url, list(events), SECRET, allow_private=True)
    return world, channel_id


def _run(app):
    settle()  # every change so far is final, so the availability stage sees all of it
    run_worker(app, once=True)


def _deliveries():
    db.session.rollback()
    rows = list(db.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars())
    db.session.rollback()
    return rows


def _verify(received, secret=SECRET):
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["X-WMS-Signature"], expected)


# --- order.updated --------------------------------------------------------------------------------------------


def test_order_updated_after_place_and_after_cancel(any_app, receiver):
    _world, channel_id = _setup(receiver)
    order, _ = place_order(channel_id, order_body("WEB-1", lines=[("A", 2)]))
    _run(any_app)
    [first] = receiver.requests
    _verify(first)
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["X-WMS-Event"] == "order.updated"
    body = first.json
    assert set(body) == {"id", "event", "at", "data"}
    assert body["event"] == "order.updated" and body["at"].endswith("Z")
    assert first.headers["X-WMS-Delivery"] == body["id"]
    assert body["data"]["id"] == order.id and body["data"]["status"] == "reserved"
    assert body["data"]["lines"][0]["allocations"] == [{"location": "WH1", "qty": 2}]

    cancel_order(order.id, channel_id)
    _run(any_app)
    assert len(receiver.requests) == 2
    second = receiver.requests[1].json
    _verify(receiver.requests[1])
    assert second["data"]["status"] == "cancelled" and second["id"] != body["id"]
    assert [d.delivered_at is not None for d in _deliveries()] == [True, True]
    assert db.session.execute(select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))).first() is None


def test_events_of_one_batch_about_one_order_become_one_delivery(any_app, receiver):
    _world, channel_id = _setup(receiver)
    order, _ = place_order(channel_id, order_body("WEB-1"))
    cancel_order(order.id, channel_id)
    _run(any_app)
    assert [r.json["data"]["status"] for r in receiver.requests] == ["cancelled"]


def test_only_subscribed_webhooks_of_the_orders_channel_hear_of_it(any_app, receiver):
    _world, channel_id = _setup(receiver, events=("return.updated",))
    other, _token = create_channel("OTHER", ship_from=["WH1"])
    register_webhook(other.id, receiver.url + "/other", ["order.updated"], SECRET, allow_private=True)
    place_order(channel_id, order_body("WEB-1"))
    _run(any_app)
    assert receiver.requests == []
    assert _deliveries() == []


def test_an_event_whose_data_fails_does_not_hold_up_the_others(any_app, receiver, monkeypatch):
    _world, channel_id = _setup(receiver)
    bad, _ = place_order(channel_id, order_body("WEB-1"))
    good, _ = place_order(channel_id, order_body("WEB-2"))
    real = subjects._VIEWS["order.updated"]

    def flaky(session, order_id):
        if order_id == bad.id:
            raise RuntimeError("view broken")
        return real(session, order_id)

    monkeypatch.setitem(subjects._VIEWS, "order.updated", flaky)
    _run(any_app)  # returns although one event cannot be dispatched
    assert [r.json["data"]["id"] for r in receiver.requests] == [good.id]
    pending = db.session.execute(select(OutboxEvent.subject_id).where(OutboxEvent.dispatched_at.is_(None))).all()
    assert pending == [(bad.id,)]
    monkeypatch.setitem(subjects._VIEWS, "order.updated", real)
    db.session.rollback()
    _run(any_app)
    assert [r.json["data"]["id"] for r in receiver.requests] == [good.id, bad.id]


# --- retries ----------------------------------------------------------------------------------------------------


def test_failing_receiver_gets_the_same_bytes_until_it_answers_2xx(any_app, receiver):
    _world, channel_id = _setup(receiver)
    receiver.script = [500, 503]
    place_order(channel_id, order_body("WEB-1"))
    assert dispatch_events() == 1
    assert deliver_due() == 1
    [delivery] = _deliveries()
    assert delivery.attempts == 1 and delivery.delivered_at is None
    assert delivery.last_error.startswith("HTTP 500")
    assert deliver_due() == 0, "not due again before its backoff"

    assert deliver_due(now=utcnow() + timedelta(hours=2)) == 1
    [delivery] = _deliveries()
    assert delivery.attempts == 2 and delivery.last_error.startswith("HTTP 503")

    assert deliver_due(now=utcnow() + timedelta(hours=4)) == 1
    [delivery] = _deliveries()
    assert delivery.attempts == 3 and delivery.delivered_at is not None and delivery.last_error is None
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1
    assert len({r.headers["X-WMS-Delivery"] for r in receiver.requests}) == 1
    for r in receiver.requests:
        _verify(r)
    assert deliver_due(now=utcnow() + timedelta(days=1)) == 0


def test_connection_errors_are_retried_and_max_attempts_gives_up(any_app, receiver):
    _world, channel_id = _setup(receiver)
    place_order(channel_id, order_body("WEB-1"))
    dispatch_events()
    db.session.execute(text("UPDATE webhook SET url = 'http://127.0.0.1:9/closed'"))  # discard port: refused
    db.session.commit()
    with config(any_app, WEBHOOK_MAX_ATTEMPTS=2, WEBHOOK_TIMEOUT=2.0):
        deliver_due()
        deliver_due(now=utcnow() + timedelta(hours=2))
        assert deliver_due(now=utcnow() + timedelta(hours=4)) == 0
    [delivery] = _deliveries()
    assert delivery.attempts == 2 and delivery.failed_at is not None and delivery.delivered_at is None
    assert "refused" in delivery.last_error.lower() or "error" in delivery.last_error.lower()


def test_worker_killed_after_claiming_delivers_after_the_lease(any_app, receiver):
    _world, channel_id = _setup(receiver)
    place_order(channel_id, order_body("WEB-1"))
    dispatch_events()
    claims = claim_due()  # a worker claims and leases, then dies before sending
    assert len(claims) == 1
    assert deliver_due() == 0, "leased: another worker leaves it alone"
    lease = lease_seconds(1, any_app.config["WEBHOOK_TIMEOUT"])
    assert deliver_due(now=utcnow() + timedelta(seconds=lease + 1)) == 1
    [delivery] = _deliveries()
    assert delivery.delivered_at is not None and delivery.attempts == 1
    assert len(receiver.requests) == 1 and receiver.requests[0].headers["X-WMS-Delivery"] == claims[0].event_uid


def test_private_address_is_checked_again_when_sending(any_app, receiver):
    _world, channel_id = _setup(receiver)
    place_order(channel_id, order_body("WEB-1"))
    dispatch_events()
    with config(any_app, WEBHOOK_ALLOW_PRIVATE=False):
        assert deliver_due() == 1
    assert receiver.requests == []
    [delivery] = _deliveries()
    assert delivery.delivered_at is None and delivery.last_error.startswith("refused")


def test_removed_webhook_gets_nothing_more(any_app, receiver):
    _world, channel_id = _setup(receiver)
    place_order(channel_id, order_body("WEB-1"))
    dispatch_events()
    remove_webhook(channel_id, url=receiver.url)
    place_order(channel_id, order_body("WEB-2"))
    _run(any_app)
    assert receiver.requests == []
    [delivery] = _deliveries()
    assert delivery.failed_at is not None and delivery.last_error == "webhook removed"


# --- availability.changed ---------------------------------------------------------------------------------------


def test_availability_changed_after_a_receipt(any_app, receiver):
    world, channel_id = _setup(receiver, events=("availability.changed",))
    mkt, _ = create_channel("MKT", ship_from=["WH1"], buffer=3)
    register_webhook(mkt.id, receiver.url + "/mkt", ["availability.changed"], SECRET, allow_private=True)
    _run(any_app)  # the stock of make_world, from the start of the log
    assert sorted(r.json["data"]["sku"] for r in receiver.requests) == ["A", "A", "B", "B"]
    receiver.requests.clear()

    add_stock("WH1", "A-01", "A", 5)
    add_stock("WH1", "A-01", "A", 1)  # two changes of A before the worker runs: one delivery per webhook
    _run(any_app)
    by_path = {r.path: r.json for r in receiver.of("availability.changed")}
    assert len(receiver.requests) == 2
    assert by_path["/hooks"]["data"] == availability(channel_id, 0, ["A"])[0]
    assert by_path["/hooks"]["data"]["available"] == 16
    assert by_path["/hooks/mkt"]["data"]["available"] == 16 - 3
    for r in receiver.requests:
        _verify(r)

    _run(any_app)
    assert len(receiver.requests) == 2, "nothing changed: nothing sent"


def test_availability_history_is_skipped_while_nobody_listens(any_app, receiver):
    world = make_world(stock_a=10, stock_b=5)
    channel_id = authenticate(world.web).channel_id
    _run(any_app)  # no webhook: the cursor moves to the end of the log
    register_webhook(channel_id, receiver.url, ["availability.changed"], SECRET, allow_private=True)
    add_stock("WH1", "A-02", "B", 1)
    _run(any_app)
    assert [r.json["data"]["sku"] for r in receiver.requests] == ["B"]


def test_availability_cursor_moves_with_the_deliveries(any_app, receiver):
    _setup(receiver, events=("availability.changed",))
    settle()
    assert dispatch_availability(max_products=1) == 1
    assert dispatch_availability(max_products=1) == 1
    assert dispatch_availability(max_products=1) == 0
    assert sorted(d.body.count('"sku":"A"') for d in _deliveries()) == [0, 1]


# --- several workers (PostgreSQL row locks) ---------------------------------------------------------------------


@pytest.mark.postgres
def test_rows_another_worker_holds_are_skipped(pg_app, receiver):
    _world, channel_id = _setup(receiver, events=("order.updated", "availability.changed"))
    place_order(channel_id, order_body("WEB-1"))
    other = db.engine.connect()
    try:
        tx = other.begin()
        other.execute(text("SELECT id FROM outbox_event FOR UPDATE"))
        assert dispatch_events() == 0, "the other worker holds the event"
        tx.rollback()
        assert dispatch_events() == 1

        tx = other.begin()
        other.execute(text("SELECT id FROM webhook_delivery FOR UPDATE"))
        assert claim_due() == []
        tx.rollback()

        settle()
        dispatch_availability()  # creates the cursor row, takes the history
        add_stock("WH1", "A-01", "A", 1)
        settle()
        tx = other.begin()
        other.execute(text("SELECT name FROM worker_cursor FOR UPDATE"))
        assert dispatch_availability() == 0
        tx.rollback()
        assert dispatch_availability() == 1
    finally:
        other.close()


# --- the loop and the command -----------------------------------------------------------------------------------


def test_sigterm_finishes_the_round_and_stops(app):
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        run_worker(app, poll_interval=0.05)  # returns only because of the signal
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGTERM) is before


def test_stop_event_ends_the_loop(app):
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(app,), kwargs={"poll_interval": 0.05, "stop": stop})
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_wms_worker_once_command(app, receiver):
    from click.testing import CliRunner

    from wms.cli import main

    _world, channel_id = _setup(receiver)
    place_order(channel_id, order_body("WEB-1"))
    result = CliRunner().invoke(main, ["worker", "--once"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert [r.json["data"]["status"] for r in receiver.requests] == ["reserved"]


def test_the_worker_runs_every_domains_stages_in_order():
    from wms.worker import stages

    names = [stage.name for stage in stages()]
    assert names == [
        "transfers.pickup",
        "pickups.stage",
        "pickups.remind",
        "pickups.expire",
        "webhooks.events",
        "webhooks.availability",
        "webhooks.deliver",
        "print_jobs",
        "summaries.last_movement",
        "summaries.stock_totals",
        "stock.check",
    ]
