"""Pure rules for product data: GTIN check digits."""

from __future__ import annotations

GTIN_LENGTHS = {8: "GTIN-8", 12: "UPC-A (GTIN-12)", 13: "EAN-13 (GTIN-13)", 14: "GTIN-14"}


def gtin_check_digit(body: str) -> int:
    """Check digit for the GTIN digits ``body`` (everything but the check digit)."""
    total = 0
    for position, digit in enumerate(reversed(body)):
        total += int(digit) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def validate_gtin(code: str) -> str:
    """Return ``code`` as a 14-digit GTIN, or raise ``ValueError`` with a message a person understands."""
    if not isinstance(code, str) or not code.isdigit() or not code.isascii():
        raise ValueError(f"{code!r} is not a barcode: a GTIN has only digits")
    if len(code) not in GTIN_LENGTHS:
        raise ValueError(f"{code} has {len(code)} digits: a GTIN has 8, 12, 13 or 14")
    expected = gtin_check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise ValueError(
            f"{code} has a wrong check digit for an {GTIN_LENGTHS[len(code)]}: the last digit should be {expected}"
        )
    return code.zfill(14)


def with_check_digit(body: str) -> str:
    """``body`` followed by its check digit (for making demo and test barcodes)."""
    return body + str(gtin_check_digit(body))
