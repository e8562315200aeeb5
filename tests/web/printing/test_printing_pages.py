"""Printers and print jobs pages: who sees what, test labels, reprint, cancel, and the banner that tells the person
who asked that their labels did not print."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from tests.web.staff import (  # noqa: F401 (fixtures)
    cheap_hashes_fixture,
    client_fixture,
    flashes,
    job_count,
    jobs,
    new_client,
    shop_fixture,
    sign_in,
)
from wms.auth.service import find_user
from wms.errors import ValidationError
from wms.extensions import db
from wms.printing.models import Printer
from wms.printing.service import claim_jobs, print_label, record_outcome
from wms.timeutil import utcnow


def product_job(shop, printer="ST1-pdf", user="kasia"):
    actor = find_user(user)
    db.session.rollback()
    data = {"sku": "KT-1", "name": "Patelnia", "gtin": "5901234123457"}
    return print_label(shop[printer], "product", data, reference="product:KT-1", actor=actor)


def fail(job, reason="unreachable: connection refused"):
    [claim] = claim_jobs(job_ids=[job.id], printer_ids=[job.printer_id])
    return record_outcome(job.id, "failed", reason, attempt=claim.attempt)


def make_unknown(job):
    # The claimant wrote the bytes (sending_at) and was never heard of again: the next claim after its lease
    # cannot tell whether the label came out.
    [claim] = claim_jobs(job_ids=[job.id], printer_ids=[job.printer_id], lease_seconds=60)
    record_outcome(job.id, "sending", attempt=claim.attempt)
    claim_jobs(job_ids=[job.id], printer_ids=[job.printer_id], now=utcnow() + timedelta(seconds=120))


def set_state(name, state):
    db.session.rollback()
    printer = db.session.query(Printer).filter_by(name=name).one()
    printer.last_state, printer.last_state_at = state, utcnow()
    db.session.commit()


def banner(html: str) -> str:
    found = re.search(r'<section class="banner banner-bad".*?</section>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""


# --- printers --------------------------------------------------------------------------------------------------


def test_printers_by_location_with_a_readable_state(client, shop):
    set_state("WH1-zebra", "paper out")
    set_state("ST1-pdf", "unreachable: directory /x does not exist")
    set_state("WH1-pdf", "ready")
    sign_in(client, "boss")
    html = client.get("/printers").get_data(as_text=True)
    assert '<span class="badge badge-warn">paper out</span>' in html
    assert '<span class="badge badge-bad">unreachable: directory /x does not exist</span>' in html
    assert '<span class="badge badge-ok">ready</span>' in html
    assert '<span class="badge badge-idle">not checked yet</span>' in html  # ST2-pdf
    assert html.index("WH1-pdf") < html.index("ST1-pdf") < html.index("ST2-pdf")
    assert re.search(r"\d\d:\d\d CES?T<", html) and "pdf+dir://" in html  # when, in Warsaw time


def test_clerk_sees_only_their_stores_printers(client, shop):
    sign_in(client, "kasia")
    html = client.get("/printers").get_data(as_text=True)
    assert "ST1-pdf" in html
    for other in ("WH1-pdf", "WH1-zebra", "ST2-pdf", "Magazyn", "Warszawa"):
        assert other not in html
    assert client.post(f"/printers/{shop['ST2-pdf']}/test").status_code == 404
    assert job_count() == 0


def test_print_test_label(client, shop):
    sign_in(client, "kasia")
    r = client.post(f"/printers/{shop['ST1-pdf']}/test")
    [job] = jobs()
    assert r.status_code == 303 and r.headers["Location"] == f"/print-jobs/{job.id}"
    assert (job.kind, job.reference, job.requested_by.username) == ("test", "test", "kasia")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Test label queued on ST1-pdf" in flashes(page)[0] and "Waiting to be printed" in page


def test_pages_need_a_role_and_a_sign_in(client, app, shop):
    for url in ("/printers", "/print-jobs", "/print-jobs/1"):
        assert client.get(url).status_code == 302
    assert client.post(f"/printers/{shop['ST1-pdf']}/test").status_code == 302
    assert job_count() == 0


# --- adding, editing and disabling printers (managers) -----------------------------------------------------------


def printer_row(name: str):
    db.session.rollback()
    try:
        return db.session.query(Printer).filter_by(name=name).one_or_none()
    finally:
        db.session.rollback()


def test_a_manager_adds_a_printer(client, shop):
    sign_in(client, "boss")
    page = client.get("/printers").get_data(as_text=True)
    assert 'href="/printers/new"' in page
    form = client.get("/printers/new?location=ST1").get_data(as_text=True)
    assert '<option value="ST1" selected>' in form
    data = {"name": "ST1-zebra", "url": "zpl+tcp://192.168.7.20:9100", "location": "ST1"}
    r = client.post("/printers/new", data=data)
    assert r.status_code == 303 and r.headers["Location"] == "/printers"
    added = printer_row("ST1-zebra")
    assert (added.url, added.fmt, added.active, added.station_id) == ("zpl+tcp://192.168.7.20:9100", "zpl", True, None)
    assert "Printer ST1-zebra added." in flashes(client.get("/printers").get_data(as_text=True))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("zpl+file:///etc/passwd", "neither a printer device"),
        ("pdf+dir:///etc", "hot folders must be under"),
        ("zpl+file:///dev/usb/../../etc/passwd", "&#39;..&#39;"),
        ("zpl+tcp://169.254.169.254:80", "metadata"),
        ("zpl+tcp://169.254.10.10:9100", "link-local"),
        ("zpl+tcp://[fe80::1]:9100", "link-local"),
        ("http://printer/", "not a printer URL"),
    ],
)
def test_a_bad_printer_url_is_refused_on_the_page(client, shop, url, message):
    sign_in(client, "boss")
    r = client.post("/printers/new", data={"name": "EVIL", "url": url, "location": "WH1"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    error = html.split('id="err-url"', 1)[1].split("</p>", 1)[0]
    assert message in error, error
    assert 'value="EVIL"' in html  # what was typed stays in the form
    assert printer_row("EVIL") is None


def test_every_field_is_checked_at_once_on_the_page(client, shop):
    sign_in(client, "boss")
    r = client.post("/printers/new", data={"name": "", "url": "", "location": "NOWHERE"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for field in ("name", "url", "location"):
        assert f'id="err-{field}"' in html


def test_a_manager_edits_a_printer_with_the_same_rules(client, shop, tmp_path):
    sign_in(client, "boss")
    printer_id = shop["ST2-pdf"]
    form = client.get(f"/printers/{printer_id}/edit").get_data(as_text=True)
    assert f'value="pdf+dir://{tmp_path}"' in form and "The name stays" in form
    r = client.post(f"/printers/{printer_id}/edit", data={"url": "pdf+dir:///etc", "location": "ST2"})
    assert r.status_code == 422 and "hot folders must be under" in r.get_data(as_text=True)
    assert printer_row("ST2-pdf").url == f"pdf+dir://{tmp_path}"
    (tmp_path / "ST2").mkdir()
    data = {"url": f"pdf+dir://{tmp_path}/ST2", "location": "ST2", "station": "ST2-C1", "name": "RENAMED"}
    r = client.post(f"/printers/{printer_id}/edit", data=data)
    assert r.status_code == 303
    changed = printer_row("ST2-pdf")
    assert changed.url == f"pdf+dir://{tmp_path}/ST2" and changed.station.code == "ST2-C1"
    assert client.get("/printers/999999/edit").status_code == 404


def test_a_disabled_printer_is_listed_as_disabled_and_gets_no_jobs(client, shop):
    sign_in(client, "boss")
    r = client.post(f"/printers/{shop['ST1-pdf']}/disable")
    assert r.status_code == 303
    assert printer_row("ST1-pdf").active is False
    html = client.get("/printers").get_data(as_text=True)
    row = html.split("<strong>ST1-pdf</strong>", 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge badge-idle">disabled</span>' in row and ">Enable<" in row
    assert "Print test label" not in row
    assert "ST1-pdf" not in client.get("/products/KT-1").get_data(as_text=True).split("<select", 1)[-1]
    with pytest.raises(ValidationError, match="disabled"):
        product_job(shop, "ST1-pdf", "kasia")
    assert client.post(f"/printers/{shop['ST1-pdf']}/test").status_code == 404 or job_count() == 0
    assert job_count() == 0
    assert client.post(f"/printers/{shop['ST1-pdf']}/enable").status_code == 303
    assert printer_row("ST1-pdf").active is True


def test_clerks_cannot_add_edit_or_disable_printers(client, shop):
    sign_in(client, "kasia")
    assert 'href="/printers/new"' not in client.get("/printers").get_data(as_text=True)
    assert client.get("/printers/new").status_code == 403
    data = {"name": "X", "url": "zpl+tcp://127.0.0.1:9100", "location": "ST1"}
    assert client.post("/printers/new", data=data).status_code == 403
    assert client.get(f"/printers/{shop['ST1-pdf']}/edit").status_code == 403
    assert client.post(f"/printers/{shop['ST1-pdf']}/edit", data=data).status_code == 403
    assert client.post(f"/printers/{shop['ST1-pdf']}/disable").status_code == 403
    assert printer_row("X") is None and printer_row("ST1-pdf").active is True


def test_printer_forms_carry_a_csrf_token(client, app, shop, monkeypatch):
    sign_in(client, "boss")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    for url in ("/printers/new", f"/printers/{shop['ST1-pdf']}/edit"):
        assert 'name="csrf_token" type="hidden" value="' in client.get(url).get_data(as_text=True)
    html = client.get("/printers").get_data(as_text=True)
    disable = html.split(f'action="/printers/{shop["ST1-pdf"]}/disable"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrf_token" type="hidden" value="' in disable
    data = {"name": "X", "url": "zpl+tcp://127.0.0.1:9100", "location": "ST1"}
    assert client.post("/printers/new", data=data).status_code == 400
    assert client.post(f"/printers/{shop['ST1-pdf']}/disable").status_code == 400
    assert printer_row("X") is None and printer_row("ST1-pdf").active is True


# --- print jobs ------------------------------------------------------------------------------------------------


def test_jobs_list_and_filters(client, shop):
    a = product_job(shop, "ST1-pdf", "kasia")
    b = product_job(shop, "WH1-pdf", "boss")
    fail(b)
    sign_in(client, "boss")
    html = client.get("/print-jobs").get_data(as_text=True)
    assert html.index(f">#{b.id}<") < html.index(f">#{a.id}<")  # newest first
    assert "unreachable: connection refused" in html and "kasia" in html
    failed = client.get("/print-jobs?status=failed").get_data(as_text=True)
    assert f">#{b.id}<" in failed and f">#{a.id}<" not in failed
    by_printer = client.get(f"/print-jobs?printer={shop['ST1-pdf']}").get_data(as_text=True)
    assert f">#{a.id}<" in by_printer and f">#{b.id}<" not in by_printer
    by_location = client.get("/print-jobs?location=WH1").get_data(as_text=True)
    assert f">#{b.id}<" in by_location and f">#{a.id}<" not in by_location
    mine = client.get("/print-jobs?mine=1").get_data(as_text=True)
    assert f">#{b.id}<" in mine and f">#{a.id}<" not in mine


def test_clerk_sees_only_their_stores_jobs(client, shop):
    mine = product_job(shop, "ST1-pdf", "kasia")
    other = product_job(shop, "ST2-pdf", "ola")
    sign_in(client, "kasia")
    html = client.get("/print-jobs").get_data(as_text=True)
    assert f">#{mine.id}<" in html and f">#{other.id}<" not in html
    assert client.get(f"/print-jobs/{mine.id}").status_code == 200
    assert client.get(f"/print-jobs/{other.id}").status_code == 404
    assert client.post(f"/print-jobs/{other.id}/reprint").status_code == 404
    assert client.post(f"/print-jobs/{other.id}/cancel").status_code == 404
    assert job_count() == 2 and jobs()[1].status == "queued"


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv", response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_jobs_list_exports_as_csv_with_its_filters(client, shop):
    a = product_job(shop, "ST1-pdf", "kasia")
    b = product_job(shop, "WH1-pdf", "boss")
    fail(b, "-1 bytes written")  # a text a spreadsheet would take for a formula
    other = product_job(shop, "ST2-pdf", "ola")
    sign_in(client, "boss")
    html = client.get("/print-jobs?status=failed").get_data(as_text=True)
    assert 'href="/print-jobs?csv=jobs&amp;status=failed"' in html
    rows = csv_rows(client.get("/print-jobs?csv=jobs"))
    assert rows[0][:6] == ["Job", "Label", "Reference", "Printer", "Location", "Status"]
    assert [row[0] for row in rows[1:]] == [str(other.id), str(b.id), str(a.id)]  # newest first, like the page
    failed = csv_rows(client.get("/print-jobs?csv=jobs&status=failed"))
    assert len(failed) == 2
    row = dict(zip(failed[0], failed[1], strict=True))
    assert (row["Job"], row["Printer"], row["Location"], row["Status"], row["Asked by"]) == (
        str(b.id),
        "WH1-pdf",
        "WH1",
        "failed",
        "boss",
    )
    assert row["Last error"] == "'-1 bytes written" and row["Reference"] == "product:KT-1"
    assert [r[0] for r in csv_rows(client.get("/print-jobs?csv=jobs&location=ST1"))[1:]] == [str(a.id)]
    client.post("/logout")
    sign_in(client, "kasia")  # a clerk exports their store's jobs only
    assert [r[0] for r in csv_rows(client.get("/print-jobs?csv=jobs"))[1:]] == [str(a.id)]


def test_job_page_says_what_happened(client, shop):
    job = fail(product_job(shop))
    sign_in(client, "kasia")
    html = client.get(f"/print-jobs/{job.id}").get_data(as_text=True)
    assert "This label did not print: unreachable: connection refused" in html
    assert 'href="/products/KT-1"' in html and "Product label KT-1" in html
    assert client.get("/print-jobs/999").status_code == 404


def test_reprint_makes_a_new_job(client, shop):
    job = fail(product_job(shop))
    sign_in(client, "boss")
    r = client.post(f"/print-jobs/{job.id}/reprint")
    new = jobs()[-1]
    assert r.status_code == 303 and r.headers["Location"] == f"/print-jobs/{new.id}"
    assert (new.reprint_of_id, new.status, new.data, new.requested_by.username) == (job.id, "queued", job.data, "boss")
    assert f"Reprint queued as job {new.id}" in flashes(client.get(r.headers["Location"]).get_data(as_text=True))[0]
    listed = client.get("/print-jobs").get_data(as_text=True)
    assert f'reprinted as <a href="/print-jobs/{new.id}">' in listed


def test_a_queued_job_cannot_be_reprinted_but_can_be_cancelled(client, shop):
    job = product_job(shop)
    sign_in(client, "kasia")
    r = client.post(f"/print-jobs/{job.id}/reprint", headers={"Referer": f"/print-jobs/{job.id}"})
    assert r.status_code == 303 and job_count() == 1
    assert "still going to print" in flashes(client.get(f"/print-jobs/{job.id}").get_data(as_text=True))[0]
    r = client.post(f"/print-jobs/{job.id}/cancel", data={"next": "/print-jobs?status=queued"})
    assert r.status_code == 303 and r.headers["Location"] == "/print-jobs?status=queued"
    assert jobs()[0].status == "cancelled"
    # Cancelled already: said so, nothing changes.
    client.post(f"/print-jobs/{job.id}/cancel", headers={"Referer": "/print-jobs"})
    assert "cancelled" in flashes(client.get("/print-jobs").get_data(as_text=True))[0]
    assert jobs()[0].status == "cancelled"


def test_cancel_goes_back_only_to_this_site(client, shop):
    job = product_job(shop)
    sign_in(client, "kasia")
    r = client.post(f"/print-jobs/{job.id}/cancel", data={"next": "https://evil.example/"})
    assert r.headers["Location"] == f"/print-jobs/{job.id}"


def test_buttons_carry_a_csrf_token(client, app, shop, monkeypatch):
    job = fail(product_job(shop))
    sign_in(client, "kasia")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    html = client.get("/print-jobs").get_data(as_text=True)
    reprint_form = html.split(f'action="/print-jobs/{job.id}/reprint"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrf_token" type="hidden" value="' in reprint_form, reprint_form
    assert client.post(f"/print-jobs/{job.id}/reprint").status_code == 400
    assert client.post(f"/printers/{shop['ST1-pdf']}/test").status_code == 400
    assert job_count() == 1


# --- the "did not print" banner --------------------------------------------------------------------------------


def test_banner_shows_a_failed_job_to_its_requester_only(client, app, shop):
    job = fail(product_job(shop, "ST1-pdf", "kasia"), "unreachable: connection refused")
    sign_in(client, "kasia")
    for page in ("/", "/products", "/printers"):
        text = banner(client.get(page).get_data(as_text=True))
        assert "1 label did not print" in text
        assert "Product label KT-1 on ST1-pdf" in text and "unreachable: connection refused" in text
    # The manager sees the job in the list, but it is not theirs to be told about.
    boss = new_client(app)
    sign_in(boss, "boss")
    assert banner(boss.get("/").get_data(as_text=True)) == ""
    assert f">#{job.id}<" in boss.get("/print-jobs").get_data(as_text=True)
    other = new_client(app)
    sign_in(other, "ola")
    assert banner(other.get("/").get_data(as_text=True)) == ""


def test_banner_counts_unknown_jobs_and_goes_when_reprinted(client, shop):
    first = fail(product_job(shop))
    second = product_job(shop)
    make_unknown(second)
    assert jobs()[1].status == "unknown"
    sign_in(client, "kasia")
    text = banner(client.get("/").get_data(as_text=True))
    assert "2 labels did not print" in text and "may or may not have printed" in text
    client.post(f"/print-jobs/{first.id}/reprint")
    assert "1 label did not print" in banner(client.get("/").get_data(as_text=True))
    client.post(f"/print-jobs/{second.id}/cancel")  # dismissed: not printed, not to be reprinted
    assert banner(client.get("/").get_data(as_text=True)) == ""


def test_banner_can_be_hidden_until_the_next_failure(client, shop):
    job = fail(product_job(shop))
    sign_in(client, "kasia")
    assert banner(client.get("/products").get_data(as_text=True))
    r = client.post("/print-jobs/dismiss", data={"upto": job.id, "next": "/products"})
    assert r.status_code == 303 and r.headers["Location"] == "/products"
    assert banner(client.get("/products").get_data(as_text=True)) == ""
    fail(product_job(shop), "unreachable: no route to host")
    text = banner(client.get("/products").get_data(as_text=True))
    assert "1 label did not print" in text and "no route to host" in text


def test_banner_is_not_on_the_login_page(client, shop):
    product_job(shop)
    assert banner(client.get("/login").get_data(as_text=True)) == ""


@pytest.mark.parametrize("status", ["queued", "printed"])
def test_no_banner_for_jobs_that_are_fine(client, shop, status):
    job = product_job(shop)
    if status == "printed":
        [claim] = claim_jobs(job_ids=[job.id], printer_ids=[job.printer_id])
        record_outcome(job.id, "sending", attempt=claim.attempt)
        record_outcome(job.id, "printed", attempt=claim.attempt)
    sign_in(client, "kasia")
    assert banner(client.get("/").get_data(as_text=True)) == ""
