"""Times on pages are wall-clock times of the location they belong to (Europe/Warsaw unless a location or the
WMS_TIMEZONE setting says otherwise), with the zone's abbreviation; the API keeps UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask_login import login_user
from sqlalchemy import select, update

from tests.factories import Api, integration_token, make_location
from tests.integration.printing.station_helpers import make_station
from tests.web.staff import cheap_hashes_fixture, client_fixture, shop_fixture, sign_in  # noqa: F401 (fixtures)
from wms import create_app
from wms.auth.models import User
from wms.extensions import db
from wms.localtime import when, zone_name
from wms.locations.models import Location
from wms.printing.models import Printer, PrintJob, Station
from wms.printing.service import print_label
from wms.uow import unit_of_work

SUMMER = datetime(2025, 7, 15, 10, 0, tzinfo=UTC)  # 12:00 CEST in Warsaw, 11:00 BST in London
WINTER = datetime(2025, 1, 15, 10, 0, 5, tzinfo=UTC)  # 11:00 CET in Warsaw


def set_printer_state_time(name: str, at: datetime) -> None:
    with unit_of_work() as session:
        session.execute(update(Printer).where(Printer.name == name).values(last_state="ready", last_state_at=at))


def set_zone(location: str, zone: str) -> None:
    make_location(location, "store" if location.startswith("ST") else "warehouse", timezone=zone)


def test_printers_page_shows_warsaw_time(client, shop):
    set_printer_state_time("WH1-zebra", SUMMER)
    sign_in(client, "boss")
    html = client.get("/printers").get_data(as_text=True)
    assert "2025-07-15 12:00 CEST" in html
    assert "10:00 UTC" not in html and "2025-07-15 10:00" not in html


def test_a_location_with_its_own_zone_shows_its_own_time(client, shop):
    set_zone("ST1", "Europe/London")
    set_printer_state_time("ST1-pdf", SUMMER)
    set_printer_state_time("WH1-pdf", SUMMER)
    sign_in(client, "boss")
    html = client.get("/printers").get_data(as_text=True)
    assert "2025-07-15 11:00 BST" in html  # ST1's printer
    assert "2025-07-15 12:00 CEST" in html  # WH1's printer: the setting's zone


def test_job_pages_show_the_printers_local_time(client, shop):
    sign_in(client, "boss")
    job = print_label(shop["WH1-pdf"], "tote", {"code": "T-1"}, actor=None)
    with unit_of_work() as session:
        session.execute(update(PrintJob).where(PrintJob.id == job.id).values(created_at=WINTER))
    assert "2025-01-15 11:00 CET" in client.get(f"/print-jobs/{job.id}").get_data(as_text=True)
    listing = client.get("/print-jobs").get_data(as_text=True)
    assert "asked 2025-01-15 11:00 CET" in listing and "(UTC)" not in listing


def test_station_pages_show_seconds_and_give_the_browser_the_zone(client, shop):
    make_station("KRK-1", "ST1")
    set_zone("ST1", "Europe/London")
    with unit_of_work() as session:
        session.execute(update(Station).where(Station.code == "KRK-1").values(last_seen_at=WINTER))
    sign_in(client, "boss")
    assert "2025-01-15 10:00:05 GMT" in client.get("/stations").get_data(as_text=True)
    page = client.get("/stations/KRK-1").get_data(as_text=True)
    assert "2025-01-15 10:00:05 GMT" in page and 'data-zone="Europe/London"' in page


def test_sign_in_failures_are_shown_in_the_managers_zone(client, shop):
    assert client.post("/login", data={"username": "kasia", "password": "wrong"}).status_code != 303
    sign_in(client, "boss")  # no home location: the setting's zone
    html = client.get("/security/sign-ins").get_data(as_text=True)
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T<", html)) == 3  # by name, by address, the row
    assert "UTC" not in html


def test_without_a_location_the_users_home_zone_then_the_setting(app, shop):
    set_zone("ST1", "Europe/Lisbon")
    with app.test_request_context("/"):
        assert when(SUMMER) == "2025-07-15 12:00 CEST"  # nobody signed in: the setting
        login_user(db.session.execute(select(User).where(User.username == "kasia")).scalar_one())  # home: ST1
        assert when(SUMMER) == "2025-07-15 11:00 WEST"
        assert when(SUMMER, "WH1") == "2025-07-15 12:00 CEST"  # the thing's location wins
        assert when(SUMMER, "NOPE") == "2025-07-15 12:00 CEST"  # an unknown code: the setting
        store = db.session.execute(select(Location).where(Location.code == "ST1")).scalar_one()
        assert zone_name(store) == "Europe/Lisbon" and zone_name() == "Europe/Lisbon"


def test_the_setting_decides_for_locations_without_a_zone(app, shop, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", "America/New_York")
    with app.test_request_context("/"):
        assert when(SUMMER, "WH1") == "2025-07-15 06:00 EDT"


def test_an_unknown_setting_stops_the_app_at_start(tmp_path):
    with pytest.raises(ValueError, match="WMS_TIMEZONE"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite", "SECRET_KEY": "x", "TIMEZONE": "Mars/Base"})


def test_put_location_takes_a_zone_and_answers_it(app):
    api = Api(app.test_client(), integration_token())
    r = api.put("/api/v1/locations/ST9", {"name": "Store 9", "kind": "store"})
    assert r.status_code == 201 and r.json["timezone"] == "Europe/Warsaw"  # follows the setting
    r = api.put("/api/v1/locations/ST9", {"name": "Store 9", "kind": "store", "timezone": "Europe/Vilnius"})
    assert r.status_code == 200 and r.json["timezone"] == "Europe/Vilnius"
    assert r.json["updated_at"].endswith("Z")  # the API's times stay UTC
    r = api.put("/api/v1/locations/ST9", {"name": "Store Nine", "kind": "store"})
    assert r.status_code == 200 and r.json["timezone"] == "Europe/Vilnius"  # absent: unchanged


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "localtime", "", 3, "x" * 65])
def test_put_location_with_an_unknown_zone_is_422_and_changes_nothing(app, zone):
    api = Api(app.test_client(), integration_token())
    api.put("/api/v1/locations/ST9", {"name": "Store 9", "kind": "store", "timezone": "Europe/Vilnius"})
    r = api.put("/api/v1/locations/ST9", {"name": "Renamed", "kind": "store", "timezone": zone})
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"
    assert [d["field"] for d in r.json["error"]["details"]] == ["timezone"]
    location = db.session.execute(select(Location).where(Location.code == "ST9")).scalar_one()
    assert (location.name, location.timezone) == ("Store 9", "Europe/Vilnius")


@pytest.mark.parametrize("cutoff", ["3pm", "25:00", "15"])
def test_an_unreadable_carrier_cut_off_stops_the_app(tmp_path, cutoff):
    with pytest.raises(ValueError, match="WMS_SHIP_CUTOFF"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite", "SECRET_KEY": "x", "SHIP_CUTOFF": cutoff})
