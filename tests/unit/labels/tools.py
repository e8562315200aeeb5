"""Read labels back for the tests: PDF pages drawn and read with pypdfium2, barcodes decoded with zxing-cpp.

Both ship their native library inside the wheel, so these tests run wherever ``pip install -e '.[test]'`` ran:
no system tool to install, nothing skipped.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

#: dots per inch of a thermal label printer: barcodes must scan at the resolution they are printed at
PRINTER_DPI = 203


def scan(image: Image.Image | Path) -> list[str]:
    """Every barcode found in ``image``, sorted, as a scanner in its plain mode sends it: a GS1-128 as its element
    string (``00...``, no parentheses, no FNC1), an EAN/UPC with its check digit."""
    if isinstance(image, Path):
        with Image.open(image) as opened:
            image = opened.convert("L")
    found = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
    return sorted(code.text for code in found)


def to_images(pdf: Path | bytes, dpi: int = PRINTER_DPI, last_page: int | None = None) -> list[Image.Image]:
    """The pages (up to ``last_page``) drawn like a ``dpi`` thermal printer, in grey, in page order."""
    document = pdfium.PdfDocument(pdf.read_bytes() if isinstance(pdf, Path) else pdf)
    try:
        count = len(document) if last_page is None else min(last_page, len(document))
        return [document[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(count)]
    finally:
        document.close()


def pdf_text(pdf: Path, page: int | None = None) -> str:
    """The text layer of ``pdf``, or of one page (numbered from 1), pages separated by a form feed."""
    document = pdfium.PdfDocument(pdf.read_bytes())
    try:
        numbers = range(len(document)) if page is None else [page - 1]
        return "\f".join(document[i].get_textpage().get_text_bounded() for i in numbers)
    finally:
        document.close()


def pdf_info(pdf: Path) -> dict[str, str]:
    """The number of pages and the first page's size, written like poppler's ``pdfinfo``: ``595.276 x 841.89 pts``."""
    document = pdfium.PdfDocument(pdf.read_bytes())
    try:
        width, height = document[0].get_size()
        return {"Pages": str(len(document)), "Page size": f"{round(width, 3):g} x {round(height, 3):g} pts"}
    finally:
        document.close()


def pdf_fonts(pdf: Path) -> str:
    """The fonts the text of ``pdf`` is set in, one a line: base name and whether it is embedded."""
    document = pdfium.PdfDocument(pdf.read_bytes())
    names: set[str] = set()
    try:
        for page in document:
            for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_TEXT]):
                font = obj.get_font()
                names.add(f"{font.get_base_name()} {'embedded' if font.is_embedded else 'not embedded'}")
    finally:
        document.close()
    return "\n".join(sorted(names))
