"""The station API: tokens limited to their station, claiming and long-polling jobs, outcomes, scan uploads."""

from __future__ import annotations

import base64
import threading
import time

import pytest
from sqlalchemy import func, select

from devices.scan import MESSAGES
from tests.factories import Api, integration_token, make_bin, make_channel, make_product
from tests.integration.printing.station_helpers import queue_product_label, two_stations
from wms.extensions import db
from wms.printing.models import Printer, PrintJob, Station, StationScan

JOBS = "/api/v1/stations/{}/jobs"
SCANS = "/api/v1/stations/{}/scans"


@pytest.fixture
def tokens(any_app):
    return two_stations()


@pytest.fixture
def st1(any_app, tokens):
    return Api(any_app.test_client(), tokens["ST1-C1"])


def _job(job_id: int) -> PrintJob:
    db.session.expire_all()
    job = db.session.get(PrintJob, job_id)
    db.session.rollback()
    return job


def _scans() -> list[StationScan]:
    db.session.expire_all()
    rows = list(db.session.execute(select(StationScan).order_by(StationScan.id)).scalars())
    db.session.rollback()
    return rows


# --- tokens -----------------------------------------------------------------------------------------------------


def test_every_endpoint_needs_a_token_of_its_own_station(any_app, tokens):
    client = any_app.test_client()
    job_id = queue_product_label("P1")
    calls = [
        ("get", JOBS.format("ST1-C1"), None),
        ("post", JOBS.format("ST1-C1") + f"/{job_id}", {"outcome": "sending"}),
        ("post", SCANS.format("ST1-C1"), {"scans": [{"client_id": "a1", "code": "5901234123457"}]}),
    ]
    others = {
        None: (401, "unauthorized"),
        "wmss_unknown": (401, "unauthorized"),
        integration_token(): (403, "forbidden"),
        make_channel("WEB"): (403, "forbidden"),
        tokens["ST2-C1"]: (403, "forbidden"),  # a station token, but another station's
    }
    for token, (status, code) in others.items():
        api = Api(client, token)
        for method, path, body in calls:
            r = getattr(api, method)(path, json=body) if body else getattr(api, method)(path)
            assert (r.status_code, r.json["error"]["code"]) == (status, code), (token, path)
    # Nothing happened: the job is still queued, no scan stored, the station not seen.
    assert _job(job_id).status == "queued"
    assert _scans() == []


def test_a_station_token_cannot_name_an_unknown_station(st1):
    assert st1.get(JOBS.format("NOPE")).status_code == 403
    assert st1.post(SCANS.format("NOPE"), {"scans": [{"client_id": "x", "code": "1"}]}).status_code == 403


# --- jobs -------------------------------------------------------------------------------------------------------


def test_claims_the_stations_due_jobs_with_rendered_content(st1, any_app):
    mine = queue_product_label("P1", "SKU-1", copies=2)
    other = queue_product_label("P2", "SKU-2")  # ST2's printer
    r = st1.get(JOBS.format("ST1-C1"))
    assert r.status_code == 200
    (job,) = r.json["jobs"]
    assert job["id"] == mine and job["attempt"] == 1 and job["copies"] == 2
    assert job["printer"] == {"name": "P1"}  # a name, never an address the agent would use
    assert job["content_type"] == "application/zpl"
    zpl = base64.b64decode(job["content_base64"]).decode()
    assert zpl.startswith("^XA") and "SKU-1" in zpl and zpl.rstrip().endswith("^XZ")
    assert _job(mine).status == "sending" and _job(other).status == "queued"
    # Leased: not handed out again while the lease runs.
    assert st1.get(JOBS.format("ST1-C1")).json == {"jobs": [], "retry_after": 0}
    db.session.expire_all()
    seen = db.session.execute(select(Station.last_seen_at).where(Station.code == "ST1-C1")).scalar_one()
    assert seen is not None
    db.session.rollback()


def test_long_poll_answers_when_a_job_is_queued(st1):
    def queue_later():
        time.sleep(0.6)
        with st1.client.application.app_context():
            queue_product_label("P1", "LATE")

    thread = threading.Thread(target=queue_later)
    started = time.monotonic()
    thread.start()
    r = st1.get(JOBS.format("ST1-C1") + "?wait=5")
    elapsed = time.monotonic() - started
    thread.join(5)
    assert r.status_code == 200 and len(r.json["jobs"]) == 1
    assert 0.5 < elapsed < 3


def test_long_poll_ends_empty_after_the_wait(st1):
    started = time.monotonic()
    r = st1.get(JOBS.format("ST1-C1") + "?wait=1")
    assert r.json == {"jobs": [], "retry_after": 0}
    assert 0.9 < time.monotonic() - started < 3


@pytest.mark.parametrize("wait", ["26", "-1", "1.5", "x", ""])
def test_bad_wait_is_422(st1, wait):
    r = st1.get(JOBS.format("ST1-C1") + f"?wait={wait}")
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "wait"


def test_outcomes_sending_then_printed(st1):
    job_id = queue_product_label("P1")
    (job,) = st1.get(JOBS.format("ST1-C1")).json["jobs"]
    url = JOBS.format("ST1-C1") + f"/{job_id}"
    r = st1.post(url, {"outcome": "sending", "attempt": job["attempt"]})
    assert r.status_code == 200 and r.json["status"] == "sending"
    assert _job(job_id).sending_at is not None
    r = st1.post(url, {"outcome": "printed", "attempt": job["attempt"]})
    assert r.status_code == 200 and r.json["status"] == "printed" and r.json["printer_state"] == "ready"
    # A retry of the same report (the answer was lost) is harmless.
    assert st1.post(url, {"outcome": "printed", "attempt": job["attempt"]}).json["status"] == "printed"


def test_not_ready_stores_the_printer_state_and_requeues(st1):
    job_id = queue_product_label("P1")
    st1.get(JOBS.format("ST1-C1"))
    r = st1.post(JOBS.format("ST1-C1") + f"/{job_id}", {"outcome": "not_ready", "reason": "paper out"})
    assert r.status_code == 200 and r.json["status"] == "queued" and r.json["last_error"] == "paper out"
    db.session.expire_all()
    assert db.session.execute(select(Printer.last_state).where(Printer.name == "P1")).scalar_one() == "paper out"
    db.session.rollback()


def test_failed_with_reason(st1):
    job_id = queue_product_label("P1")
    st1.get(JOBS.format("ST1-C1"))
    r = st1.post(JOBS.format("ST1-C1") + f"/{job_id}", {"outcome": "failed", "reason": "no such CUPS queue"})
    assert r.status_code == 200 and r.json["status"] == "failed"
    assert _job(job_id).last_error == "no such CUPS queue"


def test_outcome_errors_change_nothing(st1, tokens):
    mine = queue_product_label("P1")
    other = queue_product_label("P2")
    st1.get(JOBS.format("ST1-C1"))
    base = JOBS.format("ST1-C1")
    cases = [
        (f"{base}/{other}", {"outcome": "printed"}, 403, "forbidden"),  # ST2's job
        (f"{base}/999999", {"outcome": "printed"}, 404, "not_found"),
        (f"{base}/99999999999999999999999", {"outcome": "printed"}, 404, "not_found"),
        (f"{base}/{mine}", {"outcome": "done"}, 422, "validation_error"),
        (f"{base}/{mine}", {"reason": "x"}, 422, "validation_error"),
        (f"{base}/{mine}", {"outcome": "printed", "attempt": 7}, 409, "invalid_state"),  # an older/other claim
    ]
    for path, body, status, code in cases:
        r = st1.post(path, body)
        assert (r.status_code, r.json["error"]["code"]) == (status, code), (path, body, r.json)
    r = st1.client.post(f"{base}/{mine}", data="outcome=printed", headers=st1._headers())
    assert (r.status_code, r.json["error"]["code"]) == (400, "bad_request")
    assert _job(mine).status == "sending" and _job(other).status == "queued"
    # The other station's job is still its own to print.
    assert Api(st1.client, tokens["ST2-C1"]).get(JOBS.format("ST2-C1")).json["jobs"][0]["id"] == other


def test_outcome_of_a_job_not_being_sent_is_409(st1):
    job_id = queue_product_label("P1")  # queued, never claimed
    r = st1.post(JOBS.format("ST1-C1") + f"/{job_id}", {"outcome": "sending"})
    assert r.status_code == 409 and _job(job_id).status == "queued"


def test_a_label_that_cannot_be_rendered_fails_and_is_not_handed_out(st1):
    from wms.printing.service import print_label

    bad = print_label("P1", "product", {"sku": "X", "name": "no gtin"}).id  # the product label needs a gtin
    good = queue_product_label("P1", "OK")
    jobs = st1.get(JOBS.format("ST1-C1")).json["jobs"]
    assert [j["id"] for j in jobs] == [good]
    assert _job(bad).status == "failed" and "gtin" in _job(bad).last_error


# --- scans ------------------------------------------------------------------------------------------------------


def test_scans_are_stored_once_per_client_id_and_parsed(st1):
    make_product("SKU-7", "Kefir 1L", barcodes=["5901234123457"])
    make_bin("ST1", "A-01-02", kind="pickup")
    batch = {
        "scans": [
            {"client_id": "c-1", "code": "]C1010590123412345710LOT-7|17261231", "scanned_at": "2026-01-02T10:00:00Z"},
            {"client_id": "c-2", "code": "$B:ST1:A-01-02"},
            {"client_id": "c-3", "code": "hello world"},
            {"client_id": "c-3", "code": "hello world"},  # twice in one batch
            {"client_id": "c-4", "code": "5901234123458"},  # wrong check digit
        ]
    }
    r = st1.post(SCANS.format("ST1-C1"), batch)
    assert r.status_code == 200 and r.json == {"accepted": 4, "stored": 4}
    again = st1.post(SCANS.format("ST1-C1"), batch)  # the agent did not get the answer and sends again
    assert again.status_code == 200 and again.json == {"accepted": 4, "stored": 0}
    scans = {s.client_id: s for s in _scans()}
    assert len(scans) == 4
    product = scans["c-1"]
    assert product.kind == "product"
    assert product.parsed["gtin"] == "05901234123457" or product.parsed["gtin14"] == "05901234123457"
    assert product.parsed["lot"] == "LOT-7" and product.parsed["expiry"] == "2026-12-31"
    assert (product.parsed["sku"], product.parsed["name"]) == ("SKU-7", "Kefir 1L")  # resolved at the station
    assert product.scanned_at.replace(tzinfo=None).isoformat() == "2026-01-02T10:00:00"
    assert scans["c-2"].kind == "bin" and scans["c-2"].parsed["bin"] == "A-01-02"
    assert scans["c-2"].parsed["bin_kind"] == "pickup"
    assert scans["c-3"].kind == "error" and scans["c-3"].parsed["message"] == MESSAGES["unknown_format"]
    assert scans["c-4"].kind == "error" and scans["c-4"].parsed["message"] == MESSAGES["bad_check_digit"]
    assert scans["c-2"].scanned_at is not None  # default: when it arrived


def test_the_same_client_id_at_two_stations_is_two_scans(st1, tokens):
    body = {"scans": [{"client_id": "same", "code": "$T:TOTE-1"}]}
    assert st1.post(SCANS.format("ST1-C1"), body).json["stored"] == 1
    assert Api(st1.client, tokens["ST2-C1"]).post(SCANS.format("ST2-C1"), body).json["stored"] == 1
    assert len(_scans()) == 2


@pytest.mark.parametrize(
    "body, field",
    [
        ({"scans": []}, "scans"),
        ({"scans": [{"client_id": "a", "code": ""}]}, "scans[0].code"),
        ({"scans": [{"client_id": "ok", "code": "1"}, {"code": "1"}]}, "scans[1].client_id"),
        ({"scans": [{"client_id": "a b", "code": "1"}]}, "scans[0].client_id"),
        ({"scans": [{"client_id": "a", "code": "x" * 2001}]}, "scans[0].code"),
        ({"scans": [{"client_id": "a", "code": "1", "scanned_at": "yesterday"}]}, "scans[0].scanned_at"),
        ({"scans": [{"client_id": "a", "code": "1\x00"}]}, "scans[0].code"),
        ({}, "scans"),
    ],
)
def test_bad_scan_batches_are_422_and_store_nothing(st1, body, field):
    r = st1.post(SCANS.format("ST1-C1"), body)
    assert r.status_code == 422, r.json
    assert field in [d["field"] for d in r.json["error"]["details"]]
    assert _scans() == []


def test_scans_not_json_is_400(st1):
    r = st1.client.post(SCANS.format("ST1-C1"), data="{", headers=st1._headers() | {"Content-Type": "application/json"})
    assert (r.status_code, r.json["error"]["code"]) == (400, "bad_request")
    assert db.session.execute(select(func.count()).select_from(StationScan)).scalar_one() == 0


def test_openapi_lists_the_station_endpoints(any_app):
    doc = any_app.test_client().get("/api/v1/openapi.json").json
    assert "get" in doc["paths"]["/api/v1/stations/{code}/jobs"]
    assert doc["paths"]["/api/v1/stations/{code}/jobs/{id}"]["post"]["security"] == [{"station": []}]
    assert "StationScansIn" in doc["components"]["schemas"]
    assert "station" in doc["components"]["securitySchemes"]
