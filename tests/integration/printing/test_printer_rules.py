"""Printer URLs are checked wherever they are stored (``wms printer add``, editing) and again before the worker
opens one; a disabled printer takes no new jobs and is printed to by nobody."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from tests.integration.printing.conftest import make_site, url_of
from wms.cli import main
from wms.errors import NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Location
from wms.printing import service
from wms.printing.models import Printer, PrintJob
from wms.printing.service import add_printer, print_label, product_label_data, set_printer_enabled, update_printer
from wms.printing.worker import print_due
from wms.uow import unit_of_work

BAD_URLS = [
    ("zpl+file:///etc/passwd", "neither a printer device"),
    ("pdf+dir:///etc", "hot folders must be under"),
    ("zpl+file:///dev/usb/../../etc/passwd", "'..'"),
    ("zpl+tcp://169.254.169.254:80", "metadata"),
    ("zpl+tcp://169.254.7.7:9100", "link-local"),
    ("zpl+tcp://[fe80::1]:9100", "link-local"),
    ("zpl+serial:///?url=spy:///dev/ttyUSB0", "use a device path"),
]


def _job(job_id: int) -> PrintJob:
    """The job as committed; the read ends here (a unit of work must not find it open and nest in it)."""
    db.session.rollback()
    try:
        job = service.get_job(job_id)
        db.session.expunge(job)
        return job
    finally:
        db.session.rollback()


@pytest.fixture
def wms(app):
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(main, list(args))
        db.session.rollback()
        return result

    return run


@pytest.mark.parametrize(("url", "why"), BAD_URLS)
def test_wms_printer_add_refuses_a_url_that_points_where_printers_may_not(wms, url, why):
    make_site()
    result = wms("printer", "add", "EVIL", url, "--location", "WH1")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    last = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("Error: url: ") and why in last, result.stderr
    assert db.session.execute(select(Printer)).first() is None  # nothing stored


def test_wms_printer_add_takes_a_good_url(wms, fake):
    make_site()
    assert wms("printer", "add", "Z1", url_of(fake), "--location", "WH1").exit_code == 0
    assert wms("printer", "add", "USB", "zpl+file:///dev/usb/lp0", "--location", "WH1").exit_code == 0


def test_hot_folders_default_to_the_instance_printouts_folder(app):
    make_site()
    root = os.path.join(app.instance_path, "printouts")
    assert add_printer("HOT", f"pdf+dir://{root}/WH1", "WH1").fmt == "pdf"
    assert add_printer("ZF", f"zpl+file://{root}/WH1-zebra.zpl", "WH1").fmt == "zpl"
    with pytest.raises(ValidationError, match=f"under {root}"):
        add_printer("HOT2", f"pdf+dir://{app.instance_path}", "WH1")


def test_the_settings_move_the_root_and_allow_link_local(app, monkeypatch, tmp_path):
    make_site()
    monkeypatch.setitem(app.config, "PRINTER_DIR_ROOT", str(tmp_path))
    monkeypatch.setitem(app.config, "PRINTER_ALLOW_LINK_LOCAL", True)
    monkeypatch.setitem(app.config, "PRINTER_DEVICE_PATHS", "/opt/zpl/*")
    assert add_printer("HOT", f"pdf+dir://{tmp_path}/a", "WH1").fmt == "pdf"
    assert add_printer("LL", "zpl+tcp://169.254.7.7", "WH1").fmt == "zpl"
    assert add_printer("OPT", "zpl+file:///opt/zpl/lp", "WH1").fmt == "zpl"
    with pytest.raises(ValidationError, match="metadata"):
        add_printer("MD", "zpl+tcp://169.254.169.254", "WH1")
    with pytest.raises(ValidationError, match="neither a printer device"):
        add_printer("USB", "zpl+file:///dev/usb/lp0", "WH1")  # the list replaces the default one


def _legacy_printer(name: str, url: str, location: str = "WH1") -> int:
    """A printer stored before the rules (or under looser settings): straight into the table."""
    with unit_of_work() as session:
        location_id = session.execute(select(Location.id).where(Location.code == location)).scalar_one()
        printer = Printer(name=name, url=url, fmt="zpl", location_id=location_id, active=True)
        session.add(printer)
        session.flush()
        return printer.id


def test_the_worker_never_writes_to_a_stored_url_the_rules_refuse(app, fast, tmp_path):
    """A clerk's test print on a printer whose stored URL names an ordinary file appends nothing to it."""
    make_site()
    target = tmp_path / "not-a-printer.txt"
    target.write_text("precious\n")
    _legacy_printer("OLD", f"zpl+file://{target}")
    job = service.print_test_label("OLD", actor=None)
    print_due()
    done = _job(job.id)
    assert done.status == "failed" and "not allowed" in done.last_error
    assert "neither a printer device" in done.last_error
    assert target.read_text() == "precious\n"


def test_the_worker_refuses_a_name_that_resolves_to_a_link_local_address(app, fast, monkeypatch):
    import socket

    make_site()
    _legacy_printer("NAMED", "zpl+tcp://printer.example.test:9100")

    def fake_getaddrinfo(host, *args, **kwargs):
        assert host == "printer.example.test"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    job = print_label("NAMED", "product", product_label_data("SKU-1"))
    print_due()
    done = _job(job.id)
    assert done.status == "failed" and "resolves to 169.254.169.254" in done.last_error


def test_update_printer_checks_the_url_and_keeps_the_name(app, fake):
    make_site()
    printer = add_printer("Z1", "zpl+tcp://127.0.0.1:9", "WH1")
    with pytest.raises(ValidationError) as info:
        update_printer(printer.id, "zpl+file:///etc/passwd", "NOWHERE")
    assert {d["field"] for d in info.value.details} == {"url", "location"}
    assert _printer("Z1").url == "zpl+tcp://127.0.0.1:9"  # nothing changed
    update_printer(printer.id, url_of(fake), "ST1", "ST1-C1")
    changed = _printer("Z1")
    assert changed.url == url_of(fake) and changed.location.code == "ST1" and changed.station.code == "ST1-C1"
    update_printer(printer.id, url_of(fake), "ST1", None)
    assert _printer("Z1").station_id is None
    with pytest.raises(NotFound):
        update_printer(999, url_of(fake), "ST1")


def test_update_printer_refuses_another_format_while_jobs_wait(app, hot_root):
    make_site()
    printer = add_printer("Z1", "zpl+tcp://127.0.0.1:9", "WH1")
    print_label("Z1", "product", product_label_data("SKU-1"))
    with pytest.raises(ValidationError, match="jobs for this ZPL printer are waiting"):
        update_printer(printer.id, f"pdf+dir://{hot_root}", "WH1")


def _printer(name: str) -> Printer:
    db.session.rollback()
    try:
        printer = service.get_printer(name)
        db.session.expunge(printer)
        return printer
    finally:
        db.session.rollback()


def test_a_disabled_printer_gets_no_jobs(app, fast, fake):
    make_site()
    printer = add_printer("Z1", url_of(fake), "WH1")
    queued = print_label("Z1", "product", product_label_data("SKU-1"))
    set_printer_enabled(printer.id, False)
    with pytest.raises(ValidationError, match="printer Z1 is disabled") as info:
        print_label("Z1", "product", product_label_data("SKU-1"))
    assert info.value.details[0]["field"] == "printer"
    assert db.session.execute(select(PrintJob.id)).scalars().all() == [queued.id]  # no new job
    db.session.rollback()
    assert print_due() == 0 and _job(queued.id).status == "queued"  # the one from before waits
    assert fake.labels == []
    set_printer_enabled(printer.id, True)
    print_due()
    assert _job(queued.id).status == "printed"
    with pytest.raises(NotFound):
        set_printer_enabled(999, False)
