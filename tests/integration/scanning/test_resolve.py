"""resolve_scan on SQLite and PostgreSQL: every form a scan may take (API "What a scan may be") found in the
database, plain codes looked up in the order the expectation gives, and unknown codes as picker-readable 422s."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_bin
from tests.integration.scanning.conftest import DIGIT_TRACKING, EAN, TRACKING, Site
from wms.scanning.errors import UnknownCode
from wms.scanning.service import resolve_scan


def unknown(raw: str, location_id: int | None, expect: str | None = None) -> UnknownCode:
    with pytest.raises(UnknownCode) as info:
        resolve_scan(raw, location_id, expect)
    error = info.value
    assert (error.code, error.status) == ("unknown_code", 422)
    assert error.details["scanned"] == raw.strip() and error.details["expected"] == expect
    return error


# --- products ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [EAN, "0" + EAN, f"]E0{EAN}", f"https://id.gs1.org/01/0{EAN}"])
def test_a_product_by_any_form_of_its_gtin(site: Site, raw: str) -> None:
    found = resolve_scan(raw, site.wh1)
    assert (found.kind, found.matched, found.sku, found.name) == ("product", "gtin", "MILK", "Mleko 1L")
    assert found.product_id is not None and found.value == "0" + EAN


def test_a_gs1_128_product_keeps_its_lot_and_expiry(site: Site) -> None:
    found = resolve_scan(f"]C1010{EAN}10LOT-7\x1d17261231", site.wh1, "product")
    assert (found.sku, found.lot, found.expiry) == ("MILK", "LOT-7", date(2026, 12, 31))
    assert found.to_dict()["lot"] == "LOT-7" and found.to_dict()["sku"] == "MILK"


def test_a_gtin_not_in_the_catalogue(site: Site) -> None:
    error = unknown("96385074", site.wh1, "product")
    assert error.message.startswith("GTIN 96385074 is not in the catalogue")
    assert error.details["reason"] == "not_found"


# --- bins ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["$B:WH1:A-01", "A-01", "a-01", " A-01\r\n", "]C0$B:WH1:A-01"])
def test_a_bin_by_its_label_or_its_plain_code(site: Site, raw: str) -> None:
    found = resolve_scan(raw, site.wh1, "bin")
    assert (found.kind, found.bin, found.location, found.bin_kind) == ("bin", "A-01", "WH1", "pick")
    assert found.location_id == site.wh1 and found.bin_id is not None and found.matched == "code"


def test_a_plain_bin_code_is_a_bin_of_this_location(site: Site) -> None:
    # WH1 and WH2 both have an A-01; ST1 has none
    assert resolve_scan("A-01", site.wh1).location == "WH1"
    assert "No bin A-01 here" in unknown("A-01", site.st1, "bin").message
    assert resolve_scan("PU-01", site.st1, "shelf").bin_kind == "pickup"


def test_a_bin_label_of_another_location(site: Site) -> None:
    error = unknown("$B:WH2:A-01", site.wh1, "bin")
    assert error.message.startswith("Bin A-01 is at WH2, not WH1")
    assert error.details["reason"] == "other_location"
    assert unknown("$B:WH1:Z-99", site.wh1).message.startswith("No bin Z-99 at WH1")
    assert unknown("$B:NOPE:A-01", site.wh1).details["reason"] == "not_found"


def test_without_a_location_only_full_bin_labels_name_a_bin(site: Site) -> None:
    assert resolve_scan("$B:WH2:A-01", None).location == "WH2"
    unknown("A-01", None)


def test_bins_whose_codes_differ_only_in_case(site: Site) -> None:
    make_bin("WH1", "ab-1")
    make_bin("WH1", "AB-1")
    assert resolve_scan("ab-1", site.wh1).bin == "ab-1"  # exactly as written wins
    assert resolve_scan("AB-1", site.wh1).bin == "AB-1"
    unknown("Ab-1", site.wh1)  # two bins it could be: neither is guessed


# --- orders, pickup codes, parcels ----------------------------------------------------------------------------


def test_an_order_by_its_label_its_id_or_its_reference(site: Site) -> None:
    for raw in (f"$O:{site.shipped}", str(site.shipped), "WEB-1", "$O:WEB-1"):
        found = resolve_scan(raw, site.wh1, "order")
        assert (found.kind, found.order_id, found.order_reference) == ("order", site.shipped, "WEB-1"), raw
        assert found.order_status == "reserved"
    assert resolve_scan(str(site.shipped), site.wh1, "order").matched == "id"
    assert resolve_scan("WEB-1", site.wh1, "order").matched == "reference"


def test_unknown_orders(site: Site) -> None:
    assert unknown("$O:999", site.wh1, "order").message.startswith("No order 999")
    assert unknown("$O:99999999999999999999", site.wh1).details["reason"] == "not_found"  # past 32 bits
    assert unknown("999", site.wh1, "order").message.startswith("No order 999: scan the order's label")


def test_a_pickup_code_names_its_order(site: Site) -> None:
    for raw in (site.pickup_code, site.pickup_code.lower(), f"$P:{site.pickup_code}"):
        found = resolve_scan(raw, site.st1)
        assert (found.kind, found.pickup_code, found.order_id) == ("pickup", site.pickup_code, site.pickup), raw
        assert found.order_reference == "WEB-2"
    # where an order is expected it stays a pickup code: the caller takes its order
    assert resolve_scan(site.pickup_code, site.st1, "order").kind == "pickup"
    assert unknown("$P:AAAAAAAA", site.st1).message.startswith("No order has pickup code AAAAAAAA")


@pytest.mark.parametrize("tracking", [TRACKING, DIGIT_TRACKING])
def test_a_parcels_tracking_number_names_its_order(site: Site, tracking: str) -> None:
    found = resolve_scan(tracking, site.wh1)
    assert (found.kind, found.matched, found.order_id, found.tracking) == ("order", "tracking", site.shipped, tracking)


def test_an_sscc_is_a_parcel(site: Site) -> None:
    sscc = "376130321109103420"
    found = resolve_scan("00" + sscc, site.wh1)
    assert (found.kind, found.value, found.order_id) == ("sscc", sscc, None)
    from tests.integration.scanning.conftest import add_shipment

    add_shipment(site.shipped, sscc)  # a carrier that takes the SSCC as its tracking number
    assert resolve_scan("00" + sscc, site.wh1).order_id == site.shipped


# --- the expectation orders the lookups -------------------------------------------------------------------------


def test_a_plain_code_that_is_a_bin_and_an_order_id(site: Site) -> None:
    make_bin("WH1", str(site.shipped))
    assert resolve_scan(str(site.shipped), site.wh1).kind == "bin"  # a station: a bin of its location first
    assert resolve_scan(str(site.shipped), site.wh1, "bin").kind == "bin"
    assert resolve_scan(str(site.shipped), site.wh1, "order").kind == "order"


def test_a_tote_is_any_code_known_as_nothing_else(site: Site) -> None:
    for raw, value in (("T-0001", "T-0001"), ("$T:T-0001", "T-0001"), ("12345670", "12345670")):
        found = resolve_scan(raw, site.wh1, "tote")
        assert (found.kind, found.value) == ("tote", value), raw
    assert resolve_scan("A-01", site.wh1, "tote").kind == "bin"  # known as something else: the task says wrong
    assert resolve_scan(EAN, site.wh1, "tote").kind == "product"
    unknown("T-0001", site.wh1)  # at a station (no expectation) a plain code naming nothing is unknown
    unknown("T-0001", site.wh1, "bin")


def test_a_bare_number_is_tried_as_a_bin_where_a_bin_is_expected(site: Site) -> None:
    make_bin("WH1", "12345670")  # also a valid EAN-8
    assert resolve_scan("12345670", site.wh1, "bin").kind == "bin"
    assert unknown("12345670", site.wh1, "product").message.startswith("GTIN 12345670 is not in the catalogue")


# --- what names nothing ------------------------------------------------------------------------------------------


def test_digits_with_a_wrong_check_digit_that_name_nothing(site: Site) -> None:
    error = unknown("5901234123458", site.wh1, "product")
    assert error.message == "Check digit wrong: scan again or type the number."
    assert error.details["reason"] == "bad_check_digit"


def test_codes_that_do_not_parse(site: Site) -> None:
    error = unknown("hello world", site.wh1)
    assert error.message.startswith("Barcode not recognised") and error.details["reason"] == "unknown_format"
    assert unknown("$O:", site.wh1).details["reason"] == "bad_wms_code"
    assert unknown("", site.wh1).details["reason"] == "empty"


def test_a_plain_code_naming_nothing_says_what_was_looked_for(site: Site) -> None:
    assert unknown("X-99", site.wh1).message == (
        "X-99 is not a bin, order or parcel known here: scan a label or check the code."
    )
    assert "bin, pickup, order, tracking" in unknown("X-99", site.wh1).details["detail"]


def test_wms_codes_with_nothing_to_look_up_yet(site: Site) -> None:
    assert [resolve_scan(raw, site.wh1).kind for raw in ("$R:RMA-1", "$W:W-7", "$L:WH1")] == [
        "return",
        "wave",
        "location",
    ]
    assert resolve_scan("$L:WH1", site.wh1).location_id == site.wh1
    unknown("$L:NOPE", site.wh1)


def test_an_unknown_expectation_is_a_programming_error(site: Site) -> None:
    with pytest.raises(ValueError):
        resolve_scan("A-01", site.wh1, "pallet")


def test_it_only_reads(site: Site) -> None:
    from wms.extensions import db

    resolve_scan("A-01", site.wh1)
    assert not db.session.new and not db.session.dirty


CODE_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=140),
    st.from_regex(r"\A(\$[BLTOPRWX]:|\]C0|\]E0|\]C1)[\x20-\x7e]{0,40}\Z"),
    st.from_regex(r"\A[0-9]{1,24}\Z"),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=CODE_TEXT, expect=st.sampled_from([None, "bin", "shelf", "product", "tote", "order"]))
def test_any_code_resolves_or_is_an_unknown_code(site: Site, raw: str, expect: str | None) -> None:
    try:
        found = resolve_scan(raw, site.wh1, expect)
    except UnknownCode as exc:
        assert exc.message and exc.details["reason"]
    else:
        assert found.kind in {"product", "bin", "location", "order", "pickup", "sscc", "tote", "return", "wave", "gs1"}
        assert found.to_dict()["kind"] == found.kind
