"""``wms printer add|test`` and ``wms create-token --scope station`` through the click runner."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.integration.printing.conftest import make_site, url_of
from wms.channels.models import ApiToken
from wms.channels.service import hash_token
from wms.cli import main
from wms.extensions import db
from wms.printing.models import Printer, PrintJob, Station


@pytest.fixture
def wms(app):
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(main, list(args))
        db.session.rollback()
        return result

    return run


def one_line_error(result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: ") and fragment in lines[-1], result.stderr


def test_printer_add(wms, fake):
    make_site()
    result = wms("printer", "add", "Z1", fake.url, "--location", "WH1")
    assert result.exit_code == 0, result.output
    assert "added printer Z1 (zpl" in result.stdout
    printer = db.session.execute(select(Printer).where(Printer.name == "Z1")).scalar_one()
    assert printer.url == fake.url and printer.fmt == "zpl" and printer.station_id is None


def test_printer_add_at_a_station_makes_the_station(wms):
    make_site()
    result = wms(
        "printer",
        "add",
        "COUNTER-1",
        "zpl+serial:///dev/ttyUSB0?baud=9600",
        "--location",
        "ST1",
        "--station",
        "ST1-COUNTER-1",
    )
    assert result.exit_code == 0, result.output
    station = db.session.execute(select(Station).where(Station.code == "ST1-COUNTER-1")).scalar_one()
    assert station.location.code == "ST1"
    assert (
        wms("printer", "add", "PDF-1", "pdf+cups://Office", "--location", "ST1", "--station", "ST1-COUNTER-1").exit_code
        == 0
    )
    assert db.session.execute(select(Station)).scalars().all() == [station]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["Z9", "zpl+tcp://127.0.0.1:9100", "--location", "NOWHERE"], "unknown location 'NOWHERE'"),
        (["Z9", "http://printer/", "--location", "WH1"], "url: "),
        (["Z9", "zpl+tcp://:9100", "--location", "WH1"], "url: "),
        (["Z1", "zpl+tcp://127.0.0.1:9100", "--location", "WH1"], "printer Z1 exists already"),
    ],
)
def test_printer_add_errors(wms, args, fragment):
    make_site()
    assert wms("printer", "add", "Z1", "zpl+tcp://127.0.0.1:9100", "--location", "WH1").exit_code == 0
    one_line_error(wms("printer", "add", *args), fragment)
    assert wms("printer", "add", "Z2", "zpl+tcp://127.0.0.1:9100").exit_code == 2  # --location is required


def test_printer_test_prints(wms, fake):
    make_site()
    wms("printer", "add", "Z1", url_of(fake), "--location", "WH1")
    result = wms("printer", "test", "Z1", "--timeout", "5")
    assert result.exit_code == 0, result.output
    assert "printed test label on Z1" in result.stdout
    assert len(fake.labels) == 1 and "WMS test label: Z1" in fake.labels[0]


def test_printer_test_paper_out(wms, fake, fast):
    make_site()
    wms("printer", "add", "Z1", url_of(fake), "--location", "WH1")
    fake.set_state("paper out")
    result = wms("printer", "test", "Z1", "--timeout", "0.6")
    one_line_error(result, "paper out")
    assert "stays queued" in result.stderr
    job = db.session.execute(select(PrintJob)).scalar_one()
    assert job.status == "queued" and job.kind == "test"
    assert fake.labels == []


def test_printer_test_head_open_then_closed_while_waiting(wms, fake, fast):
    make_site()
    wms("printer", "add", "Z1", url_of(fake), "--location", "WH1")
    fake.set_state("head open")
    threading.Timer(0.5, fake.set_state, args=("ready",)).start()
    result = wms("printer", "test", "Z1", "--timeout", "5")
    assert result.exit_code == 0, result.output
    assert len(fake.formats) == 1


def test_printer_test_unreachable(wms, fake, fast):
    make_site()
    wms("printer", "add", "Z1", url_of(fake), "--location", "WH1")
    fake.stop()
    one_line_error(wms("printer", "test", "Z1", "--timeout", "0.3"), "unreachable: connection refused")


def test_printer_test_station_printer_waits_for_the_agent(wms, fake):
    make_site()
    wms("printer", "add", "C1", url_of(fake), "--location", "ST1", "--station", "ST1-C1")
    result = wms("printer", "test", "C1", "--timeout", "0.3")
    one_line_error(result, "wms station --station ST1-C1")
    assert fake.labels == []  # only the station's agent prints it
    assert db.session.execute(select(PrintJob.status)).scalar_one() == "queued"


def test_printer_test_unknown_printer(wms):
    one_line_error(wms("printer", "test", "NOPE", "--timeout", "0.1"), "no printer 'NOPE'")


def test_create_station_token(wms):
    make_site()
    wms("printer", "add", "C1", "zpl+tcp://127.0.0.1:9", "--location", "ST1", "--station", "ST1-C1")
    result = wms("create-token", "--scope", "station", "--station", "ST1-C1")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    row = db.session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one()
    assert row.scope == "station" and row.station_id is not None
    one_line_error(wms("create-token", "--scope", "station", "--station", "NOPE"), "unknown station 'NOPE'")
    assert wms("create-token", "--scope", "station").exit_code == 2
    assert wms("create-token", "--scope", "integration", "--station", "ST1-C1").exit_code == 2
