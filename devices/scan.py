"""Turn any scanned string into a typed :class:`ScanResult` (pure: no I/O, no Flask, no ``wms``).

What a scan can be, tried in this order:

1. **WMS codes** printed on our own labels. A ``$``, one letter, a colon, then the value. ``$`` never starts a
   GTIN, a GS1 element string or a URL, and Code 128 (set B) and Code 39 both carry it, so the two cannot be
   confused. The letter is case-insensitive (a wedge scanner with Caps Lock on still works):

   ==========================  ==========================  =================================================
   code                        example                     value
   ==========================  ==========================  =================================================
   ``$B:<location>:<bin>``     ``$B:WH1:A-01-02``          a bin; the location has no ``:``, the bin may
   ``$L:<location>``           ``$L:ST-KRK``               a location (warehouse or store)
   ``$T:<tote>``               ``$T:TOTE-0042``            a tote
   ``$O:<order>``              ``$O:123``                  an order: its id (digits), or its reference
                                                           (``$O:WEB-100231``) when the label had no id
   ``$P:<pickup code>``        ``$P:AC3KXT7Q``             a click & collect pickup code (upper-cased)
   ``$R:<rma>``                ``$R:RMA-000017``           a return
   ``$W:<wave>``               ``$W:42``                   a pick wave / pick list
   ==========================  ==========================  =================================================

   Values are printable ASCII without spaces at either end. Make them with the ``encode_*`` functions below so
   the label templates and this parser agree.

   A **bare pickup code** (what a customer reads out or types) is accepted too: exactly 8 characters (the length
   the WMS issues) of the pickup alphabet ``ACDEFGHJKLMNPQRTUVWXY34679`` (no look-alikes), with at least one
   letter, case-insensitive. The letter keeps it apart from GTIN-8s (all digits); no GS1 string or WMS code
   matches that pattern. After ``$P:`` any length from 4 to 16 is accepted.

2. **GTINs**: a string of 6, 7, 8, 12, 13 or 14 digits (optionally after a non-GS1 AIM prefix such as ``]E0``
   EAN-13, ``]E4`` EAN-8 or ``]I1`` ITF-14) is an EAN-8 / UPC-E / UPC-A / EAN-13 / GTIN-14 with a verified check
   digit; 8 digits are a GTIN-8 when its check digit fits, else a UPC-E. Such a string is *also* a valid GS1
   element string by accident (``5901234123457`` reads as AI 400, ``96385074`` as AI 96): the GTIN wins.
   A bare 18-digit string is an SSCC.

3. **GS1 element strings** (GS1-128 ``]C1``, GS1 DataMatrix ``]d2``, GS1 QR ``]Q3``, GS1 DataBar ``]e0``, or no
   prefix at all) and **GS1 digital-link URLs**. Recognised: (00) SSCC, (01) GTIN, (02) GTIN of the
   contents, (10) lot, (15) best before, (17) expiry, (21) serial, (30) / (37) quantity; every AI is kept in
   :attr:`ScanResult.ais`. Without an AIM prefix the string must contain (00), (01) or (02), so that a random
   number is not taken for a GS1 message.

   **Separators and the lot trap.** Variable-length fields such as the lot (10) end with a group separator
   (ASCII 29, ``\\x1d``). Keyboard-wedge scanners often cannot type it and drop it, and then the lot swallows
   everything after it: ``0105901234123457 10ABC 17250131`` without a separator is lot ``ABC17250131`` and no
   expiry. Nothing can tell this apart from a real lot, so it is not guessed at. The fix: configure the scanner
   to send a printable substitute for GS and list it in ``separators`` (default: ``\\x1d``, ``|`` and ``~``; both
   are outside the GS1 character set, so they never occur inside GS1 data).

4. **Plain codes**: anything else that looks like a code a person could type or a label could carry, 1-128
   printable ASCII characters without spaces, at least one letter or digit, no ``://``: a bin code as printed
   (``A-01-02``), a tote's code (``T-0001``), an order id (``123``) or reference (``WEB-100231``), a carrier's
   tracking number. What it names depends on where it is scanned, so it comes back as kind ``plain`` and a
   resolver in the app looks it up (``wms.scanning``). Digits of a GTIN or SSCC length whose check digit is wrong
   are a plain code too, with :attr:`ScanResult.hint` ``bad_check_digit``: a tracking or order number may be such
   digits, and a scanner never sends an EAN with a wrong check digit, so only a typo makes one; the resolver gives
   the check-digit message when the code names nothing. A scanner that says it read an EAN/UPC or GS1 symbol (an
   AIM prefix) and a string that starts like a GS1 element string (``00`` + 18 digits, ``01``/``02`` + 14) still
   raise.

A scanner set to send AIM prefixes (``]C0`` Code 128, ``]Q1`` QR, ...) may put one before any of these; it is
dropped.

Anything else raises :class:`ScanError` with a stable :attr:`ScanError.code` (``empty``, ``unknown_format``,
``bad_check_digit``, ``bad_gs1``, ``bad_wms_code``) and a message a picker understands.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import biip
from biip import ParseConfig, ParseError
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.sscc import Sscc
from biip.upc import Upc

__all__ = [
    "DEFAULT_SEPARATORS",
    "PICKUP_ALPHABET",
    "ScanError",
    "ScanKind",
    "ScanResult",
    "encode_bin",
    "encode_location",
    "encode_order",
    "encode_pickup",
    "encode_return",
    "encode_tote",
    "encode_wave",
    "parse_scan",
]

#: GS (ASCII 29) plus printable substitutes a keyboard-wedge scanner can be set to send instead of it.
DEFAULT_SEPARATORS: tuple[str, ...] = ("\x1d", "|", "~")

#: Must match ``wms.orders.service.PICKUP_CODE_ALPHABET`` (devices may not import wms).
PICKUP_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"

#: AIM symbology identifiers of symbols that carry GS1 data (the modifier marks FNC1 in first position).
_GS1_AIM = {"]C1", "]e0", "]d2", "]Q3", "]J1"}
_AIM_RE = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_GS1_PATH_RE = re.compile(r"/(?:00|01|02|8003|8004|8006|8010|8013|8017|8018|253|255|401|402|414|417)/")
_PICKUP_RE = re.compile(f"^[{PICKUP_ALPHABET}]{{4,16}}$")
_BARE_PICKUP_RE = re.compile(f"^[{PICKUP_ALPHABET}]{{8}}$")
_WMS_RE = re.compile(r"^\$([A-Za-z]):(.*)$", re.DOTALL)
_PRINTABLE_RE = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
_MAX_WMS_VALUE = 64
#: a bin code carries two values: ``<location>:<bin>``
_MAX_WMS_BIN = 2 * _MAX_WMS_VALUE + 1
_PLAIN_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
#: longest plain code (an order reference or a tracking number is at most 128 characters in the WMS)
MAX_PLAIN = 128
#: how a GS1 element string starts: (00) SSCC, or (01)/(02) GTIN, with all their digits
_GS1_START_RE = re.compile(r"^(?:00[0-9]{18}|0[12][0-9]{14})")
#: AIM symbology identifiers whose symbols carry a check digit of their own (EAN/UPC, ITF)
_CHECKED_AIM_LETTERS = ("E", "I")
#: sources of a code read without any envelope naming its kind: such a code may also be a plain code
_BARE_SOURCES = frozenset({"EAN-8", "UPC-E", "UPC-A", "EAN-13", "GTIN-14", "SSCC", "pickup code", "plain"})

MESSAGES = {
    "empty": "Nothing was scanned: scan again.",
    "unknown_format": "Barcode not recognised: scan the product, bin or order label, or type the number.",
    "bad_check_digit": "Check digit wrong: scan again or type the number.",
    "bad_gs1": "Barcode data not readable: scan again or type the number.",
    "bad_wms_code": "Label code not readable: scan again or reprint the label.",
}


class ScanKind(enum.StrEnum):
    """What a scanned code identifies."""

    PRODUCT = "product"  # a trade item: bare GTIN, GS1 string or digital link with (01) or (02)
    SSCC = "sscc"  # a logistic unit (pallet, parcel): (00), maybe with contents (02) + count (37)
    GS1 = "gs1"  # GS1 data without an item or SSCC, e.g. a lot/expiry-only symbol
    PLAIN = "plain"  # a code whose meaning depends on where it is scanned: bin, tote, order, tracking number...
    BIN = "bin"
    LOCATION = "location"
    TOTE = "tote"
    ORDER = "order"
    PICKUP = "pickup"
    RETURN = "return"
    WAVE = "wave"


class ScanError(ValueError):
    """A scan that is empty, unknown or malformed. ``code`` is stable, ``message`` is for the picker and
    ``detail`` says what exactly was wrong (for logs)."""

    def __init__(self, code: str, raw: str, detail: str = "") -> None:
        self.code = code
        self.raw = raw
        self.message = MESSAGES[code]
        self.detail = detail
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form, e.g. for the scan page's error sound and message."""
        return {"code": self.code, "message": self.message, "detail": self.detail, "raw": self.raw}


@dataclass(frozen=True)
class ScanResult:
    """A recognised scan. ``value`` is the main identifier: the GTIN-14 for products, the SSCC, the bin code,
    the order id as text... Fields that do not apply are None."""

    kind: ScanKind
    raw: str
    value: str
    #: where it came from: "EAN-13", "UPC-E", "GTIN-14", "SSCC", "GS1-128", "GS1 DataMatrix", "GS1 QR",
    #: "GS1 element string", "GS1 digital link", "WMS", "pickup code"
    source: str
    gtin: str | None = None  # as printed on the pack: 8, 12, 13 or 14 digits (UPC-E expanded to 12)
    gtin14: str | None = None  # the same, zero-padded to 14 digits: the form the catalogue stores
    lot: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    serial: str | None = None
    quantity: int | None = None
    sscc: str | None = None
    location: str | None = None
    bin: str | None = None
    order_id: int | None = None
    ais: dict[str, str] = field(default_factory=dict)
    #: plain codes only: the :class:`ScanError` code that applies if the code names nothing (``bad_check_digit``)
    hint: str | None = None

    def as_plain(self) -> str | None:
        """The code as typed when nothing in it named its kind (a plain code, a bare GTIN/SSCC, a bare pickup
        code), so that a resolver may also look it up as a bin, an order id... (``12345670`` is an EAN-8 *and*
        perhaps an order id); None for WMS codes, GS1 element strings and codes behind an AIM prefix."""
        if self.kind is ScanKind.PLAIN:
            return self.value
        text = self.raw.strip()
        if self.source in _BARE_SOURCES and not text.startswith("]"):
            return text
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings, empty fields left out)."""
        out: dict[str, Any] = {}
        for key, val in asdict(self).items():
            if val is None or val == {}:
                continue
            out[key] = val.isoformat() if isinstance(val, date) else str(val) if key == "kind" else val
        return out


@lru_cache(maxsize=16)
def _config(separators: tuple[str, ...]) -> ParseConfig:
    return ParseConfig(separator_chars=list(separators))


def parse_scan(value: str, *, separators: Iterable[str] = DEFAULT_SEPARATORS) -> ScanResult:
    """Recognise a scanned or typed string (see the module docstring for the formats). Pure; never blocks.

    Raises :class:`ScanError` (a ``ValueError``) for empty, unknown or malformed input.
    """
    if not isinstance(value, str):
        raise TypeError(f"parse_scan() takes a str, not {type(value).__name__}")
    seps = tuple(separators)
    # Scanners add CR/LF/Tab suffixes. str.strip() also removes GS (ASCII 29 counts as whitespace), which some
    # scanners send for a leading FNC1 or after a last variable-length field: harmless at the ends.
    text = value.strip()
    if not text:
        raise ScanError("empty", value)
    aim = text[:3] if _AIM_RE.match(text) else None
    body = text[3:] if aim else text
    if body[:1] == "$" and aim not in _GS1_AIM:
        return _parse_wms(body, value)
    upper = body.upper()
    if _BARE_PICKUP_RE.match(upper) and not upper.isdigit() and aim not in _GS1_AIM:
        return ScanResult(ScanKind.PICKUP, value, upper, "pickup code")
    try:
        return _parse_gs1(text, value, seps)
    except ScanError as exc:
        plain = _plain(exc, aim, body, value)
        if plain is None:
            raise
        return plain


def _plain(error: ScanError, aim: str | None, body: str, raw: str) -> ScanResult | None:
    """``body`` as a plain code, if ``error`` leaves room for one (see the module docstring), else None."""
    if aim in _GS1_AIM or (aim and aim[1] in _CHECKED_AIM_LETTERS and error.code == "bad_check_digit"):
        return None  # the scanner itself says it read a GS1 or EAN/UPC symbol: a broken one stays broken
    if _GS1_START_RE.match(body) or "://" in body or not _PLAIN_RE.match(body):
        return None
    if not any(ch.isalnum() for ch in body):
        return None
    hint = "bad_check_digit" if error.code == "bad_check_digit" else None
    return ScanResult(ScanKind.PLAIN, raw, body, "plain", hint=hint)


# --- WMS codes -----------------------------------------------------------------------------------------------

_WMS_KINDS = {
    "B": ScanKind.BIN,
    "L": ScanKind.LOCATION,
    "T": ScanKind.TOTE,
    "O": ScanKind.ORDER,
    "P": ScanKind.PICKUP,
    "R": ScanKind.RETURN,
    "W": ScanKind.WAVE,
}


def _parse_wms(text: str, raw: str) -> ScanResult:
    match = _WMS_RE.match(text)
    if not match:
        raise ScanError("bad_wms_code", raw, f"{text!r} does not look like $X:value")
    letter, body = match.group(1).upper(), match.group(2)
    kind = _WMS_KINDS.get(letter)
    if kind is None:
        raise ScanError("bad_wms_code", raw, f"unknown WMS code type ${letter}")
    longest = _MAX_WMS_BIN if kind is ScanKind.BIN else _MAX_WMS_VALUE
    if not _PRINTABLE_RE.match(body) or len(body) > longest:
        raise ScanError("bad_wms_code", raw, f"bad value {body!r} for ${letter}")
    if kind is ScanKind.BIN:
        location, sep, bin_code = body.partition(":")
        if not sep or not location.strip() or not bin_code.strip():
            raise ScanError("bad_wms_code", raw, f"bin code {body!r} is not <location>:<bin>")
        return ScanResult(kind, raw, body, "WMS", location=location, bin=bin_code)
    if kind is ScanKind.LOCATION:
        if ":" in body:
            raise ScanError("bad_wms_code", raw, f"location {body!r} contains ':'")
        return ScanResult(kind, raw, body, "WMS", location=body)
    if kind is ScanKind.ORDER:
        if not body.isdigit():
            return ScanResult(kind, raw, body, "WMS")  # the order's reference: the resolver looks it up
        order_id = int(body)
        return ScanResult(kind, raw, str(order_id), "WMS", order_id=order_id)
    if kind is ScanKind.PICKUP:
        code = body.upper()
        if not _PICKUP_RE.match(code):
            raise ScanError("bad_wms_code", raw, f"pickup code {body!r} has characters outside the pickup alphabet")
        return ScanResult(kind, raw, code, "WMS")
    return ScanResult(kind, raw, body, "WMS")


def _check_value(what: str, value: str, *, colon: bool = True) -> str:
    if not isinstance(value, str) or not _PRINTABLE_RE.match(value) or len(value) > _MAX_WMS_VALUE:
        raise ValueError(f"{what} {value!r}: use 1-{_MAX_WMS_VALUE} printable ASCII characters, no outer spaces")
    if not colon and ":" in value:
        raise ValueError(f"{what} {value!r} may not contain ':'")
    return value


def encode_bin(location: str, bin_code: str) -> str:
    """``$B:<location>:<bin>``. Raises ValueError for values a label cannot carry."""
    return f"$B:{_check_value('location', location, colon=False)}:{_check_value('bin', bin_code)}"


def encode_location(location: str) -> str:
    """``$L:<location>``. Raises ValueError for values a label cannot carry."""
    return f"$L:{_check_value('location', location, colon=False)}"


def encode_tote(tote: str) -> str:
    """``$T:<tote>``. Raises ValueError for values a label cannot carry."""
    return f"$T:{_check_value('tote', tote)}"


def encode_order(order: int | str) -> str:
    """``$O:<order id>`` for an id (an int or digits), else ``$O:<reference>`` (the order as its channel knows
    it). Raises ValueError for values a label cannot carry."""
    text = str(order)
    if text.isascii() and text.isdigit():
        return f"$O:{int(text)}"
    return f"$O:{_check_value('order', text)}"


def encode_pickup(code: str) -> str:
    """``$P:<pickup code>``. Raises ValueError for characters outside :data:`PICKUP_ALPHABET`."""
    if not isinstance(code, str) or not _PICKUP_RE.match(code.upper()):
        raise ValueError(f"pickup code {code!r}: use 4-16 characters of {PICKUP_ALPHABET}")
    return f"$P:{code.upper()}"


def encode_return(rma: str) -> str:
    """``$R:<rma>``. Raises ValueError for values a label cannot carry."""
    return f"$R:{_check_value('RMA', rma)}"


def encode_wave(wave: int | str) -> str:
    """``$W:<wave>``. Raises ValueError for values a label cannot carry."""
    return f"$W:{_check_value('wave', str(wave))}"


# --- GS1 and GTINs ------------------------------------------------------------------------------------------

_SOURCES = {"]C1": "GS1-128", "]d2": "GS1 DataMatrix", "]Q3": "GS1 QR", "]e0": "GS1 DataBar", "]J1": "GS1 DotCode"}
_GTIN_SOURCES = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


def _error_code(message: str | None) -> str:
    return "bad_check_digit" if message and "check digit" in message.lower() else "bad_gs1"


def _short_gtin(gtin: Any) -> str:
    """The GTIN in its own length (biip keeps the 14 digits of an (01) field but reports the real format)."""
    return gtin.value[-int(gtin.format.length) :]


def _parse_gs1(text: str, raw: str, seps: tuple[str, ...]) -> ScanResult:
    aim = text[:3] if _AIM_RE.match(text) else None
    body = text[3:] if aim else text
    config = _config(seps)

    # A plain GTIN or SSCC first: all digits, possibly behind an EAN/UPC AIM prefix. Many of these are also valid
    # GS1 messages by accident (EAN-13 "590..." reads as AI (400)): the GTIN wins. The direct Gtin/Sscc parsers
    # are ~7x faster than biip.parse(), which tries every interpretation.
    if body.isascii() and body.isdigit() and aim not in _GS1_AIM:
        length = len(body)
        if length in (12, 13, 14):
            try:
                gtin = Gtin.parse(body)
            except ParseError as exc:
                raise ScanError(_error_code(str(exc)), raw, str(exc)) from None
            return _product(raw, _short_gtin(gtin), _GTIN_SOURCES[length])
        if length in (6, 7, 8):
            # As biip.parse() decides, without its other attempts: a valid GTIN-8 first, else a UPC-E (6-8 digits)
            # expanded to its UPC-A.
            gtin_error = None
            if length == 8:
                try:
                    return _product(raw, _short_gtin(Gtin.parse(body)), "EAN-8")
                except ParseError as exc:
                    gtin_error = str(exc)
            try:
                upc_a = Upc.parse(body).as_upc_a()
            except ParseError:
                if gtin_error:
                    raise ScanError(_error_code(gtin_error), raw, gtin_error) from None
            else:
                return _product(raw, upc_a, "UPC-E")
        if length == 18:
            try:
                sscc = Sscc.parse(body)
            except ParseError as exc:
                raise ScanError(_error_code(str(exc)), raw, str(exc)) from None
            return ScanResult(ScanKind.SSCC, raw, sscc.value, "SSCC", sscc=sscc.value)

    if body.lower().startswith(("http://", "https://")):
        result = biip.parse(body, config=config)
        link = result.gs1_digital_link_uri
        if link is None:
            error = result.gs1_digital_link_uri_error
            if error and _GS1_PATH_RE.search(body):
                raise ScanError(_error_code(error), raw, error)
            raise ScanError("unknown_format", raw, "a URL that is not a GS1 digital link")
        return _from_elements(raw, link.element_strings, "GS1 digital link")

    try:
        message = GS1Message.parse(body, config=config)
    except ParseError as exc:
        if aim in _GS1_AIM or body[:2] in ("00", "01", "02"):
            raise ScanError(_error_code(str(exc)), raw, str(exc)) from None
        raise ScanError("unknown_format", raw, str(exc)) from None
    ais = {element.ai.ai for element in message.element_strings}
    if not ais:
        raise ScanError("unknown_format", raw, "no GS1 data")
    if aim not in _GS1_AIM and not ais & {"00", "01", "02"}:
        raise ScanError("unknown_format", raw, "digits that are no GTIN and no GS1 item or SSCC")
    return _from_elements(raw, message.element_strings, _SOURCES.get(aim or "", "GS1 element string"))


def _product(raw: str, gtin: str, source: str, **fields: Any) -> ScanResult:
    gtin14 = gtin.zfill(14)
    return ScanResult(ScanKind.PRODUCT, raw, gtin14, source, gtin=gtin, gtin14=gtin14, **fields)


def _from_elements(raw: str, elements: list[Any], source: str) -> ScanResult:
    ais: dict[str, str] = {}
    fields: dict[str, Any] = {}
    gtin = content_gtin = None
    for element in elements:
        ai = element.ai.ai
        ais[ai] = element.value
        error = element.gtin_error or element.sscc_error
        if error:
            raise ScanError(_error_code(error), raw, error)
        if ai == "01":
            gtin = _short_gtin(element.gtin)
        elif ai == "02":
            content_gtin = _short_gtin(element.gtin)
        elif ai == "00":
            fields["sscc"] = element.sscc.value
        elif ai == "10":
            fields["lot"] = element.value
        elif ai == "17":
            fields["expiry"] = element.date
        elif ai == "15":
            fields["best_before"] = element.date
        elif ai == "21":
            fields["serial"] = element.value
        elif ai == "30" or (ai == "37" and "quantity" not in fields):
            fields["quantity"] = int(element.value)
    item = gtin or content_gtin
    if "sscc" in fields:
        extra = {"gtin": item, "gtin14": item.zfill(14)} if item else {}
        return ScanResult(ScanKind.SSCC, raw, fields["sscc"], source, ais=ais, **fields, **extra)
    if item:
        return _product(raw, item, source, ais=ais, **fields)
    label = "".join(f"({ai}){val}" for ai, val in ais.items())
    return ScanResult(ScanKind.GS1, raw, label, source, ais=ais, **fields)
