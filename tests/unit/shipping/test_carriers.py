import itertools
import re
from importlib import metadata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms.shipping import carriers
from wms.shipping.carriers import (
    Carrier,
    CarrierError,
    CarrierShipment,
    ManualCarrier,
    Parcel,
    TestCarrier,
    TrackingRequired,
    UnknownCarrier,
    carrier,
    carrier_codes,
    gs1_check_digit,
    register_carrier,
    unregister_carrier,
)

TO = {"name": "Jan Kowalski", "line1": "ul. Piotrkowska 1", "city": "Łódź", "postcode": "90-001", "country": "PL"}
FROM = {"name": "WMS Demo WH1", "line1": "ul. Magazynowa 5", "city": "Stryków", "postcode": "95-010", "country": "PL"}
ONE = [Parcel(weight_g=1200)]


@pytest.fixture
def registry():
    """Restore the registry after a test that adds to it."""
    saved = dict(carriers._registry)
    loaded = carriers._entry_points_loaded
    yield
    carriers._registry.clear()
    carriers._registry.update(saved)
    carriers._entry_points_loaded = loaded


def test_both_built_in_carriers_are_registered_and_fit_the_interface():
    assert {"manual", "test"} <= set(carrier_codes())
    assert isinstance(carrier("manual"), Carrier)
    assert isinstance(carrier("test"), Carrier)


def test_manual_takes_the_tracking_as_typed_without_blanks_and_has_no_label():
    shipment = carrier("manual").create_shipment("SO-1", TO, FROM, ONE, tracking="  00340434161234567890\n")
    assert shipment == CarrierShipment(tracking="00340434161234567890", label=None, label_format=None)
    assert carrier("manual").tracking_url("X") is None


@pytest.mark.parametrize("tracking", [None, "", "   "])
def test_manual_without_tracking_names_the_field(tracking):
    with pytest.raises(TrackingRequired) as caught:
        ManualCarrier().create_shipment("SO-1", TO, FROM, ONE, tracking=tracking)
    assert caught.value.field == "tracking"
    assert caught.value.code == "validation_error"
    assert "tracking" in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("tracking", ["AB", "has space 123", "x" * 65, "-LEADING", 12345678])
def test_manual_refuses_a_tracking_no_carrier_would_issue(tracking):
    with pytest.raises(CarrierError) as caught:
        ManualCarrier().create_shipment("SO-1", TO, FROM, ONE, tracking=tracking)
    assert caught.value.field == "tracking"


@pytest.mark.parametrize(
    ("parcels", "field"),
    [
        ([], "parcels"),
        ([Parcel(weight_g=0)], "parcels.0.weight_g"),
        ([Parcel(weight_g=100), Parcel(weight_g=100, length_mm=-1)], "parcels.1.length_mm"),
        ([Parcel(weight_g=True)], "parcels.0.weight_g"),
        ([Parcel(weight_g=100, sscc="003456789012345675")], "parcels.0.sscc"),
        ([Parcel(weight_g=100, sscc="12345")], "parcels.0.sscc"),
    ],
)
@pytest.mark.parametrize("code", ["manual", "test"])
def test_bad_parcels_are_refused_by_field(code, parcels, field):
    with pytest.raises(CarrierError) as caught:
        carrier(code).create_shipment("SO-1", TO, FROM, parcels, tracking="T12345" if code == "manual" else None)
    assert caught.value.field == field


def test_test_carrier_issues_tracking_with_a_check_digit_and_a_zpl_label():
    shipment = TestCarrier(serials=lambda: 12345).create_shipment("SO-7", TO, FROM, ONE)
    assert shipment.tracking == f"TEST00000012345{gs1_check_digit('00000012345')}"
    assert shipment.label_format == "zpl"
    assert shipment.label.startswith(b"^XA") and shipment.label.count(b"^XZ") == 1
    assert b"SO-7" in shipment.label and shipment.tracking.encode() in shipment.label
    assert "Łódź".encode() in shipment.label


def test_test_carrier_prints_a_label_per_parcel_with_the_parcels_sscc():
    sscc = "003456789012345670"  # a valid SSCC (check digit 0)
    shipment = TestCarrier().create_shipment("SO-8", TO, FROM, [Parcel(500, sscc=sscc), Parcel(700)])
    assert shipment.label.count(b"^XZ") == 2
    assert sscc.encode() in shipment.label


def test_test_carrier_numbers_are_unique():
    test = TestCarrier()
    numbers = {test.create_shipment("SO-1", TO, FROM, ONE).tracking for _ in range(200)}
    assert len(numbers) == 200
    assert all(re.fullmatch(r"TEST\d{12}", n) for n in numbers)


def test_test_carrier_issues_its_own_number():
    with pytest.raises(CarrierError) as caught:
        TestCarrier().create_shipment("SO-1", TO, FROM, ONE, tracking="ABC123")
    assert caught.value.field == "tracking"


def test_test_carrier_reports_a_bad_address_by_field():
    with pytest.raises(CarrierError) as caught:
        TestCarrier().create_shipment("SO-1", {"name": "X"}, FROM, ONE)
    assert caught.value.field == "ship_to"


@given(st.integers(0, 10**11 - 1))
def test_test_tracking_check_digit_holds(serial):
    tracking = TestCarrier(serials=lambda: serial).new_tracking()
    digits = tracking[4:]
    assert len(digits) == 12
    assert gs1_check_digit(digits[:-1]) == int(digits[-1])


def test_gs1_check_digit_matches_a_known_sscc():
    assert gs1_check_digit("00345678901234567") == 0
    assert gs1_check_digit("400638133393") == 1  # EAN-13 4006381333931


def test_the_built_in_sscc_is_valid():
    shipment = TestCarrier(serials=itertools.count(98765).__next__).create_shipment("SO-1", TO, FROM, ONE * 3)
    ssccs = re.findall(rb"\((?:00)\) ?(\d[\d ]+)", shipment.label)
    assert shipment.label.count(b"^XZ") == 3
    for raw in ssccs:
        sscc = raw.replace(b" ", b"").decode()
        assert gs1_check_digit(sscc[:-1]) == int(sscc[-1])


def test_unknown_carrier_names_the_field_and_the_known_ones():
    with pytest.raises(UnknownCarrier) as caught:
        carrier("pigeon")
    assert caught.value.field == "carrier"
    assert "manual" in str(caught.value)


class Pigeon:
    code = "pigeon"
    name = "Pigeon post"

    def create_shipment(self, order_ref, ship_to, ship_from, parcels, tracking=None):
        return CarrierShipment(tracking=f"PIGEON-{order_ref}", label=b"%PDF-1.7", label_format="pdf")

    def tracking_url(self, tracking):
        return f"https://pigeon.invalid/t/{tracking}"


def test_a_new_carrier_plugs_in_by_registering(registry):
    register_carrier(Pigeon())
    assert carrier("pigeon").create_shipment("SO-1", TO, FROM, ONE).tracking == "PIGEON-SO-1"
    assert "pigeon" in carrier_codes()
    unregister_carrier("pigeon")
    with pytest.raises(UnknownCarrier):
        carrier("pigeon")


def test_a_taken_code_is_refused_unless_replaced(registry):
    with pytest.raises(ValueError, match="already"):
        register_carrier(TestCarrier())
    replacement = TestCarrier(serials=lambda: 1)
    register_carrier(replacement, replace=True)
    assert carrier("test") is replacement


def test_something_that_is_not_a_carrier_is_refused(registry):
    with pytest.raises(TypeError):
        register_carrier(object())
    bad = Pigeon()
    bad.code = "Has Spaces"
    with pytest.raises(ValueError, match="code"):
        register_carrier(bad)


def test_carriers_come_from_the_entry_point_group(registry, monkeypatch):
    class FakeEntryPoint:
        name = "pigeon"

        def load(self):
            return Pigeon  # a class: called with no arguments

    def entry_points(group):
        assert group == "wms.carriers"
        return [FakeEntryPoint()]

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    carriers._entry_points_loaded = False
    assert carrier("pigeon").tracking_url("X") == "https://pigeon.invalid/t/X"


def test_a_broken_plug_in_is_logged_and_the_others_still_work(registry, monkeypatch, caplog):
    class Broken:
        name = "broken"

        def load(self):
            raise ImportError("no module named pigeon_sdk")

    class Misnamed:
        name = "owl"

        def load(self):
            return Pigeon()  # its code is "pigeon"

    monkeypatch.setattr(metadata, "entry_points", lambda group: [Broken(), Misnamed()])
    carriers._entry_points_loaded = False
    with pytest.raises(UnknownCarrier):
        carrier("broken")
    assert carrier("manual").code == "manual"
    assert "pigeon" not in carrier_codes()
    assert "broken" in caplog.text and "owl" in caplog.text


def test_a_shipment_has_a_label_and_its_format_or_neither():
    with pytest.raises(ValueError):
        CarrierShipment(tracking="X1234", label=b"^XA^XZ")
