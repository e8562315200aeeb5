import pytest

from wms.catalog.rules import gtin_check_digit, validate_gtin, with_check_digit


@pytest.mark.parametrize(
    "code",
    ["5901234123457", "96385074", "036000291452", "10614141000415", "4006381333931"],
)
def test_valid_gtins_normalise_to_14_digits(code):
    assert validate_gtin(code) == code.zfill(14)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("5901234123458", "check digit"),
        ("590123412345", "check digit"),  # 12 digits read as UPC-A: wrong check digit
        ("59012341234", "11 digits"),
        ("590123412345X", "only digits"),
        ("", "only digits"),
        ("５９０１２３４１２３４５７", "only digits"),  # full-width digits are not barcode digits
    ],
)
def test_invalid_gtins_say_why(code, fragment):
    with pytest.raises(ValueError, match=fragment):
        validate_gtin(code)


def test_check_digit_round_trip():
    assert gtin_check_digit("590123412345") == 7
    assert with_check_digit("590123412345") == "5901234123457"
    validate_gtin(with_check_digit("0000000000001"))
