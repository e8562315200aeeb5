"""The print queue with the fake printer on loopback: states, retries, give-up, idempotency, reprints, leases."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.integration.printing.conftest import make_site, url_of
from wms.errors import IdempotencyConflict, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.printing import service
from wms.printing.models import PrintJob
from wms.printing.service import (
    add_printer,
    bin_label_data,
    cancel_job,
    claim_jobs,
    get_job,
    job_view,
    list_jobs,
    print_label,
    product_label_data,
    record_outcome,
    reprint,
)
from wms.printing.worker import print_due
from wms.timeutil import utcnow


def job(job_id: int) -> PrintJob:
    db.session.rollback()
    return get_job(job_id)


def label(app_printer: str = "Z1", **extra):
    return print_label(app_printer, "bin", {"code": "A-01-01", "location": "WH1"}, reference="bin:WH1/A-01-01", **extra)


def test_a_label_prints_once(any_app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    queued = label()
    assert queued.status == "queued"
    assert print_due() == 1
    assert len(fake.labels) == 1 and "A-01-01" in fake.labels[0]
    done = job(queued.id)
    assert done.status == "printed" and done.printed_at and done.attempts == 1
    view = job_view(done)
    assert view["printer"] == "Z1" and view["status"] == "printed" and view["printer_state"] == "ready"
    assert view["kind"] == "bin" and view["reference"] == "bin:WH1/A-01-01" and view["printed_at"]
    assert print_due() == 0
    assert len(fake.labels) == 1


def test_copies_go_out_as_one_format(app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    label(copies=3)
    print_due()
    assert len(fake.formats) == 1 and len(fake.labels) == 3


def test_paper_out_then_loaded_prints_exactly_once(any_app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    fake.set_state("paper out")
    queued = label()
    for _ in range(3):
        print_due(ignore_schedule=True)
    waiting = job(queued.id)
    assert waiting.status == "queued" and waiting.last_error == "paper out" and waiting.not_ready_since is None
    assert waiting.printer.last_state == "paper out"
    assert fake.labels == [] and fake.pending == []  # asked ~HS first: nothing was sent to the buffer
    fake.set_state("ready")
    deadline = time.monotonic() + 3
    while job(queued.id).status != "printed" and time.monotonic() < deadline:
        print_due()  # waits for the backoff like the worker does
        time.sleep(0.05)
    assert job(queued.id).status == "printed"
    assert len(fake.formats) == 1


def test_paper_out_never_fails_a_job(app, fast, fake, monkeypatch):
    monkeypatch.setitem(app.config, "PRINT_GIVE_UP", 0.05)
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    fake.set_state("head open")
    queued = label()
    print_due()
    time.sleep(0.1)
    print_due(ignore_schedule=True)
    assert job(queued.id).status == "queued"
    assert job(queued.id).last_error == "head open"


def test_a_silent_printer_is_retried_not_failed(app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake, 0.2), "WH1")
    fake.set_state("silent")
    queued = label()
    print_due()
    first = job(queued.id)
    assert first.status == "queued" and first.attempts == 1
    assert first.last_error.startswith("unreachable: no answer")
    assert first.not_ready_since is not None
    assert first.next_attempt_at > first.created_at
    print_due(ignore_schedule=True)
    second = job(queued.id)
    assert second.status == "queued" and second.attempts == 2
    assert second.not_ready_since == first.not_ready_since  # the give-up clock keeps running
    fake.set_state("ready")
    print_due(ignore_schedule=True)
    assert job(queued.id).status == "printed" and len(fake.labels) == 1


def test_a_printer_gone_past_the_give_up_time_fails_the_job(any_app, fast, fake, monkeypatch):
    monkeypatch.setitem(any_app.config, "PRINT_GIVE_UP", 0.3)
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    fake.stop()  # port closed: connection refused
    queued = label()
    print_due()
    assert job(queued.id).status == "queued"
    assert "connection refused" in job(queued.id).last_error
    time.sleep(0.35)
    print_due(ignore_schedule=True)
    failed = job(queued.id)
    assert failed.status == "failed"
    assert "gave up" in failed.last_error and "connection refused" in failed.last_error
    assert failed.printer.last_state == "unreachable: connection refused"


def test_one_dead_printer_does_not_hold_up_another(app, fast, fake):
    from devices.simulators.fake_printer import FakePrinter

    make_site()
    with FakePrinter(state="silent") as silent:
        add_printer("SLOW", url_of(silent, 1.5), "WH1")
        add_printer("Z1", url_of(fake), "WH1")
        stuck = print_label("SLOW", "bin", {"code": "A-01-01", "location": "WH1"})
        queued = label()
        round_ = threading.Thread(target=lambda: _in_context(app, print_due))
        started = time.monotonic()
        round_.start()
        assert fake.wait_for_labels(1, timeout=1.2)
        assert time.monotonic() - started < 1.4
        round_.join(5)
        assert job(queued.id).status == "printed" and job(stuck.id).status == "queued"


def _in_context(app, fn):
    with app.app_context():
        try:
            fn()
        finally:
            db.session.remove()


def test_idempotency_key_gives_one_job(any_app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    first = label(idempotency_key="bin-label:WH1/A-01-01:1")
    again = label(idempotency_key="bin-label:WH1/A-01-01:1")
    assert again.id == first.id
    print_due()
    assert label(idempotency_key="bin-label:WH1/A-01-01:1").id == first.id  # also once printed
    print_due()
    assert len(fake.labels) == 1
    assert db.session.execute(select(func.count()).select_from(PrintJob)).scalar_one() == 1
    with pytest.raises(IdempotencyConflict):
        print_label("Z1", "bin", {"code": "B", "location": "WH1"}, idempotency_key="bin-label:WH1/A-01-01:1")


def test_idempotency_key_under_concurrent_requests(pg_app, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    ids, errors = [], []
    barrier = threading.Barrier(6)

    def request():
        with pg_app.app_context():
            try:
                barrier.wait()
                ids.append(label(idempotency_key="same").id)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 1


def test_reprint_prints_a_second_time(any_app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    first = label(idempotency_key="k1")
    with pytest.raises(InvalidState):
        reprint(first.id)  # still queued: it is going to print
    print_due()
    again = reprint(first.id, copies=2)
    assert again.id != first.id and again.reprint_of_id == first.id and again.idempotency_key is None
    print_due()
    assert len(fake.formats) == 2 and len(fake.labels) == 3
    assert job_view(job(again.id))["reprint_of"] == first.id
    with pytest.raises(NotFound):
        reprint(9999)


def test_cancel(any_app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    queued = label()
    assert cancel_job(queued.id).status == "cancelled"
    assert print_due() == 0 and fake.labels == []
    with pytest.raises(InvalidState):
        cancel_job(queued.id)
    printed = label()
    print_due()
    with pytest.raises(InvalidState):
        cancel_job(printed.id)


def test_lease_lost_before_sending_is_claimed_again(any_app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    queued = label()
    [claim] = claim_jobs()
    assert claim_jobs() == []  # leased
    later = utcnow() + timedelta(seconds=3600)
    [again] = claim_jobs(now=later)  # the first claimant died before sending_at
    assert again.id == claim.id and again.attempt == claim.attempt + 1
    with pytest.raises(InvalidState):
        record_outcome(claim.id, "sending", attempt=claim.attempt)  # fenced: the old claimant must not send
    record_outcome(again.id, "sending", attempt=again.attempt)
    record_outcome(again.id, "printed", attempt=again.attempt)
    assert job(queued.id).status == "printed"


def test_lease_lost_after_sending_at_is_unknown_and_not_resent(any_app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    queued = label()
    [claim] = claim_jobs()
    record_outcome(claim.id, "sending", attempt=claim.attempt)
    assert claim_jobs(now=utcnow() + timedelta(seconds=3600)) == []
    lost = job(queued.id)
    assert lost.status == "unknown" and "reprint" in lost.last_error
    assert print_due() == 0 and claim_jobs(now=utcnow() + timedelta(seconds=7200)) == []
    # A late claimant that did print still records it.
    assert record_outcome(claim.id, "printed", attempt=claim.attempt).status == "printed"


def test_outcomes_are_checked(app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    queued = label()
    with pytest.raises(ValidationError):
        record_outcome(queued.id, "done")
    with pytest.raises(InvalidState):
        record_outcome(queued.id, "sending")  # not claimed
    with pytest.raises(InvalidState):
        record_outcome(queued.id, "printed")
    with pytest.raises(NotFound):
        record_outcome(999, "printed")


def test_bad_label_data_fails_the_job_with_the_reason(app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    bad = print_label("Z1", "product", {"sku": "X", "name": "no gtin"})
    print_due()
    failed = job(bad.id)
    assert failed.status == "failed" and "gtin" in failed.last_error
    assert fake.labels == []


def test_pdf_printers_get_pdf(app, fast, hot_root, tmp_path):
    make_site()
    printer = add_printer("HOT", f"pdf+dir://{tmp_path}", "WH1")
    assert printer.fmt == "pdf"
    queued = print_label("HOT", "product", product_label_data("SKU-1"), reference="product:SKU-1")
    print_due()
    assert job(queued.id).status == "printed"
    [written] = list(tmp_path.glob("*.pdf"))
    assert written.read_bytes()[:5] == b"%PDF-"


def test_zpl_printers_get_zpl_and_kinds_must_fit(app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    with pytest.raises(ValidationError, match="pdf only"):
        print_label("Z1", "picklist", {"wave": "W1", "location": "WH1", "lines": []})
    with pytest.raises(ValidationError):
        print_label("NOPE", "bin", {"code": "A", "location": "WH1"})
    print_label("Z1", "product", product_label_data("SKU-1"))
    print_due()
    assert fake.labels[0].startswith("^XA") and "Kubek ceramiczny" in fake.labels[0]


def test_station_printers_are_left_to_their_station(any_app, fast, fake):
    make_site()
    add_printer("COUNTER", url_of(fake), "ST1", "ST1-COUNTER-1")
    queued = print_label("COUNTER", "bin", {"code": "A-01-01", "location": "ST1"})
    assert print_due() == 0 and fake.labels == []
    station = service.get_station("ST1-COUNTER-1")
    [claim] = claim_jobs(station_id=station.id, lease_seconds=30)
    assert claim.id == queued.id and claim.url == url_of(fake)
    content = service.render_job(claim.kind, claim.data, claim.fmt)
    assert content.startswith(b"^XA") and service.content_type(claim.fmt) == "application/zpl"
    record_outcome(claim.id, "sending")
    record_outcome(claim.id, "not_ready", "paper out")
    assert job(queued.id).status == "queued" and job(queued.id).printer.last_state == "paper out"


def test_add_printer_validates_everything_at_once(app):
    make_site()
    with pytest.raises(ValidationError) as info:
        add_printer("", "http://x", "NOWHERE")
    assert {d["field"] for d in info.value.details} == {"name", "url", "location"}
    add_printer("Z1", "zpl+tcp://127.0.0.1:9", "WH1")
    with pytest.raises(ValidationError, match="exists already"):
        add_printer("Z1", "zpl+tcp://127.0.0.1:9", "WH1")
    add_printer("Z2", "zpl+tcp://127.0.0.1:9", "ST1", "ST1-C1")
    with pytest.raises(ValidationError, match="another location"):
        add_printer("Z3", "zpl+tcp://127.0.0.1:9", "WH1", "ST1-C1")
    names = [p.name for p in service.list_printers()]
    assert names == ["Z1", "Z2"]
    assert [p.name for p in service.list_printers(station_id=service.get_station("ST1-C1").id)] == ["Z2"]


def test_label_data_helpers(app):
    make_site()
    data = product_label_data("SKU-1")
    assert data["sku"] == "SKU-1" and len(data["gtin"]) == 13
    assert bin_label_data("WH1", "A-01-01") == {"code": "A-01-01", "location": "WH1"}
    with pytest.raises(NotFound):
        product_label_data("NOPE")
    with pytest.raises(NotFound):
        bin_label_data("WH1", "Z-99")


def test_list_jobs(app, fast, fake):
    make_site()
    add_printer("Z1", url_of(fake), "WH1")
    a, b = label(), label()
    print_due(limit=1)
    assert [j.id for j in list_jobs()] == [b.id, a.id]
    assert [j.id for j in list_jobs(statuses=["queued"])] == [b.id]
    assert [j.id for j in list_jobs(before_id=b.id)] == [a.id]
