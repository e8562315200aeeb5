"""Label previews for staff pages: believable sample data for every label kind, and a PDF drawn as a PNG.

No database here: the product and bin labels of real products and bins get their data from
``wms.printing.service.product_label_data`` / ``bin_label_data``; everything else is sample data, so a manager
can see what each label looks like before a printer is set up.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import labels
from wms.catalog.rules import with_check_digit
from wms.errors import NotFound, WMSError

#: what a preview can be asked for as
PREVIEW_FORMATS = ("pdf", "png", "zpl")
#: resolution of PNG previews (a 4 in label is 600 px wide)
PNG_DPI = 150
#: seconds pdftoppm may take before the preview is given up
PNG_TIMEOUT = 20.0

KIND_TITLES = {
    "product": "Product label",
    "bin": "Bin label",
    "tote": "Tote label",
    "pickup": "Click & collect label",
    "shipping": "Shipping label",
    "return": "Return label",
    "picklist": "Pick list",
    "packing_slip": "Packing slip",
}
KIND_NOTES = {
    "product": "4 × 2 in. Name, SKU and the product's EAN as a barcode. Open a product to print its label.",
    "bin": "4 × 2 in. The bin code as Code 128, big enough to read from a forklift. Print them from a location's "
    "bins page.",
    "tote": "4 × 2 in. The tote code as Code 128.",
    "pickup": "4 × 3 in. The pickup code as a QR code and Code 128, the customer and the pickup shelf.",
    "shipping": "4 × 6 in. The parcel's SSCC as GS1-128 and the carrier's tracking number as Code 128.",
    "return": "4 × 6 in. The RMA as Code 128 and the items being returned.",
    "picklist": "A4 document (PDF only). The wave as Code 128, lines in walk order.",
    "packing_slip": "A4 document (PDF only). Goes into the parcel with the order's lines.",
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
    """The PNG preview cannot be drawn on this server (no pdftoppm, or it failed)."""

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

    Raises NotFound (unknown kind or format), ValueError (data the label cannot take), PreviewUnavailable (PNG
    without pdftoppm)."""
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


def pdf_to_png(pdf: bytes, dpi: int = PNG_DPI, timeout: float = PNG_TIMEOUT) -> bytes:
    """The first page of ``pdf`` as a PNG, drawn by poppler's ``pdftoppm`` in a subprocess with a time limit.

    Raises PreviewUnavailable when pdftoppm is not installed, times out or fails."""
    program = shutil.which("pdftoppm")
    if program is None:
        raise PreviewUnavailable(
            "PNG previews need pdftoppm, which is not installed on this server (Debian: apt install poppler-utils). "
            "The PDF preview works without it."
        )
    # pdftoppm reads the PDF from stdin but always writes a file (poppler 22 names it "-.png" for "-"): a private
    # temporary directory per call, so that concurrent previews never meet.
    with tempfile.TemporaryDirectory(prefix="wms-preview-") as tmp:
        out = os.path.join(tmp, "page")
        try:
            done = subprocess.run(
                [program, "-png", "-r", str(dpi), "-singlefile", "-", out],
                input=pdf,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PreviewUnavailable(f"pdftoppm took longer than {timeout:g} s to draw the preview") from None
        except OSError as exc:
            raise PreviewUnavailable(f"pdftoppm could not run: {exc.strerror or exc}") from None
        png = b""
        if os.path.exists(out + ".png"):
            with open(out + ".png", "rb") as f:
                png = f.read()
    if done.returncode != 0 or not png.startswith(b"\x89PNG"):
        err = done.stderr.decode(errors="replace").strip()[:200] or f"exit status {done.returncode}"
        raise PreviewUnavailable(f"pdftoppm could not draw the preview: {err}")
    return png
