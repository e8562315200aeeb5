"""Reading label data: required keys, addresses, lines; every error is a ``ValueError`` naming the key.

Label data comes from customers and channels, so values are cleaned here once (control characters and runs of
whitespace become one space) and both renderers work from the cleaned values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
MAX_COPIES = 999


def clean(value: str) -> str:
    """``value`` on one line: control characters and whitespace runs become a single space."""
    return _SPACE.sub(" ", value).strip()


def _scalar(value: Any, path: str) -> str:
    if value is None:
        raise ValueError(f"label data: {path!r} is missing")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
        raise ValueError(f"label data: {path!r} must be text or a number, not {type(value).__name__}")
    text = clean(str(value))
    if not text:
        raise ValueError(f"label data: {path!r} is empty")
    return text


def mapping(data: Any, path: str = "data") -> Mapping[str, Any]:
    """``data`` if it is a mapping."""
    if not isinstance(data, Mapping):
        raise ValueError(f"label data: {path!r} must be a mapping, not {type(data).__name__}")
    return data


def text(data: Mapping[str, Any], key: str, prefix: str = "") -> str:
    """Required field ``key`` as cleaned text (``None`` or blank counts as missing)."""
    path = prefix + key
    if key not in data:
        raise ValueError(f"label data: {path!r} is missing")
    return _scalar(data[key], path)


def optional_text(data: Mapping[str, Any], key: str) -> str:
    """Optional field ``key`` as cleaned text, "" when absent or None."""
    value = data.get(key)
    return "" if value is None else clean(str(value))


def digits(data: Mapping[str, Any], key: str) -> str:
    """Required all-digit code (GTIN, SSCC); spaces people put in for readability are dropped."""
    return text(data, key).replace(" ", "")


def person(data: Mapping[str, Any], key: str) -> str:
    """A customer: a name, or a mapping with a ``name`` (e.g. a whole customer record)."""
    if key not in data:
        raise ValueError(f"label data: {key!r} is missing")
    value = data[key]
    if isinstance(value, Mapping):
        return text(value, "name", prefix=f"{key}.")
    return _scalar(value, key)


@dataclass(frozen=True)
class Address:
    """A postal address, every part cleaned; ``line2`` may be ""."""

    name: str
    line1: str
    line2: str
    city: str
    postcode: str
    country: str

    def lines(self) -> list[str]:
        """The address as printed: name, street lines, postcode + city, country."""
        out = [self.name, self.line1]
        if self.line2:
            out.append(self.line2)
        out.append(f"{self.postcode} {self.city}")
        out.append(self.country)
        return out


def address(data: Mapping[str, Any], key: str) -> Address:
    """Required address ``key`` ({"name", "line1", "line2"?, "city", "postcode", "country"})."""
    if key not in data:
        raise ValueError(f"label data: {key!r} is missing")
    value = mapping(data[key], key)
    prefix = f"{key}."
    return Address(
        name=text(value, "name", prefix),
        line1=text(value, "line1", prefix),
        line2=optional_text(value, "line2"),
        city=text(value, "city", prefix),
        postcode=text(value, "postcode", prefix),
        country=text(value, "country", prefix),
    )


@dataclass(frozen=True)
class Line:
    """An order/return/pick line; ``bin`` and ``order`` are "" unless the kind asks for them."""

    sku: str
    name: str
    qty: str
    bin: str = ""
    order: str = ""


def lines(data: Mapping[str, Any], key: str = "lines", extra: Sequence[str] = ()) -> list[Line]:
    """Required list of lines, each with sku, name, qty and the ``extra`` keys (e.g. bin, order)."""
    if key not in data:
        raise ValueError(f"label data: {key!r} is missing")
    value = data[key]
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise ValueError(f"label data: {key!r} must be a list of lines")
    out: list[Line] = []
    for i, raw in enumerate(value):
        prefix = f"{key}[{i}]."
        item = mapping(raw, f"{key}[{i}]")
        fields = {name: text(item, name, prefix) for name in ("sku", "name", "qty", *extra)}
        out.append(Line(**fields))
    return out


def copies(data: Mapping[str, Any]) -> int:
    """Optional ``copies`` (default 1): how many of this label to print."""
    value = data.get("copies", 1)
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("label data: 'copies' must be a whole number")
    try:
        number = int(value)
    except ValueError:
        raise ValueError("label data: 'copies' must be a whole number") from None
    if not 1 <= number <= MAX_COPIES:
        raise ValueError(f"label data: 'copies' must be between 1 and {MAX_COPIES}")
    return number
