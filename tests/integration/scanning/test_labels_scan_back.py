"""The station recognises the system's own labels: every label kind is drawn (PDF, and ZPL through the test
interpreter), its barcodes are decoded, and each value is uploaded as a station scan, which must be stored as what
it names, with the meaning a person at the counter reads."""

from __future__ import annotations

import json
from functools import cache

import pytest
from sqlalchemy import select, update

import labels
from devices.scan import ScanKind, parse_scan
from tests.integration.printing.station_helpers import make_station
from tests.integration.scanning.conftest import EAN, TRACKING, Site
from tests.unit.labels import zplview
from tests.unit.labels.samples import SHIP_FROM, SHIP_TO, with_check
from tests.unit.labels.tools import scan
from tests.unit.labels.tools import to_images as pdf_pages
from wms.extensions import db
from wms.orders.models import Order
from wms.printing.models import StationScan
from wms.printing.stations import record_scans, scans_after
from wms.uow import unit_of_work

PICKUP_CODE = "AC3KXT7Q"
SSCC = with_check("37612345000012345")
LINES = [{"sku": "MILK", "name": "Mleko 1L", "qty": 2, "bin": "A-01", "order": "WEB-1"}]

#: label data naming what the site holds (the packing slip's order id is added per test: ids are the database's)
DATA = {
    "bin": {"code": "A-01", "location": "WH1 Magazyn centralny Łódź"},
    "product": {"sku": "MILK", "name": "Mleko 1L", "gtin": EAN},
    "tote": {"code": "TOTE-0042"},
    "pickup": {
        "order": "WEB-2",
        "pickup_code": PICKUP_CODE,
        "customer": "Anna Nowak",
        "store": "ST1",
        "shelf": "PU-01",
    },
    "return": {"rma": "RMA-2026-000017", "order": "WEB-1", "customer": "Anna Nowak", "lines": LINES},
    "shipping": {
        "order": "WEB-1",
        "sscc": SSCC,
        "carrier": "Test",
        "tracking": TRACKING,
        "ship_to": SHIP_TO,
        "ship_from": SHIP_FROM,
    },
    "picklist": {"wave": "W-WH1-0042", "location": "WH1", "lines": LINES},
    "packing_slip": {"order": "WEB-1", "customer": "Anna Nowak", "ship_to": SHIP_TO, "lines": LINES},
}
CASES = [(kind, fmt) for kind, formats in labels.KINDS.items() for fmt in formats]


@cache
def decoded(kind: str, fmt: str, data_json: str) -> tuple[str, ...]:
    out = labels.render(kind, json.loads(data_json), fmt)
    image = pdf_pages(out, last_page=1)[0] if fmt == "pdf" else zplview.render(out).image.convert("L")
    return tuple(scan(image))


def label_codes(kind: str, fmt: str, data: dict) -> list[str]:
    return list(decoded(kind, fmt, json.dumps(data, sort_keys=True)))


@pytest.fixture
def counter(site: Site) -> Site:
    """A station at WH1; the pickup order's code fixed so the labels can be drawn once for every test."""
    make_station("WH1-PACK", "WH1")
    with unit_of_work() as session:
        session.execute(update(Order).where(Order.id == site.pickup).values(pickup_code=PICKUP_CODE))
    return site


def expected(kind: str, site: Site) -> list[tuple[str, str]]:
    """(stored kind, meaning) of each barcode, in the order the decoded values sort in."""
    shipped = f"order {site.shipped} (WEB-1, reserved)"
    return {
        "bin": [("bin", "Bin A-01 at WH1 (pick)")],
        "product": [("product", f"Product GTIN {EAN}: MILK Mleko 1L")],
        "tote": [("tote", "Tote TOTE-0042")],
        "pickup": [("pickup", f"Pickup code {PICKUP_CODE}: order {site.pickup} (WEB-2, reserved)")] * 2,
        "return": [("return", "Return RMA-2026-000017")],
        "shipping": [
            ("sscc", f"Parcel / pallet SSCC {SSCC}"),
            ("order", f"O{shipped[1:]} · parcel {TRACKING}"),
        ],
        "picklist": [("wave", "Pick list (wave) W-WH1-0042")],
        "packing_slip": [("order", f"O{shipped[1:]}")],
    }[kind]


@pytest.mark.parametrize(("kind", "fmt"), CASES)
def test_the_station_recognises_every_code_on_every_label(counter: Site, kind: str, fmt: str) -> None:
    data = dict(DATA[kind])
    codes = label_codes(kind, fmt, data)
    assert len(codes) == len(expected(kind, counter)), codes
    # parse_scan knows each value for what it is (it raises on what it does not): the WMS's codes by their
    # prefix, the tracking number as a plain code that the resolver finds as the parcel's order
    parsed = [str(parse_scan(code).kind) for code in codes]
    stored_kinds = [stored for stored, _ in expected(kind, counter)]
    wanted = [
        k if k != "order" or code.startswith("$O:") else "plain" for k, code in zip(stored_kinds, codes, strict=True)
    ]
    assert parsed == wanted
    record_scans("WH1-PACK", [{"client_id": f"{kind}-{i}", "code": code} for i, code in enumerate(codes)])
    views = scans_after("WH1-PACK", 0)
    assert [(v["kind"], v["meaning"]) for v in views] == expected(kind, counter), [v["raw"] for v in views]
    assert "error" not in [v["kind"] for v in views]


def test_a_packing_slip_with_the_orders_id_names_it_by_id(counter: Site) -> None:
    data = {**DATA["packing_slip"], "order_id": counter.shipped}
    (code,) = label_codes("packing_slip", "pdf", data)
    assert code == f"$O:{counter.shipped}" and parse_scan(code).order_id == counter.shipped
    record_scans("WH1-PACK", [{"client_id": "slip", "code": code}])
    (stored,) = scans_after("WH1-PACK", 0)
    assert (stored["kind"], stored["parsed"]["order_id"], stored["parsed"]["matched"]) == (
        "order",
        counter.shipped,
        "id",
    )


def test_plain_codes_typed_at_the_station(counter: Site) -> None:
    """What people type: a bin's code as printed, an order's number or reference, a pickup code in lower case."""
    typed = ["A-01", str(counter.shipped), "WEB-2", PICKUP_CODE.lower(), TRACKING, "NOTHING-1"]
    record_scans("WH1-PACK", [{"client_id": f"t{i}", "code": code} for i, code in enumerate(typed)])
    db.session.expire_all()
    stored = list(db.session.execute(select(StationScan).order_by(StationScan.id)).scalars())
    assert [s.kind for s in stored] == ["bin", "order", "order", "pickup", "order", "error"]
    assert stored[0].parsed["source"] == "plain" and stored[0].parsed["bin"] == "A-01"
    assert stored[2].parsed["order_reference"] == "WEB-2"
    assert stored[-1].parsed["code"] == "unknown_code"
    assert stored[-1].parsed["message"].startswith("NOTHING-1 is not a bin, order or parcel known here")
    db.session.rollback()


def test_a_bin_label_of_another_location_is_not_taken_for_one_here(counter: Site) -> None:
    (code,) = label_codes("bin", "zpl", {"code": "A-01", "location": "WH2"})
    assert parse_scan(code).kind is ScanKind.BIN
    record_scans("WH1-PACK", [{"client_id": "x", "code": code}])
    (stored,) = scans_after("WH1-PACK", 0)
    assert stored["kind"] == "error" and stored["meaning"].startswith("Bin A-01 is at WH2, not WH1")
