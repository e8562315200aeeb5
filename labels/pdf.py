"""PDF output through WeasyPrint: thermal labels from the shared layout, A4 pick lists and packing slips.

Label data comes from customers, so every field is HTML-escaped and WeasyPrint gets a URL fetcher that only
serves ``data:`` URIs: no ``file://`` read, no remote request, whatever the HTML says. Barcodes are inline SVG
(one ``<path>`` each). Layout uses absolute positioning and tables, never flexbox (flexbox costs ~240 ms a label).
WeasyPrint is imported on first use: it takes about a second, and ZPL-only callers never need it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from html import escape as _esc
from typing import Any

from labels import barcodes
from labels.fields import Address, Line
from labels.kinds import Fields
from labels.layout import DPI, Bars, Element, Label, Qr, Rule, Text

FONT = '"DejaVu Sans", "Liberation Sans", Arial, sans-serif'  # DejaVu: Debian's default, full Polish coverage


class FetchRefused(ValueError):
    """WeasyPrint was asked for a URL that is not a ``data:`` URI."""


def check_url(url: str) -> None:
    """Raise :class:`FetchRefused` unless ``url`` is a ``data:`` URI (no file, no network, no relative path)."""
    if not url.startswith("data:"):
        raise FetchRefused(f"labels: refusing to fetch {url[:80]!r}")


@functools.cache
def url_fetcher() -> Any:
    """The URL fetcher given to WeasyPrint: :func:`check_url`, then WeasyPrint's own fetcher for ``data:``."""
    import weasyprint

    base = getattr(weasyprint, "URLFetcher", None)
    if base is None:  # WeasyPrint before the URLFetcher class: fetchers are plain functions

        def fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> Any:
            check_url(url)
            return weasyprint.default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)

        return fetch

    class SafeURLFetcher(base):  # type: ignore[misc, valid-type]
        def fetch(self, url: str, headers: Any = None) -> Any:
            check_url(url)  # looked up at call time, so tests can watch it
            return super().fetch(url, headers)

    # allowed_protocols repeats the rule inside WeasyPrint: two locks, in case one is ever bypassed.
    return SafeURLFetcher(allowed_protocols=("data",), allow_redirects=False)


def esc(value: str) -> str:
    """HTML-escaped text (quotes too: values also land in attributes)."""
    return _esc(value, quote=True)


def _in(dots: float) -> str:
    return f"{dots / DPI:.4f}in"


# --- thermal labels ----------------------------------------------------------------------------------------------

_LABEL_CSS = """
@page { size: $W $H; margin: 0 }
html, body { margin: 0; padding: 0 }
body { font-family: $FONT; font-weight: bold; font-stretch: condensed; color: #000 }
.label { position: relative; width: $W; height: $H; overflow: hidden; break-after: page }
.label:last-child { break-after: auto }
.label > div { position: absolute; overflow: hidden }
.t { white-space: nowrap; text-overflow: ellipsis }  /* a line our width estimate let through still stays inside */
.r { background: #000 }
svg { display: block }
"""


class _Styles:
    """Positions and sizes as CSS classes, one per distinct style: a batch of labels of one kind shares most of
    them, and WeasyPrint parses a class once but an inline ``style`` attribute on every element (~30 % of the CPU
    time of a 50-label batch)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, style: str) -> str:
        return self.names.setdefault(style, f"s{len(self.names)}")

    def css(self) -> str:
        return "".join(f".{name}{{{style}}}" for style, name in self.names.items())


def _element_html(el: Element, cls: _Styles) -> str:
    if isinstance(el, Text):
        # Font 0 on a Zebra fills about 0.9 of its cell height with DejaVu's proportions; line pitch = size + gap.
        style = (
            f"left:{_in(el.x)};top:{_in(el.y)};width:{_in(el.w)};height:{_in(el.h + el.gap)};"
            f"font-size:{_in(el.size * 0.9)};line-height:{_in(el.size + el.gap)};text-align:"
            + {"L": "left", "C": "center", "R": "right"}[el.align]
        )
        # Lines are already wrapped (as in the ZPL): one block with <br>, not a block per line (~20 % faster).
        return f'<div class="t {cls(style)}">{"<br>".join(esc(line) for line in el.lines)}</div>'
    if isinstance(el, Bars):
        x, y, w, h = el.box
        svg = barcodes.svg_linear(el.symbol.pattern, _in(w), _in(h), el.symbol.quiet)
        return f'<div class="{cls(f"left:{_in(x)};top:{_in(y)}")}">{svg}</div>'
    if isinstance(el, Qr):
        x, y, w, _ = el.box
        return f'<div class="{cls(f"left:{_in(x)};top:{_in(y)}")}">{barcodes.svg_qr(el.matrix, _in(w))}</div>'
    assert isinstance(el, Rule)
    style = f"left:{_in(el.x)};top:{_in(el.y)};width:{_in(el.w)};height:{_in(el.h)}"
    return f'<div class="r {cls(style)}"></div>'


def label_html(label: Label, cls: _Styles) -> str:
    """One label page as HTML; its positions go into ``cls``."""
    return '<div class="label">' + "".join(_element_html(el, cls) for el in label.elements) + "</div>"


@functools.cache
def _label_css(width: int, height: int) -> Any:
    import weasyprint

    css = _LABEL_CSS.replace("$W", _in(width)).replace("$H", _in(height)).replace("$FONT", FONT)
    return weasyprint.CSS(string=css, url_fetcher=url_fetcher())


# --- A4 documents ------------------------------------------------------------------------------------------------

_DOC_CSS = """
@page {
  size: A4; margin: 14mm 12mm 16mm 12mm;
  @bottom-left { content: string(doctitle); font-family: $FONT; font-size: 8pt; color: #444 }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-family: $FONT; font-size: 8pt }
}
html { font-family: $FONT; font-size: 10pt; color: #000 }
body { margin: 0 }
h1 { font-size: 18pt; margin: 0 0 1mm 0; string-set: doctitle content() }
.doc { break-after: page }
.doc:last-child { break-after: auto }
table { border-collapse: collapse; width: 100% }
table.head td { vertical-align: top; padding: 0 }
td.code { text-align: right; width: 75mm }
.bc { display: inline-block; text-align: center }
.hri { font-family: "DejaVu Sans Mono", monospace; font-size: 11pt }
.meta { font-size: 11pt; line-height: 1.45 }
.meta b { display: inline-block; min-width: 22mm }
.addr { margin: 4mm 0 5mm 0; font-size: 11pt; line-height: 1.35 }
.addr .label { font-size: 8pt; letter-spacing: .5pt; color: #444 }
table.lines { margin-top: 4mm; table-layout: fixed }
table.lines th { text-align: left; font-size: 9pt; border-bottom: 1.2pt solid #000; padding: 1.5mm 1.5mm }
table.lines td { border-bottom: .4pt solid #888; padding: 2mm 1.5mm; vertical-align: top;
  overflow-wrap: anywhere }
table.lines tr { break-inside: avoid }
table.lines .n { text-align: right }
.clamp { line-clamp: 3 }  /* a pasted novel of a product name must not push a row off the page */
table.lines .bin { font-weight: bold; font-size: 11pt }
table.lines tfoot td { border-bottom: none; border-top: 1.2pt solid #000; font-weight: bold }
.box { display: inline-block; width: 4.5mm; height: 4.5mm; border: .8pt solid #000 }
"""


@functools.cache
def _doc_css() -> Any:
    import weasyprint

    return weasyprint.CSS(string=_DOC_CSS.replace("$FONT", FONT), url_fetcher=url_fetcher())


def _doc_barcode(symbol: barcodes.Linear) -> str:
    # 3 dots at 203 dpi = 0.375 mm modules: easy for any scanner, on any office printer.
    module = barcodes.fit_module(symbol, int(70 / 25.4 * DPI), 3)
    width = (symbol.modules + 2 * symbol.quiet) * module
    svg = barcodes.svg_linear(symbol.pattern, _in(width), "14mm", symbol.quiet)
    return f'<td class="code"><div class="bc">{svg}<div class="hri">{esc(symbol.text)}</div></div></td>'


def _address_html(title: str, addr: Address) -> str:
    lines = "<br>".join(esc(line) for line in addr.lines())
    return f'<div class="addr"><div class="label">{esc(title)}</div>{lines}</div>'


def _total(lines: Sequence[Line]) -> str:
    try:
        total = sum((Decimal(line.qty) for line in lines), Decimal(0))
    except InvalidOperation:
        return ""  # quantities like "2 boxes": no meaningful total
    return str(total.normalize()) if total == total.to_integral() else str(total)


def picklist_html(d: Fields) -> str:
    """A pick list: wave barcode, location, and one row per line in the given (walking) order."""
    rows = "".join(
        f'<tr><td class="n">{i}</td><td class="bin">{esc(line.bin)}</td><td>{esc(line.sku)}</td>'
        f'<td><div class="clamp">{esc(line.name)}</div></td><td>{esc(line.order)}</td>'
        f'<td class="n">{esc(line.qty)}</td>'
        '<td><span class="box"></span></td></tr>'
        for i, line in enumerate(d["lines"], 1)
    )
    return (
        '<div class="doc"><table class="head"><tr><td>'
        f"<h1>Pick list {esc(d['wave'])}</h1>"
        f'<div class="meta"><b>Location</b> {esc(d["location"])}<br><b>Lines</b> {len(d["lines"])}</div>'
        f"</td>{_doc_barcode(d['wave_bars'])}</tr></table>"
        '<table class="lines"><colgroup><col style="width:9mm"><col style="width:26mm"><col style="width:32mm">'
        '<col><col style="width:26mm"><col style="width:14mm"><col style="width:9mm"></colgroup>'
        '<thead><tr><th class="n">#</th><th>Bin</th><th>SKU</th><th>Item</th><th>Order</th>'
        '<th class="n">Qty</th><th></th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def packing_slip_html(d: Fields) -> str:
    """A packing slip: order barcode, customer, ship-to address, the lines and the total quantity."""
    lines = d["lines"]
    rows = "".join(
        f'<tr><td class="n">{i}</td><td>{esc(line.sku)}</td><td><div class="clamp">{esc(line.name)}</div></td>'
        f'<td class="n">{esc(line.qty)}</td></tr>'
        for i, line in enumerate(lines, 1)
    )
    return (
        '<div class="doc"><table class="head"><tr><td>'
        f"<h1>Packing slip {esc(d['order'])}</h1>"
        f'<div class="meta"><b>Order</b> {esc(d["order"])}<br><b>Customer</b> {esc(d["customer"])}</div>'
        f"</td>{_doc_barcode(d['order_bars'])}</tr></table>"
        f"{_address_html('SHIP TO', d['ship_to'])}"
        '<table class="lines"><colgroup><col style="width:9mm"><col style="width:40mm"><col>'
        '<col style="width:18mm"></colgroup>'
        '<thead><tr><th class="n">#</th><th>SKU</th><th>Item</th><th class="n">Qty</th></tr></thead>'
        f"<tbody>{rows}</tbody>"
        f'<tfoot><tr><td></td><td></td><td>Total</td><td class="n">{esc(_total(lines))}</td></tr></tfoot>'
        "</table></div>"
    )


DOCUMENTS = {"picklist": picklist_html, "packing_slip": packing_slip_html}


# --- rendering ---------------------------------------------------------------------------------------------------


def _document(body: str, css: Any, head: str = "") -> Any:
    import weasyprint

    html = f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    return weasyprint.HTML(string=html, url_fetcher=url_fetcher()).render(stylesheets=[css])


def render_labels(labels: Sequence[Label]) -> bytes:
    """One PDF with a page per label copy; all labels must be of one size."""
    sizes = {(label.width, label.height) for label in labels}
    if len(sizes) != 1:
        raise ValueError("render_labels needs labels of one size")
    cls = _Styles()
    body = "".join(label_html(label, cls) * label.copies for label in labels)
    return _document(body, _label_css(*sizes.pop()), f"<style>{cls.css()}</style>").write_pdf()


def render_documents(kind: str, items: Sequence[Fields]) -> bytes:
    """One PDF holding an A4 document per item; each keeps its own "Page x of y"."""
    css = _doc_css()
    make = DOCUMENTS[kind]
    docs = [_document(make(d), css) for d in items]
    if len(docs) == 1 and items[0]["copies"] == 1:
        return docs[0].write_pdf()
    # Rendered apart so "Page x of y" restarts per document (and per copy), then written as one file.
    pages = [page for doc, d in zip(docs, items, strict=True) for _ in range(d["copies"]) for page in doc.pages]
    return docs[0].copy(pages).write_pdf()
