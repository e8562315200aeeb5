"""Label previews for staff pages: believable sample data for every label kind, and a PDF drawn as a PNG.

No database here: the product and bin labels of real products and bins get their data from
``wms.printing.service.product_label_data`` / ``bin_label_data``; everything else is sample data, so a manager
can see what each label looks like before a printer is set up.
"""

from __future__ import annotations

import copy
import io
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import pypdfium2 as pdfium

import labels
from wms.catalog.rules import with_check_digit
from wms.errors import N_, NotFound, WMSError

#: what a preview can be asked for as, and the Content-Type it is served with
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "zpl": "text/plain; charset=utf-8"}
PREVIEW_FORMATS = tuple(CONTENT_TYPES)
#: resolution of PNG previews (a 4 in label is 600 px wide)
PNG_DPI = 150

# PDFium is not thread-safe: one drawing at a time per process (a label takes milliseconds).
_pdfium_lock = threading.Lock()

KIND_TITLES = {
    "product": N_("Product label"),
    "bin": N_("Bin label"),
    "tote": N_("Tote label"),
    "pickup": N_("Click & collect label"),
    "shipping": N_("Shipping label"),
    "return": N_("Return label"),
    "picklist": N_("Pick list"),
    "packing_slip": N_("Packing slip"),
}
KIND_NOTES = {
    "product": N_("4 × 2 in. Name, SKU and the product's EAN as a barcode. Open a product to print its label."),
    "bin": N_(
        "4 × 2 in. The bin code as Code 128, big enough to read from a forklift. Print them from a location's "
        "bins page."
    ),
    "tote": N_("4 × 2 in. The tote code as Code 128."),
    "pickup": N_("4 × 3 in. The pickup code as a QR code and Code 128, the customer and the pickup shelf."),
    "shipping": N_("4 × 6 in. The parcel's SSCC as GS1-128 and the carrier's tracking number as Code 128."),
    "return": N_("4 × 6 in. The RMA as Code 128 and the items being returned."),
    "picklist": N_("A4 document (PDF only). The wave as Code 128, lines in walk order."),
    "packing_slip": N_("A4 document (PDF only). Goes into the parcel with the order's lines."),
}

_STORE = {
    "name": "Sklep Warszawa Mokotów",
    "line1": "ul. Puławska 145",
    "city": "Warszawa",
    "postcode": "02-715",
    "country": "PL",
}
_WAREHOUSE = {
    "name": "Magazyn centralny Łódź",
    "line1": "ul. Magazynowa 1",
    "city": "Łódź",
    "postcode": "93-446",
    "country": "PL",
}
_CUSTOMER_ADDRESS = {
    "name": "Anna Nowak",
    "line1": "ul. Floriańska 12/4",
    "city": "Kraków",
    "postcode": "31-019",
    "country": "PL",
}
_LINES = [
    {"sku": "KT-1001", "name": "Patelnia żeliwna, 20 cm", "qty": 1, "bin": "A-02", "order": "WEB-100231"},
    {"sku": "KT-1009", "name": "Czajnik elektryczny 1,7 l, biały", "qty": 1, "bin": "A-07", "order": "WEB-100231"},
    {"sku": "TL-1001", "name": "Wkrętarka akumulatorowa 18 V", "qty": 1, "bin": "B-11", "order": "WEB-100232"},
    {"sku": "TL-1003", "name": "Zestaw bitów 32 el.", "qty": 2, "bin": "B-09", "order": "WEB-100232"},
    {"sku": "TL-1004", "name": "Poziomica aluminiowa, 40 cm", "qty": 1, "bin": "B-08", "order": "WEB-100232"},
    {"sku": "GD-1009", "name": "Rękawice ogrodowe, M", "qty": 2, "bin": "C-03", "order": "ALG-8734512001"},
    {"sku": "LT-1001", "name": "Żarówka LED E27 9 W, ciepła biel", "qty": 4, "bin": "C-10", "order": "ALG-8734512002"},
    {"sku": "GD-1004", "name": 'Wąż ogrodowy 1/2", 20 m', "qty": 1, "bin": "C-12", "order": "APP-55014"},
]

SAMPLES: dict[str, dict[str, Any]] = {
    "product": {"sku": "KT-1001", "name": "Patelnia żeliwna, 20 cm", "gtin": with_check_digit("590771200001")},
    "bin": {"code": "A-03", "location": "WH1 Magazyn centralny Łódź"},
    "tote": {"code": "TOTE-0042"},
    "pickup": {
        "order": "WEB-100234",
        "pickup_code": "K7M4Q2XZ",
        "customer": "Anna Nowak",
        "store": "ST-KRK Sklep Kraków Kazimierz",
        "shelf": "PU-02",
    },
    "shipping": {
        "order": "WEB-100231",
        "sscc": with_check_digit("05907712000000042"),
        "carrier": "InPost Kurier",
        "tracking": "620123456789012345",
        "ship_to": _CUSTOMER_ADDRESS,
        "ship_from": _WAREHOUSE,
    },
    "return": {
        "rma": "RMA-2025-000123",
        "order": "WEB-100232",
        "customer": "Piotr Wiśniewski",
        "lines": [
            {"sku": "TL-1003", "name": "Zestaw bitów 32 el.", "qty": 1},
            {"sku": "TL-1004", "name": "Poziomica aluminiowa, 40 cm", "qty": 1},
        ],
    },
    "picklist": {"wave": "W-WH1-0042", "location": "WH1 Magazyn centralny Łódź", "lines": _LINES},
    "packing_slip": {
        "order": "WEB-100231",
        "customer": "Anna Nowak",
        "ship_to": _CUSTOMER_ADDRESS,
        "lines": [{k: v for k, v in line.items() if k in ("sku", "name", "qty")} for line in _LINES[:2]],
    },
}
# Every kind of the labels library has a sample (a new kind without one fails the tests, not a page).
assert set(SAMPLES) == set(labels.KINDS) == set(KIND_TITLES), "a label kind without a sample"


class PreviewUnavailable(WMSError):
    """The PNG preview could not be drawn (PDFium refused the document)."""

    code, status = "preview_unavailable", 503


def kinds() -> list[dict[str, Any]]:
    """The label kinds for the labels page: kind, title, note and the formats it has."""
    return [
        {"kind": kind, "title": KIND_TITLES[kind], "note": KIND_NOTES[kind], "formats": labels.KINDS[kind]}
        for kind in KIND_TITLES
    ]


def check_preview(kind: str, fmt: str) -> None:
    """Raise NotFound for an unknown kind, or a format the kind has not (a ZPL pick list)."""
    if kind not in labels.KINDS:
        raise NotFound(f"no label kind {kind!r}", {"kind": kind})
    if fmt not in PREVIEW_FORMATS or (fmt == "zpl" and "zpl" not in labels.KINDS[kind]):
        raise NotFound(f"a {kind} label has no {fmt} preview", {"kind": kind, "format": fmt})


def sample_data(kind: str) -> dict[str, Any]:
    """A copy of the sample data of ``kind``; NotFound for an unknown kind."""
    if kind not in SAMPLES:
        raise NotFound(f"no label kind {kind!r}", {"kind": kind})
    return copy.deepcopy(SAMPLES[kind])


def render_preview(kind: str, data: Mapping[str, Any] | None, fmt: str) -> bytes:
    """The label ``kind`` with ``data`` (None: the sample) as ZPL, PDF or PNG bytes.

    Raises NotFound (unknown kind or format), ValueError (data the label cannot take), PreviewUnavailable (a PDF
    that PDFium cannot draw)."""
    check_preview(kind, fmt)
    if data is None:
        return _render_sample(kind, fmt)
    if fmt == "zpl":
        return labels.render(kind, data, "zpl")
    pdf = labels.render(kind, data, "pdf")
    return pdf if fmt == "pdf" else pdf_to_png(pdf)


@lru_cache(maxsize=32)
def _render_sample(kind: str, fmt: str) -> bytes:
    # The samples never change while the process runs: the labels page shows eight thumbnails, drawn once.
    if fmt == "png":
        return pdf_to_png(_render_sample(kind, "pdf"))
    return labels.render(kind, SAMPLES[kind], fmt)


def pdf_to_png(pdf: bytes, dpi: int = PNG_DPI) -> bytes:
    """The first page of ``pdf`` as a PNG, drawn in process by PDFium (the pypdfium2 wheel carries it, so previews
    need nothing installed on the server).

    Raises PreviewUnavailable when PDFium cannot read or draw the document."""
    with _pdfium_lock:
        try:
            document = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as exc:
            raise PreviewUnavailable(f"the PDF could not be drawn: {exc}") from None
        try:
            if len(document) == 0:
                raise PreviewUnavailable("the PDF has no page to draw")
            image = document[0].render(scale=dpi / 72, grayscale=True).to_pil()
        except pdfium.PdfiumError as exc:
            raise PreviewUnavailable(f"the PDF could not be drawn: {exc}") from None
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
