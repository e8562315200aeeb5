"""Pure rules about locations and bins."""

from __future__ import annotations

import re

_AISLE = re.compile(r"^([A-Za-z]+|[^-_./ ]+)")


def aisle_of(bin_code: str) -> str:
    """The aisle (or area) a bin belongs to, read from its code: the part before the first separator.

    ``A-01`` and ``A-01-02-03`` are in aisle ``A``, ``SF-03`` in ``SF``, ``DOCK-1`` in ``DOCK``, ``A12`` in ``A``,
    ``RCV`` in ``RCV``."""
    code = (bin_code or "").strip()
    match = _AISLE.match(code)
    return match.group(1).upper() if match else code
