"""Barcode encoding: check digits, Code 128 -> ZPL invocation codes, one-path SVG, module fitting, text wrapping."""

from __future__ import annotations

import pytest
from barcode import EAN13, Code128
from hypothesis import given
from hypothesis import strategies as st

from labels import barcodes
from labels.layout import ELLIPSIS, wrap
from tests.unit.labels import zplview
from tests.unit.labels.samples import SSCC, with_check


@pytest.mark.parametrize(
    ("body", "digit"),
    [("590123412345", 7), ("03600029145", 2), ("9638507", 4), ("37612345000012345", 6), ("0000000000000", 0)],
)
def test_gs1_check_digit(body: str, digit: int) -> None:
    assert barcodes.gs1_check_digit(body) == digit


def test_python_barcode_silently_fixes_a_wrong_ean_so_we_must_validate_first() -> None:
    # Why validate_gtin exists: the library prints a *different* number than the one it was given.
    assert EAN13("5901234123458").get_fullcode() == "5901234123457"
    with pytest.raises(ValueError, match="check digit.*7"):
        barcodes.gtin_barcode("5901234123458")


@pytest.mark.parametrize("gtin", ["96385074", "036000291452", "5901234123457", "10614141000415", "09501101530003"])
def test_valid_gtins_of_every_length(gtin: str) -> None:
    assert barcodes.validate_gtin(gtin) == gtin


@pytest.mark.parametrize("gtin", ["96385075", "036000291453", "5901234123450", "10614141000416"])
def test_wrong_gtin_check_digit(gtin: str) -> None:
    with pytest.raises(ValueError, match="wrong check digit"):
        barcodes.gtin_barcode(gtin)


@pytest.mark.parametrize("gtin", ["12345", "590123412345X", "5901234123457123", "５９０１２３４１２３４５７"])
def test_gtin_shape(gtin: str) -> None:
    with pytest.raises(ValueError, match="gtin"):
        barcodes.validate_gtin(gtin)


def test_gtin_symbology_by_length() -> None:
    assert barcodes.gtin_barcode("5901234123457").symbology == "ean-13"
    assert barcodes.gtin_barcode("036000291452").symbology == "upc-a"
    assert barcodes.gtin_barcode("96385074").symbology == "ean-8"
    leading_zero = barcodes.gtin_barcode("09501101530003")
    assert (leading_zero.symbology, leading_zero.text) == ("ean-13", "9501101530003")
    case_code = barcodes.gtin_barcode("10614141000415")
    assert case_code.symbology == "gs1-128"
    assert case_code.zpl_data.startswith(">;>801")  # start C, FNC1, AI 01
    # The printer computes EAN/UPC check digits itself: it gets the data without it.
    assert barcodes.gtin_barcode("5901234123457").zpl_data == "590123412345"
    assert barcodes.gtin_barcode("036000291452").zpl_data == "03600029145"


def test_sscc_validation() -> None:
    assert barcodes.validate_sscc(SSCC) == SSCC
    wrong = SSCC[:-1] + str((int(SSCC[-1]) + 1) % 10)
    with pytest.raises(ValueError, match="wrong check digit"):
        barcodes.sscc_barcode(wrong)
    with pytest.raises(ValueError, match="18"):
        barcodes.sscc_barcode(SSCC[:-1])
    with pytest.raises(ValueError, match="digits"):
        barcodes.sscc_barcode("ABC" + SSCC[3:])


def test_sscc_is_gs1_128_with_ai_00() -> None:
    symbol = barcodes.sscc_barcode(SSCC)
    assert symbol.zpl_data == ">;>800" + SSCC  # start C, FNC1, then digit pairs: the Zebra manual's SSCC example
    assert symbol.text == f"(00) {SSCC}"
    assert zplview.code128_pattern(zplview.code128_values(symbol.zpl_data)) == symbol.pattern


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=30))
def test_zpl_code128_data_draws_the_same_bars_as_the_pdf(value: str) -> None:
    symbol = barcodes.code128(value)
    assert symbol.pattern == Code128(value).build()[0]
    # Read the ZPL field data back the way a printer does (invocation codes, code sets) and compare the bars.
    assert zplview.code128_pattern(zplview.code128_values(symbol.zpl_data)) == symbol.pattern
    assert "^" not in symbol.zpl_data and "~" not in symbol.zpl_data


@pytest.mark.parametrize("value", ["Łódź-1", "A\tB", "", "TAB\x00"])
def test_code128_refuses_what_it_cannot_encode(value: str) -> None:
    with pytest.raises(ValueError, match="code"):
        barcodes.code128(value, "code")


def test_svg_is_one_path_with_quiet_zones() -> None:
    symbol = barcodes.code128("A-01-02")
    svg = barcodes.svg_linear(symbol.pattern, "2in", "1in", symbol.quiet)
    assert svg.count("<path") == 1 and "<rect" not in svg
    assert f'viewBox="-10 0 {symbol.modules + 20} 1"' in svg
    qr = barcodes.svg_qr(barcodes.qr_matrix("PU7X3K9Q"), "1in")
    assert qr.count("<path") == 1


def test_fit_module_takes_the_widest_module_and_refuses_unscannable_ones() -> None:
    symbol = barcodes.code128("A-01-02")  # 112 modules + 20 quiet
    assert barcodes.fit_module(symbol, 764, 4) == 4
    assert barcodes.fit_module(symbol, 400, 4) == 3
    with pytest.raises(ValueError, match="too long"):
        barcodes.fit_module(barcodes.code128("X" * 40), 764, 4)


def test_wrap_keeps_lines_within_width_and_marks_cuts() -> None:
    assert wrap("Zażółć gęślą jaźń", 20, 2) == ("Zażółć gęślą jaźń",)
    assert wrap("one two three four", 9, 2) == ("one two", "three" + ELLIPSIS)
    assert wrap("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10, 2) == ("ABCDEFGHIJ", "KLMNOPQ" + ELLIPSIS)
    long = wrap("word " * 100, 12, 3)
    assert len(long) == 3 and all(len(line) <= 12 for line in long) and long[-1].endswith(ELLIPSIS)


def test_with_check_helper_agrees_with_validation() -> None:
    assert barcodes.validate_gtin(with_check("400638133393")) == "4006381333931"
