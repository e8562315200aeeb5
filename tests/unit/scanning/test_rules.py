"""The pure rules of scan resolution: lookup order by expectation, when a bare code is tried as a plain one,
order ids, and the messages a picker reads."""

from __future__ import annotations

import pytest

from devices.scan import MESSAGES, parse_scan
from wms.scanning import rules
from wms.scanning.rules import Lookup


def test_the_expected_kind_is_looked_up_first() -> None:
    assert rules.plain_lookups("order")[0] is Lookup.ORDER
    for expect in (None, "bin", "shelf", "tote", "product", "qty", "nothing"):
        assert rules.plain_lookups(expect)[0] is Lookup.BIN, expect
    for expect in (None, "order"):
        assert set(rules.plain_lookups(expect)) == set(Lookup)  # every lookup, only the order differs


def test_only_a_tote_expectation_makes_an_unknown_plain_code_a_tote() -> None:
    assert rules.plain_is_tote("tote")
    assert not any(rules.plain_is_tote(e) for e in (None, "bin", "order", "product", "shelf"))


@pytest.mark.parametrize(
    ("raw", "expect", "first"),
    [
        ("12345670", "order", True),  # an EAN-8, or perhaps an order id
        ("12345670", "bin", True),
        ("12345670", "shelf", True),
        ("12345670", "tote", True),
        ("12345670", "product", False),
        ("12345670", None, False),  # a station: what it parses as
        ("5901234123457", "bin", True),
        ("AC3KXT7Q", "tote", True),  # a bare pickup-looking code may be a tote's code
        ("AC3KXT7Q", "order", False),  # a pickup code names its order
        ("]E05901234123457", "bin", False),  # the scanner says it read an EAN
        ("$B:WH1:A-01", "order", False),  # a WMS code says what it is
        ("]C10105901234123457", "bin", False),  # so does a GS1 element string
        ("A-01", "bin", False),  # already a plain code
    ],
)
def test_when_a_parsed_code_is_first_tried_as_a_plain_code(raw: str, expect: str | None, first: bool) -> None:
    assert rules.try_as_plain_first(parse_scan(raw), expect) is first


@pytest.mark.parametrize(
    ("text", "order_id"),
    [
        ("1", 1),
        ("0042", 42),
        (str(2**31 - 1), 2**31 - 1),
        (str(2**31), None),
        ("0", None),
        ("", None),
        ("12a", None),
        ("²", None),
        ("١٢", None),
    ],
)
def test_order_id_of(text: str, order_id: int | None) -> None:
    assert rules.order_id_of(text) == order_id


def test_check_expect() -> None:
    for expect in (None, *rules.EXPECTS):
        rules.check_expect(expect)
    with pytest.raises(ValueError, match="pallet"):
        rules.check_expect("pallet")


def test_messages_say_what_to_do() -> None:
    assert rules.plain_not_found("A-09", "bin") == "No bin A-09 here: scan the bin's label or check the code."
    assert rules.plain_not_found("A-09", "shelf").startswith("No bin A-09 here")
    assert rules.plain_not_found("77", "order") == "No order 77: scan the order's label or type its number."
    assert rules.plain_not_found("X", None).startswith("X is not a bin, order or parcel known here")
    assert rules.plain_not_found("5901234123458", "product", "bad_check_digit") == MESSAGES["bad_check_digit"]
    assert rules.bin_elsewhere("A-01", "WH2", "WH1") == "Bin A-01 is at WH2, not WH1: scan a bin of this location."
    assert rules.bin_elsewhere("A-01", "WH2", None).startswith("Bin A-01 is at WH2:")
    assert "not in the catalogue" in rules.product_not_found("96385074")
    assert rules.pickup_not_found("AAAA").startswith("No order has pickup code AAAA")
