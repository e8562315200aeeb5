"""Stations, station printers and station tokens for the station tests."""

from __future__ import annotations

from tests.factories import make_location
from wms.printing.models import Station
from wms.printing.service import add_printer, print_label
from wms.printing.stations import create_station_token
from wms.uow import unit_of_work


def make_station(code: str, location: str) -> Station:
    """A station at ``location`` (which must exist)."""
    from sqlalchemy import select

    from wms.locations.models import Location

    with unit_of_work() as session:
        loc = session.execute(select(Location).where(Location.code == location)).scalar_one()
        station = Station(code=code, name=f"Station {code}", location_id=loc.id)
        session.add(station)
    return station


def station_token(code: str) -> str:
    """A ``station`` token of station ``code``."""
    return create_station_token(code)


def two_stations(printer_url: str = "zpl+tcp://127.0.0.1:9") -> dict[str, str]:
    """Stores ST1 and ST2 with a station each (ST1-C1 with printer P1, ST2-C1 with printer P2); their tokens."""
    make_location("ST1", "store")
    make_location("ST2", "store")
    add_printer("P1", printer_url, "ST1", "ST1-C1")
    add_printer("P2", printer_url, "ST2", "ST2-C1")
    return {"ST1-C1": station_token("ST1-C1"), "ST2-C1": station_token("ST2-C1")}


def queue_product_label(printer: str = "P1", sku: str = "SKU-1", copies: int = 1, key: str | None = None) -> int:
    job = print_label(
        printer,
        "product",
        {"sku": sku, "name": f"Product {sku}", "gtin": "5901234123457"},
        copies=copies,
        idempotency_key=key,
        reference=f"product:{sku}",
    )
    return job.id
