"""Pure rules of scan resolution (no database): what a plain code is looked up as, in which order, and the
messages a picker reads when a scan names nothing.

A scan that says what it is (a WMS code such as ``$B:WH1:A-01``, a GTIN, a GS1 element string) is looked up as
that. A plain code (``A-01``, ``123``, ``WEB-100231``, a tracking number) could be several things; what the
person is asked to scan decides which comes first (``expect``, the task's ``next.expect``), and at a station
(no expectation) a bin of the station's location comes first. A bare number or pickup-looking code (``12345670``
is an EAN-8 *and* perhaps an order id) is tried as a plain code first when a bin, shelf, tote or order is expected.
"""

from __future__ import annotations

import enum

from devices.scan import MESSAGES, ScanKind, ScanResult

#: what a task may ask for next (API ``next.expect``); None: nothing in particular (a station)
EXPECTS = frozenset({"bin", "shelf", "product", "tote", "order", "qty", "nothing"})
#: order ids are 32-bit integers in the database: a larger number names no order
MAX_ORDER_ID = 2**31 - 1


class Lookup(enum.StrEnum):
    """What a plain code may be looked up as."""

    BIN = "bin"  # a bin of the location, by its code
    PICKUP = "pickup"  # an order's pickup code
    ORDER = "order"  # an order by its id (digits) or its channel's reference
    TRACKING = "tracking"  # a shipment's tracking number: its order


_DEFAULT_ORDER = (Lookup.BIN, Lookup.PICKUP, Lookup.ORDER, Lookup.TRACKING)
_ORDER_FIRST = (Lookup.ORDER, Lookup.PICKUP, Lookup.TRACKING, Lookup.BIN)


def check_expect(expect: str | None) -> None:
    """Raise ValueError for an expectation no task has (a programming error, not a scan error)."""
    if expect is not None and expect not in EXPECTS:
        raise ValueError(f"unknown expectation {expect!r}; one of {sorted(EXPECTS)}")


def plain_lookups(expect: str | None) -> tuple[Lookup, ...]:
    """The order in which a plain code is looked up: the expected kind first."""
    return _ORDER_FIRST if expect == "order" else _DEFAULT_ORDER


def plain_is_tote(expect: str | None) -> bool:
    """A plain code that names nothing else is a tote where a tote is expected (API: "a tote is any code the task
    does not know as something else")."""
    return expect == "tote"


def try_as_plain_first(scan: ScanResult, expect: str | None) -> bool:
    """Whether a scan that parsed as something (a bare GTIN or SSCC, a bare pickup code) should first be looked up
    as a plain code: only where a bin, shelf, tote or order is expected, and only when nothing in the code said
    what it is (:meth:`devices.scan.ScanResult.as_plain`). A pickup code names its order, so where an order is
    expected it stays a pickup code."""
    if scan.kind is ScanKind.PLAIN or scan.as_plain() is None:
        return False
    if expect == "order":
        return scan.kind is not ScanKind.PICKUP
    return expect in ("bin", "shelf", "tote")


def order_id_of(text: str) -> int | None:
    """The order id ``text`` spells (ASCII digits, 1 to :data:`MAX_ORDER_ID`), else None."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ORDER_ID else None


# --- messages a picker reads ---------------------------------------------------------------------------------


def plain_not_found(code: str, expect: str | None, hint: str | None = None) -> str:
    """A plain code that names nothing here."""
    if hint == "bad_check_digit":
        return MESSAGES["bad_check_digit"]
    if expect in ("bin", "shelf"):
        return f"No bin {code} here: scan the bin's label or check the code."
    if expect == "order":
        return f"No order {code}: scan the order's label or type its number."
    return f"{code} is not a bin, order or parcel known here: scan a label or check the code."


def product_not_found(gtin: str) -> str:
    return f"GTIN {gtin} is not in the catalogue: scan another barcode on the pack or ask a manager."


def bin_not_found(bin_code: str, location: str) -> str:
    return f"No bin {bin_code} at {location}: check the label or ask a manager."


def bin_elsewhere(bin_code: str, its_location: str, here: str | None) -> str:
    where = f", not {here}" if here else ""
    return f"Bin {bin_code} is at {its_location}{where}: scan a bin of this location."


def location_not_found(location: str) -> str:
    return f"No location {location}: check the label."


def order_not_found(value: str) -> str:
    return f"No order {value}: scan the order's label or type its number."


def pickup_not_found(code: str) -> str:
    return f"No order has pickup code {code}: check the code with the customer."
