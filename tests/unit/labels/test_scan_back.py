"""Every code a label carries scans back: each label kind drawn (PDF pages, and ZPL through the test interpreter),
its barcodes decoded, and each decoded value recognised by ``devices.parse_scan`` as the right kind."""

from __future__ import annotations

from functools import cache

import pytest

import labels
from devices.scan import ScanKind, parse_scan
from tests.unit.labels import zplview
from tests.unit.labels.samples import GOOD, NASTY, expected_codes
from tests.unit.labels.tools import scan, to_images

#: what the barcodes of each kind must parse as (sorted like the decoded values: by their text)
KINDS = {
    "bin": [ScanKind.BIN],
    "product": [ScanKind.PRODUCT],
    "tote": [ScanKind.TOTE],
    "pickup": [ScanKind.PICKUP, ScanKind.PICKUP],  # QR and Code 128
    "return": [ScanKind.RETURN],
    "shipping": [ScanKind.SSCC, ScanKind.PLAIN],  # (00) SSCC, and the carrier's tracking number as it is
    "picklist": [ScanKind.WAVE],
    "packing_slip": [ScanKind.ORDER],
}
CASES = [(kind, fmt) for kind, formats in labels.KINDS.items() for fmt in formats]


@cache
def decoded(kind: str, fmt: str, nasty: bool) -> list[str]:
    """The values a scanner reads off the first page of the label (PDF) or the drawn ZPL format."""
    data = (NASTY if nasty else GOOD)[kind]
    out = labels.render(kind, data, fmt)
    image = to_images(out, last_page=1)[0] if fmt == "pdf" else zplview.render(out).image.convert("L")
    return scan(image)


def test_every_kind_is_covered() -> None:
    assert set(KINDS) == set(labels.KINDS) == set(GOOD)


@pytest.mark.parametrize(("kind", "fmt"), CASES)
def test_every_barcode_of_every_label_parses_as_its_kind(kind: str, fmt: str) -> None:
    values = decoded(kind, fmt, False)
    assert values == expected_codes(kind, GOOD[kind])
    assert [parse_scan(value).kind for value in values] == KINDS[kind]


@pytest.mark.parametrize(("kind", "fmt"), CASES)
def test_hostile_label_data_still_scans_back_as_a_code(kind: str, fmt: str) -> None:
    # ZPL and HTML special characters, long codes: still what was printed, and never a scan error. A pickup code
    # outside the WMS's alphabet is a plain code (looked up by the resolver); the WMS's own codes keep their kind.
    for value in decoded(kind, fmt, True):
        result = parse_scan(value)
        assert result.kind in (*KINDS[kind], ScanKind.PLAIN), (value, result)
        assert result.value


def test_the_plain_code_is_printed_for_people_and_the_wms_code_is_in_the_bars() -> None:
    zpl = labels.render("bin", {"code": "A-01-02", "location": "WH1 Stryków"}, "zpl").decode()
    assert "^FD>:$B:WH1:A-01-02^FS" in zpl and "^FDA-01-02^FS" in zpl
    assert parse_scan("$B:WH1:A-01-02").bin == "A-01-02"


def test_a_packing_slip_names_its_order_by_id_when_it_has_one() -> None:
    data = {**GOOD["packing_slip"], "order_id": 1234}
    assert decoded_value("packing_slip", data) == ["$O:1234"]
    assert parse_scan("$O:1234").order_id == 1234
    with pytest.raises(ValueError, match="order_id"):
        labels.render("packing_slip", {**data, "order_id": "SO-1"}, "pdf")


def test_a_bin_label_needs_a_location_code_a_barcode_can_carry() -> None:
    with pytest.raises(ValueError, match="code"):
        labels.render("bin", {"code": "A-01", "location": "Łódź"}, "zpl")


def decoded_value(kind: str, data: dict) -> list[str]:
    return scan(to_images(labels.render(kind, data, "pdf"), last_page=1)[0])
