"""Labels and warehouse documents as ZPL II or PDF, from plain data (no Flask, no database).

    >>> import labels
    >>> zpl = labels.render("bin", {"code": "A-01-02", "location": "WH1"}, "zpl")
    >>> pdf = labels.render_many("bin", [{"code": "A-01-01", "location": "WH1"}, ...], "pdf")

``render(kind, data, fmt)`` returns bytes. Unknown keys in ``data`` are ignored; a missing (or None/blank) key, a
wrong GTIN/SSCC check digit, a code that cannot be a barcode, or a format the kind does not have raise
``ValueError`` naming the problem. ``data["copies"]`` (optional, 1-999, default 1) becomes ``^PQ`` in ZPL and
repeated pages in PDF. Addresses are ``{"name", "line1", "line2"?, "city", "postcode", "country"}``; lines are
``{"sku", "name", "qty", ...}``; a customer is a name (or a mapping with a ``name``).

Kinds, sizes (ZPL at 203 dpi = 8 dots/mm; the PDF label has the same size and layout) and barcodes:

=============  ===========================================  =================  =====================================
kind           data keys                                     size               barcodes (human-readable text under)
=============  ===========================================  =================  =====================================
bin            code, location                                4 x 2 in, 812x406  Code 128 of $B:<location>:<code> (the
                                                                                code in big text below)
product        sku, name, gtin                               4 x 2 in, 812x406  GTIN as EAN-13 / UPC-A / EAN-8 by length
                                                                                (GTIN-14: EAN-13 if it starts with 0,
                                                                                else GS1-128 (01))
tote           code                                          4 x 2 in, 812x406  Code 128 of $T:<code>
pickup         order, pickup_code, customer, store, shelf    4 x 3 in, 812x609  pickup_code as QR (level H) and Code 128
return         rma, order, customer, lines                   4 x 6 in, 812x1218 Code 128 of $R:<rma>; up to 20 lines,
                                                                                then "+ N more lines"
shipping       order, sscc, carrier, tracking, ship_to,      4 x 6 in, 812x1218 SSCC as GS1-128 (00), tracking as
               ship_from                                                        Code 128
picklist       wave, location, lines (+ bin, order each)     A4, PDF only       Code 128 of $W:<wave>
packing_slip   order, customer, ship_to, lines (+ order_id)  A4, PDF only       Code 128 of $O:<order_id>, or
                                                                                $O:<order> without an order_id
=============  ===========================================  =================  =====================================

The WMS's own codes are carried as the ``devices.scan`` WMS codes (``$B:``, ``$T:``, ``$R:``, ``$W:``, ``$O:``) so
that ``devices.parse_scan`` knows what each is wherever it is scanned; the text under the bars is the plain code.
A bin's ``location`` is the location's code, optionally followed by its name (``WH1 Stryków``).

ZPL: ``^CI28`` (UTF-8: Polish names print as sent, given a printer font with those glyphs, e.g. font 0 on current
Link-OS firmware), every variable field escaped and sent with ``^FH``, text in ``^FB`` blocks wrapped and cut with
"..." so it stays on the label, Code 128 as mode-N ``^BC`` data with explicit code-set invocations (the printer
draws the same bars as the PDF), EAN/UPC as ``^BE``/``^BU``/``^B8``, QR as ``^BQN,2``. Barcode modules are the
widest that fit (up to 0.5 mm) and never below 2 dots (0.25 mm); a code too long for that raises ``ValueError``.

PDF: WeasyPrint, DejaVu Sans, barcodes as inline SVG, a URL fetcher that serves only ``data:`` URIs, every field
HTML-escaped. A4 documents have "Page x of y" and repeat the table header on every page. Use :func:`render_many`
for batches: 50 labels in one document render 2-3x faster than 50 documents (``benchmarks/labels_bench.py``).
``render_many(kind, items, "zpl")`` returns the formats one after the other, ready for one printer job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from labels import kinds as _kinds
from labels import zpl as _zpl

__all__ = ["FORMATS", "KINDS", "render", "render_many"]

FORMATS = ("zpl", "pdf")
KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "bin": ("zpl", "pdf"),
        "product": ("zpl", "pdf"),
        "shipping": ("zpl", "pdf"),
        "pickup": ("zpl", "pdf"),
        "tote": ("zpl", "pdf"),
        "return": ("zpl", "pdf"),
        "picklist": ("pdf",),
        "packing_slip": ("pdf",),
    }
)


def _check(kind: str, fmt: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown label kind {kind!r}; kinds: {', '.join(KINDS)}")
    if fmt not in KINDS[kind]:
        raise ValueError(f"label kind {kind!r} has no {fmt!r} format; it has: {', '.join(KINDS[kind])}")


def render(kind: str, data: Mapping[str, Any], fmt: str) -> bytes:
    """One label (or A4 document) of ``kind`` as ZPL or PDF bytes; ``ValueError`` for bad data, kind or format."""
    return render_many(kind, [data], fmt)


def render_many(kind: str, items: Iterable[Mapping[str, Any]], fmt: str) -> bytes:
    """Many labels of one ``kind`` as ONE output: one PDF document (a page per label) or concatenated ZPL formats.

    All items are validated before anything is rendered; a ``ValueError`` for item ``i`` says so.
    """
    _check(kind, fmt)
    fields = []
    for i, data in enumerate(items):
        try:
            fields.append(_kinds.read(kind, data))
        except ValueError as exc:
            if i == 0:
                raise
            raise ValueError(f"item {i}: {exc}") from exc
    if not fields:
        raise ValueError("render_many needs at least one item")
    if fmt == "zpl":
        return b"".join(_zpl.render(_kinds.layout(kind, f)) for f in fields)
    from labels import pdf as _pdf  # imports WeasyPrint (~1 s): only when a PDF is asked for

    if kind in _pdf.DOCUMENTS:
        return _pdf.render_documents(kind, fields)
    return _pdf.render_labels([_kinds.layout(kind, f) for f in fields])
