"""Barcode encoding shared by the ZPL and PDF renderers.

python-barcode does the symbol encoding (Code 128 code-set choice, EAN/UPC parity); we validate first because it
silently "fixes" a wrong EAN check digit, and we draw the bars ourselves as ONE SVG ``<path>`` (WeasyPrint is much
faster with one path than with a ``<rect>`` per bar). The same Code 128 symbol values are turned into ZPL
invocation codes, so the printer draws exactly the bars the PDF shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from barcode import EAN8, EAN13, UPCA, Code128, Gs1_128
from barcode.charsets import code128 as c128

# Code 128 symbol values with a meaning of their own (ISO/IEC 15417).
_CODE_C, _CODE_B, _CODE_A, _FNC1 = 99, 100, 101, 102
_START = {103: "A", 104: "B", 105: "C"}
# ZPL II invocation codes: ">" then one character selects symbol values 95..105; in code set B the data characters
# ">", "^" and "~" must also be written as invocation codes (">" would start one, "^"/"~" are ZPL command prefixes).
_ZPL_INVOKE = {value: ">" + ch for value, ch in zip(range(95, 106), "123456789:;", strict=True)}
_ZPL_SET_B_SPECIAL = {30: ">0", 62: "><", 94: ">="}

QR_ERROR = "h"  # H = 30 % recovery: pickup slips get folded and scuffed; the codes are short, so it costs little


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for ``body`` (all digits but the check digit); same rule for GTIN and SSCC."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _digits(value: str, what: str) -> str:
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"{what} {value!r} must contain only digits")
    return value


def validate_gtin(value: str, what: str = "gtin") -> str:
    """Return ``value`` if it is a GTIN-8/12/13/14 with the right check digit, else raise ``ValueError``."""
    _digits(value, what)
    if len(value) not in (8, 12, 13, 14):
        raise ValueError(f"{what} {value} has {len(value)} digits: a GTIN has 8, 12, 13 or 14")
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValueError(f"{what} {value} has a wrong check digit: the last digit should be {expected}")
    return value


def validate_sscc(value: str, what: str = "sscc") -> str:
    """Return ``value`` if it is an 18-digit SSCC with the right check digit, else raise ``ValueError``."""
    _digits(value, what)
    if len(value) != 18:
        raise ValueError(f"{what} {value} has {len(value)} digits: an SSCC has 18")
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValueError(f"{what} {value} has a wrong check digit: the last digit should be {expected}")
    return value


@dataclass(frozen=True)
class Linear:
    """A 1D symbol: its bar pattern ("1" = dark module), the ZPL command and data that draw the same bars,
    the human-readable text printed under it, and the quiet zone it needs on each side (in modules)."""

    symbology: str
    pattern: str
    text: str
    zpl_command: str  # e.g. "^BCN,{h},N,N,N,N"; {h} = bar height in dots
    zpl_data: str  # field data before ^FH escaping
    quiet: int = 10

    @property
    def modules(self) -> int:
        return len(self.pattern)


def _check_code128_text(value: str, what: str) -> None:
    if not value:
        raise ValueError(f"{what} is empty")
    # Code set B covers printable ASCII; control characters would need code set A, which no scanner user types.
    bad = [ch for ch in value if not " " <= ch <= "~"]
    if bad:
        raise ValueError(f"{what} {value!r} cannot be a Code 128 barcode: {bad[0]!r} is not printable ASCII")


def _zpl_from_values(values: list[int]) -> str:
    """ZPL ``^BC`` mode-N field data that makes the printer emit exactly ``values`` (the check symbol is added by
    the printer, as by python-barcode)."""
    out: list[str] = []
    charset = _START[values[0]]
    out.append(_ZPL_INVOKE[values[0]])
    for value in values[1:]:
        if value == _FNC1 or (charset == "C" and value >= 100) or (charset != "C" and value >= 95):
            if value == _CODE_C:
                charset = "C"
            elif value == _CODE_B and charset != "B":
                charset = "B"
            elif value == _CODE_A and charset != "A":
                charset = "A"
            out.append(_ZPL_INVOKE[value])
        elif charset == "C":
            out.append(f"{value:02d}")
        elif charset == "B":
            out.append(_ZPL_SET_B_SPECIAL.get(value) or chr(value + 32))
        else:  # pragma: no cover - _check_code128_text keeps python-barcode out of code set A
            raise ValueError("code set A is not supported")
    return "".join(out)


def _encode(symbol: Code128) -> tuple[str, str]:
    """(bar pattern, ZPL field data) from one encoding pass: python-barcode has no public API for the symbol values
    and its encoder keeps state, so we build once and derive both outputs from the same values."""
    values = symbol._build()  # symbol values without the check symbol
    checked = [*values, symbol._calculate_checksum(values)]
    pattern = "".join(c128.CODES[v] for v in checked) + c128.STOP + "11"  # "11" = the stop's final bar
    return pattern, _zpl_from_values(values)


def code128(value: str, what: str = "code", text: str | None = None) -> Linear:
    """Code 128 of a printable-ASCII ``value``; ``text`` is the line printed under it for people (default: the
    value itself; a WMS code such as ``$T:TOTE-1`` shows its plain ``TOTE-1``)."""
    _check_code128_text(value, what)
    pattern, zpl = _encode(Code128(value))
    return Linear("code128", pattern, value if text is None else text, "^BCN,{h},N,N,N,N", zpl)


def gs1_128(element_string: str, text: str) -> Linear:
    """GS1-128 of fixed-length AIs given as bare digits (e.g. "00" + SSCC); FNC1 follows the start character."""
    pattern, zpl = _encode(Gs1_128(element_string))
    return Linear("gs1-128", pattern, text, "^BCN,{h},N,N,N,N", zpl)


def sscc_barcode(sscc: str) -> Linear:
    """GS1-128 with AI (00) for a validated SSCC."""
    validate_sscc(sscc)
    return gs1_128("00" + sscc, f"(00) {sscc}")


def gtin_barcode(gtin: str) -> Linear:
    """EAN-13, UPC-A or EAN-8 by length, after checking the check digit (python-barcode would silently fix it).

    A GTIN-14 with a leading 0 is an EAN-13 in disguise; any other GTIN-14 is a case code, printed as GS1-128 (01).
    """
    validate_gtin(gtin)
    if len(gtin) == 14 and gtin[0] == "0":
        gtin = gtin[1:]
    if len(gtin) == 14:
        return gs1_128("01" + gtin, f"(01) {gtin}")
    cls, zpl, quiet = {
        13: (EAN13, "^BEN,{h},N,N", 11),
        12: (UPCA, "^BUN,{h},N,N,Y", 9),
        8: (EAN8, "^B8N,{h},N,N", 7),
    }[len(gtin)]
    symbol = cls(gtin[:-1])
    if symbol.get_fullcode() != gtin:  # pragma: no cover - validated above; guards against a library change
        raise ValueError(f"gtin {gtin} was changed by the barcode library to {symbol.get_fullcode()}")
    # The printer computes the check digit itself from the data without it (and would pad/cut other lengths).
    return Linear(cls.name.lower(), symbol.build()[0], gtin, zpl, gtin[:-1], quiet=quiet)


def fit_module(symbol: Linear, avail_dots: int, max_module: int, min_module: int = 2) -> int:
    """The widest module (in printer dots) that fits ``symbol`` with its quiet zones into ``avail_dots``.

    Raises ``ValueError`` when even ``min_module`` does not fit: a smaller module does not scan reliably at 203 dpi.
    """
    total = symbol.modules + 2 * symbol.quiet
    module = min(max_module, avail_dots // total)
    if module < min_module:
        raise ValueError(f"{symbol.text!r} is too long to print as a scannable barcode on this label")
    return module


def svg_linear(pattern: str, width: str, height: str, quiet: int) -> str:
    """Inline SVG drawing ``pattern`` as one path; the viewBox includes the quiet zones so nothing can sit in them."""
    parts: list[str] = []
    x = 0
    n = len(pattern)
    while x < n:
        if pattern[x] == "1":
            start = x
            while x < n and pattern[x] == "1":
                x += 1
            # No "z": a fill closes each subpath anyway, and every command costs WeasyPrint ~50 us to parse.
            parts.append(f"M{start} 0h{x - start}v1h-{x - start}")
        else:
            x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="{-quiet} 0 {n + 2 * quiet} 1" preserveAspectRatio="none">'
        f'<path fill="#000" d="{"".join(parts)}"/></svg>'
    )


def qr_matrix(value: str) -> list[bytearray]:
    """QR code modules (1 = dark) without border, error correction H (ZPL ``^BQ`` is given the same level)."""
    qr = segno.make_qr(value, error=QR_ERROR, boost_error=False)
    return [bytearray(row) for row in qr.matrix]


def svg_qr(matrix: list[bytearray], size: str, border: int = 4) -> str:
    """Inline SVG drawing a QR matrix as one path: each run of dark modules in a row is a 1-module-wide stroke
    (two path commands a run instead of five for a filled rectangle: WeasyPrint parses paths slowly)."""
    parts: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        n = len(row)
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start} {y}.5h{x - start}")
            else:
                x += 1
    span = len(matrix) + 2 * border
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="{-border} {-border} {span} {span}">'
        f'<path fill="none" stroke="#000" stroke-width="1" d="{"".join(parts)}"/></svg>'
    )
