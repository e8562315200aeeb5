"""parse_scan: GTINs, GS1 element strings and digital links, WMS codes, and the errors a picker sees."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.scan import (
    PICKUP_ALPHABET,
    ScanError,
    ScanKind,
    encode_bin,
    encode_location,
    encode_order,
    encode_pickup,
    encode_return,
    encode_tote,
    encode_wave,
    parse_scan,
)

GS = "\x1d"


def check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def error_code(value: str, **kwargs) -> str:
    with pytest.raises(ScanError) as info:
        parse_scan(value, **kwargs)
    return info.value.code


# --- GTINs --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "gtin", "gtin14", "source"),
    [
        ("96385074", "96385074", "00000096385074", "EAN-8"),
        ("042100005264", "042100005264", "00042100005264", "UPC-A"),
        ("5901234123457", "5901234123457", "05901234123457", "EAN-13"),
        ("15901234123454", "15901234123454", "15901234123454", "GTIN-14"),
        ("425261", "042100005264", "00042100005264", "UPC-E"),  # UPC-E expanded to its UPC-A
        ("04252614", "042100005264", "00042100005264", "UPC-E"),
        ("]E05901234123457", "5901234123457", "05901234123457", "EAN-13"),
        (" 5901234123457\r\n", "5901234123457", "05901234123457", "EAN-13"),
    ],
)
def test_gtins_of_every_length(code: str, gtin: str, gtin14: str, source: str) -> None:
    result = parse_scan(code)
    assert result.kind is ScanKind.PRODUCT
    assert (result.gtin, result.gtin14, result.value, result.source) == (gtin, gtin14, gtin14, source)
    assert result.lot is None and result.ais == {}


def test_bare_ean13_is_a_gtin_not_ai_400() -> None:
    # biip also reads "590..." as a GS1 message with AI (400); the GTIN must win.
    result = parse_scan("5901234123457")
    assert result.kind is ScanKind.PRODUCT and "400" not in result.ais


@pytest.mark.parametrize("code", ["0105901234123458", "]E05901234123458", "]C10105901234123458"])
def test_wrong_check_digit(code: str) -> None:
    # A GS1 element string, or a symbol the scanner says is an EAN: nothing else can it be.
    with pytest.raises(ScanError) as info:
        parse_scan(code)
    assert info.value.code == "bad_check_digit"
    assert info.value.message == "Check digit wrong: scan again or type the number."
    assert "check digit" in info.value.detail.lower()


@pytest.mark.parametrize(
    "code", ["96385075", "04252615", "042100005265", "5901234123458", "15901234123455", "620123456789012345"]
)
def test_bare_digits_with_a_wrong_check_digit_are_a_plain_code_with_a_hint(code: str) -> None:
    # A tracking or order number may be such digits (a shipping label's tracking barcode must scan back); a scanner
    # never sends an EAN with a wrong check digit, so the hint lets the resolver blame a typo when nothing matches.
    result = parse_scan(code)
    assert (result.kind, result.value, result.hint, result.source) == (ScanKind.PLAIN, code, "bad_check_digit", "plain")
    assert result.gtin is None and result.as_plain() == code


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_ean13_with_its_check_digit_parses(body: str) -> None:
    code = body + check_digit(body)
    result = parse_scan(code)
    assert result.gtin14 == code.zfill(14)
    wrong = body + str((int(check_digit(body)) + 1) % 10)
    assert parse_scan(wrong).hint == "bad_check_digit"
    assert error_code("]E0" + wrong) == "bad_check_digit"


# --- GS1 element strings ----------------------------------------------------------------------------------


def test_gs1_128_with_aim_prefix_and_gs_separator() -> None:
    result = parse_scan(f"]C10105901234123457{GS}10LOT42{GS}17250131{GS}21SN-7")
    assert result.kind is ScanKind.PRODUCT and result.source == "GS1-128"
    assert result.gtin == "5901234123457" and result.gtin14 == "05901234123457"
    assert (result.lot, result.expiry, result.serial) == ("LOT42", date(2025, 1, 31), "SN-7")


def test_fixed_length_fields_need_no_separator() -> None:
    result = parse_scan("]C1010590123412345717260630" + "10ABC")
    assert result.expiry == date(2026, 6, 30) and result.lot == "ABC"


@pytest.mark.parametrize("separator", ["|", "~"])
def test_printable_separator_substitute(separator: str) -> None:
    result = parse_scan(f"0105901234123457 10ABC{separator}17250131".replace(" ", ""))
    assert result.lot == "ABC" and result.expiry == date(2025, 1, 31)


def test_custom_separator_list() -> None:
    code = "010590123412345710ABC#17250131"
    assert parse_scan(code, separators=["\x1d", "#"]).lot == "ABC"
    assert error_code(code) == "bad_gs1"  # by default '#' is no separator, and not allowed in a lot either


def test_lot_without_separator_swallows_what_follows() -> None:
    # Documented trap: without GS (or a substitute) the lot runs to the end; expiry is lost, nothing is guessed.
    result = parse_scan("010590123412345710ABC1717250131")
    assert result.lot == "ABC1717250131"
    assert result.expiry is None


def test_expiry_day_zero_means_end_of_month() -> None:
    assert parse_scan("]C1010590123412345717250200").expiry == date(2025, 2, 28)


def test_best_before() -> None:
    assert parse_scan("]C1010590123412345715251231").best_before == date(2025, 12, 31)


def test_impossible_expiry_date_is_bad_gs1() -> None:
    assert error_code("]C1010590123412345717250231") == "bad_gs1"


def test_quantity_30_and_37() -> None:
    assert parse_scan(f"]C1010590123412345730{'12'}").quantity == 12
    assert parse_scan("]C1020590123412345737000024").quantity == 24


def test_sscc_bare_and_with_contents() -> None:
    bare = parse_scan("376130321109103420")
    assert (bare.kind, bare.value, bare.sscc) == (ScanKind.SSCC, "376130321109103420", "376130321109103420")
    ai00 = parse_scan("00376130321109103420")
    assert ai00.kind is ScanKind.SSCC and ai00.sscc == "376130321109103420"
    pallet = parse_scan("]C1003761303211091034200205901234123457" + "3712")
    assert pallet.kind is ScanKind.SSCC
    assert (pallet.gtin14, pallet.quantity) == ("05901234123457", 12)
    assert parse_scan("376130321109103421").hint == "bad_check_digit"  # perhaps a carrier's tracking number
    assert error_code("00376130321109103421") == "bad_check_digit"  # (00): an SSCC, nothing else


def test_gs1_datamatrix_and_qr() -> None:
    matrix = parse_scan("]d2010590123412345721SER")
    assert matrix.source == "GS1 DataMatrix" and matrix.serial == "SER"
    qr = parse_scan("]Q3010590123412345710X")
    assert qr.source == "GS1 QR" and qr.lot == "X"


def test_gs1_without_item_keeps_its_fields() -> None:
    result = parse_scan("]C11012345|17250131")
    assert result.kind is ScanKind.GS1 and result.lot == "12345" and result.value == "(10)12345(17)250131"


def test_leading_gs_for_fnc1() -> None:
    assert parse_scan(f"{GS}0105901234123457{GS}").gtin14 == "05901234123457"


def test_bad_check_digit_inside_gs1() -> None:
    assert error_code("]C10105901234123458") == "bad_check_digit"


@pytest.mark.parametrize("code", ["]C1017ABC", "]C10105901234123457x"])
def test_malformed_gs1(code: str) -> None:
    assert error_code(code) == "bad_gs1"


def test_random_digits_are_not_gs1() -> None:
    # "96..." / "12..." would be valid AIs; without an AIM prefix a GS1 string must carry (00), (01) or (02).
    # Such digits are a plain code: an order id, a tracking number.
    for code in ("12345", "9612345678"):
        result = parse_scan(code)
        assert (result.kind, result.value, result.ais, result.hint) == (ScanKind.PLAIN, code, {}, None)


# --- digital link -------------------------------------------------------------------------------------------


def test_digital_link() -> None:
    result = parse_scan("https://id.gs1.org/01/05901234123457/10/ABC?17=250131")
    assert result.kind is ScanKind.PRODUCT and result.source == "GS1 digital link"
    assert (result.gtin14, result.lot, result.expiry) == ("05901234123457", "ABC", date(2025, 1, 31))


def test_digital_link_bad_check_digit_and_foreign_url() -> None:
    assert error_code("https://id.gs1.org/01/05901234123458") == "bad_check_digit"
    assert error_code("https://example.com/product/12") == "unknown_format"


# --- WMS codes ----------------------------------------------------------------------------------------------


def test_wms_codes() -> None:
    bin_ = parse_scan("$B:WH1:A-01-02")
    assert (bin_.kind, bin_.location, bin_.bin, bin_.value) == (ScanKind.BIN, "WH1", "A-01-02", "WH1:A-01-02")
    assert parse_scan("$L:ST-KRK").location == "ST-KRK"
    assert parse_scan("$T:TOTE-0042").kind is ScanKind.TOTE
    order = parse_scan("$O:0123")
    assert (order.kind, order.order_id, order.value) == (ScanKind.ORDER, 123, "123")
    reference = parse_scan("$O:WEB-100231")
    assert (reference.kind, reference.order_id, reference.value) == (ScanKind.ORDER, None, "WEB-100231")
    pickup = parse_scan("$p:ac3kxt7q")
    assert (pickup.kind, pickup.value) == (ScanKind.PICKUP, "AC3KXT7Q")
    assert parse_scan("$R:RMA-000017").value == "RMA-000017"
    assert parse_scan("$W:42").kind is ScanKind.WAVE


def test_bin_may_contain_colons_location_may_not() -> None:
    assert parse_scan("$B:WH1:A:1").bin == "A:1"
    assert error_code("$L:WH:1") == "bad_wms_code"


@pytest.mark.parametrize(
    "code", ["$X:1", "$B:WH1", "$B::A1", "$O:", "$O: 1", "$P:ABCB", "$T:", "$T: x", "$Bad", "$", "]C0$T:"]
)
def test_malformed_wms_codes(code: str) -> None:
    with pytest.raises(ScanError) as info:
        parse_scan(code)
    assert info.value.code == "bad_wms_code"
    assert "reprint" in info.value.message


def test_bare_pickup_code() -> None:
    result = parse_scan("ac3kxt7q")
    assert (result.kind, result.value, result.source) == (ScanKind.PICKUP, "AC3KXT7Q", "pickup code")
    # only the 8-character form the WMS issues, and never all digits (that would be a GTIN-8); other codes are
    # plain codes a resolver may still find as a pickup code
    assert parse_scan("AC3KXT7").kind is ScanKind.PLAIN
    assert parse_scan("HELLOABC").kind is ScanKind.PLAIN  # O and B are not in the alphabet
    assert parse_scan("96385074").kind is ScanKind.PRODUCT


def test_encoders_round_trip() -> None:
    assert parse_scan(encode_bin("WH1", "A-01-02")).bin == "A-01-02"
    assert parse_scan(encode_location("WH1")).location == "WH1"
    assert parse_scan(encode_tote("TOTE-1")).value == "TOTE-1"
    assert parse_scan(encode_order(7)).order_id == 7
    assert parse_scan(encode_order("WEB-7")).value == "WEB-7"
    assert parse_scan(encode_pickup("ac3kxt7q")).value == "AC3KXT7Q"
    assert parse_scan(encode_return("RMA-1")).value == "RMA-1"
    assert parse_scan(encode_wave(3)).value == "3"


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode_bin("WH:1", "A"),
        lambda: encode_bin("WH1", ""),
        lambda: encode_tote(" T1"),
        lambda: encode_tote("T\x1d1"),
        lambda: encode_order(" 12a"),
        lambda: encode_pickup("OOOO0000"),
        lambda: encode_return("x" * 65),
    ],
)
def test_encoders_refuse_what_a_label_cannot_carry(call) -> None:
    with pytest.raises(ValueError):
        call()


CODE_CHARS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)


@given(CODE_CHARS.filter(lambda s: ":" not in s), CODE_CHARS)
def test_bin_codes_round_trip(location: str, bin_code: str) -> None:
    result = parse_scan(encode_bin(location, bin_code))
    assert (result.location, result.bin) == (location, bin_code)


def test_the_longest_location_and_bin_codes_round_trip() -> None:
    result = parse_scan(encode_bin("L" * 64, "B" * 64))
    assert (result.location, result.bin) == ("L" * 64, "B" * 64)


@pytest.mark.parametrize("aim", ["]C0", "]Q1", "]A0"])
def test_aim_prefix_before_a_wms_code_or_a_plain_code(aim: str) -> None:
    assert parse_scan(aim + "$B:WH1:A-01").bin == "A-01"
    plain = parse_scan(aim + "A-01")
    assert (plain.kind, plain.value, plain.as_plain()) == (ScanKind.PLAIN, "A-01", "A-01")


# --- plain codes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "A-01",
        "A-01-02",
        "T-0001",
        "TOTE-0042",
        "12",
        "123",
        "WEB-100231",
        "#1001",
        "1Z999AA10123456784",
        "01-02",
        "00-A",
        "a" * 128,
        "PU-02",
        "RMA/2024/17",
    ],
)
def test_plain_codes(code: str) -> None:
    result = parse_scan(f" {code}\r\n")
    assert (result.kind, result.value, result.source, result.hint) == (ScanKind.PLAIN, code, "plain", None)
    assert result.to_dict() == {"kind": "plain", "raw": f" {code}\r\n", "value": code, "source": "plain"}


@pytest.mark.parametrize(
    "code", ["!!!", "a" * 129, "A 01", "ÄÖÜ", "A-01\x1dB", "https://example.com/A-01", "-", "$", "café"]
)
def test_what_is_not_a_plain_code(code: str) -> None:
    with pytest.raises(ScanError):
        parse_scan(code)


def test_a_code_that_starts_like_gs1_is_not_plain() -> None:
    # (01) + 14 digits, (00) + 18 digits: a GS1 element string that is broken, not a bin or order code
    assert error_code("0105901234123457x") == "bad_gs1"
    assert error_code("]C1A-01") == "bad_gs1"


def test_as_plain_is_none_for_codes_that_say_what_they_are() -> None:
    assert parse_scan("$B:WH1:A-01").as_plain() is None
    assert parse_scan("]C10105901234123457").as_plain() is None
    assert parse_scan("]E05901234123457").as_plain() is None
    assert parse_scan("12345670").as_plain() == "12345670"  # an EAN-8, or perhaps an order id
    assert parse_scan("ac3kxt7q").as_plain() == "ac3kxt7q"


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", " ", "\r\n", "\t", GS])
def test_empty_input(value: str) -> None:
    with pytest.raises(ScanError) as info:
        parse_scan(value)
    assert info.value.code == "empty"
    assert info.value.message == "Nothing was scanned: scan again."


@pytest.mark.parametrize("value", ["!!!", "ÄÖÜ", "]C0!!!", "hello world", "https://example.com/product/12"])
def test_garbage_is_unknown(value: str) -> None:
    with pytest.raises(ScanError) as info:
        parse_scan(value)
    assert info.value.code == "unknown_format"
    assert "not recognised" in info.value.message
    assert info.value.to_dict()["raw"] == value


def test_not_a_string() -> None:
    with pytest.raises(TypeError):
        parse_scan(5901234123457)  # type: ignore[arg-type]


@given(st.text(max_size=60))
def test_never_raises_anything_but_scan_error(value: str) -> None:
    try:
        result = parse_scan(value)
    except ScanError as exc:
        assert exc.code in {"empty", "unknown_format", "bad_check_digit", "bad_gs1", "bad_wms_code"}
    else:
        assert result.raw == value and result.value


def test_to_dict_is_json_ready() -> None:
    data = parse_scan("]C1010590123412345710ABC|17250131").to_dict()
    assert data["kind"] == "product" and data["expiry"] == "2025-01-31" and data["lot"] == "ABC"
    assert "sscc" not in data


def test_pickup_alphabet_matches_the_wms() -> None:
    from wms.orders.service import PICKUP_CODE_ALPHABET  # the test may import wms; the library may not

    assert PICKUP_ALPHABET == PICKUP_CODE_ALPHABET
