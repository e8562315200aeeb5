"""PDF output: every label rasterised at 203 dpi and every barcode read back with zxing-cpp; page sizes, page
numbers, repeated table headers, Polish text, HTML escaping and the URL fetcher that refuses files and the network.

Each PDF is rendered once per module (WeasyPrint is the slow part)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import labels
from labels import pdf
from tests.unit.labels.samples import GOOD, INJECTION, NASTY, POLISH, expected_codes, sample
from tests.unit.labels.tools import pdf_fonts, pdf_info, pdf_text, scan, to_images

PAGE_SIZE = {  # in points
    "bin": "288 x 144",
    "product": "288 x 144",
    "tote": "288 x 144",
    "pickup": "288 x 216",
    "return": "288 x 432",
    "shipping": "288 x 432",
    "picklist": "595.276 x 841.89",
    "packing_slip": "595.276 x 841.89",
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Path]:
    """Every kind, with realistic and with hostile data, as a PDF file."""
    folder = tmp_path_factory.mktemp("pdf")
    out = {}
    for kind in GOOD:
        for nasty in (False, True):
            path = folder / f"{kind}{'-nasty' if nasty else ''}.pdf"
            path.write_bytes(labels.render(kind, sample(kind, nasty), "pdf"))
            out[kind, nasty] = path
    return out


@pytest.fixture(scope="module")
def pages(rendered: dict[tuple[str, bool], Path]) -> dict[tuple[str, bool], list[Image.Image]]:
    """The first page of each PDF as a 203 dpi image (the barcodes are all on it)."""
    return {key: to_images(path, last_page=1) for key, path in rendered.items()}


@pytest.mark.parametrize("nasty", [False, True], ids=["good", "nasty"])
@pytest.mark.parametrize("kind", list(GOOD))
def test_every_barcode_scans_as_the_data(pages: dict, kind: str, nasty: bool) -> None:
    first_page = pages[kind, nasty][0]
    data = (NASTY if nasty else GOOD)[kind]
    found = scan(first_page)
    assert found == expected_codes(kind, data)
    if kind == "shipping":
        assert any(data["sscc"] in code and code.startswith("00") for code in found)


@pytest.mark.parametrize("kind", list(GOOD))
def test_page_size(rendered: dict, kind: str) -> None:
    info = pdf_info(rendered[kind, False])
    assert info["Page size"].startswith(PAGE_SIZE[kind] + " pts")


@pytest.mark.parametrize("kind", ["shipping", "packing_slip", "pickup", "product"])
def test_polish_text_is_real_text_in_dejavu(rendered: dict, kind: str) -> None:
    text = pdf_text(rendered[kind, False])
    assert "Łódź" in text or "Żółkiewski" in text or "Zażółć" in text
    if kind == "shipping":
        assert POLISH in text
    assert "DejaVu" in pdf_fonts(rendered[kind, False])


@pytest.mark.parametrize("kind", ["product", "return", "packing_slip", "picklist", "shipping"])
def test_html_in_data_is_printed_as_text(rendered: dict, kind: str) -> None:
    assert INJECTION in pdf_text(rendered[kind, True])


def test_no_url_is_fetched_for_hostile_data(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(pdf, "check_url", asked.append)
    labels.render("packing_slip", sample("packing_slip", nasty=True), "pdf")
    labels.render("product", sample("product", nasty=True), "pdf")
    assert asked == []


def test_fetcher_refuses_files_and_network_but_serves_data_uris() -> None:
    fetcher = pdf.url_fetcher()
    for url in ["file:///etc/passwd", "http://127.0.0.1/x.png", "https://example.org/a.css", "ftp://h/f", "/etc/hosts"]:
        with pytest.raises(pdf.FetchRefused):
            fetcher(url)
    served = fetcher("data:text/plain;base64,aGk=")
    body = served.read() if hasattr(served, "read") else served["string"]
    assert body == b"hi"


def test_fetcher_is_what_weasyprint_uses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Even HTML that asks for a local file (were escaping ever missed) gets nothing: the fetcher refuses.
    secret = tmp_path / "secret.css"
    secret.write_text("body::after { content: 'SECRET-FROM-DISK' }")
    asked: list[str] = []
    check = pdf.check_url

    def spy(url: str) -> None:
        asked.append(url)
        check(url)

    monkeypatch.setattr(pdf, "check_url", spy)
    body = f'<link rel="stylesheet" href="{secret.as_uri()}"><img src="file:///etc/passwd"><p>visible</p>'
    out = tmp_path / "raw.pdf"
    out.write_bytes(pdf._document(body, pdf._doc_css()).write_pdf())
    assert secret.as_uri() in asked and "file:///etc/passwd" in asked
    text = pdf_text(out)
    assert "visible" in text and "SECRET-FROM-DISK" not in text and "root:" not in text


def test_picklist_pages_are_numbered_and_repeat_the_table_header(rendered: dict) -> None:
    path = rendered["picklist", False]
    count = int(pdf_info(path)["Pages"])
    assert count >= 2  # 30 lines do not fit on one A4 page
    for page in range(1, count + 1):
        text = pdf_text(path, page)
        assert f"Page {page} of {count}" in text
        assert all(header in text for header in ("Bin", "SKU", "Item", "Qty"))
    assert "SKU-0030" in pdf_text(path, count)


def test_packing_slip_lists_lines_and_total(rendered: dict) -> None:
    text = pdf_text(rendered["packing_slip", False])
    assert "Page 1 of 1" in text
    assert all(f"SKU-{i:04d}" in text for i in range(1, 7))
    total = sum(line["qty"] for line in GOOD["packing_slip"]["lines"])
    assert "Total" in text and str(total) in text.split("Total")[1]


def test_render_many_is_one_document_with_a_page_per_label_copy(tmp_path: Path) -> None:
    items = [{"code": f"A-01-{i:02d}", "location": "WH1"} for i in range(3)]
    items[1]["copies"] = 2
    out = tmp_path / "bins.pdf"
    out.write_bytes(labels.render_many("bin", items, "pdf"))
    pngs = to_images(out)
    assert [scan(p) for p in pngs] == [["$B:WH1:A-01-00"], ["$B:WH1:A-01-01"], ["$B:WH1:A-01-01"], ["$B:WH1:A-01-02"]]


def test_render_many_documents_restart_page_numbers(tmp_path: Path) -> None:
    # The second slip uses glyphs the first does not: the merged file must still carry them.
    second = {**sample("packing_slip"), "order": "SO-2", "customer": "Ÿvonne Quixote ĘŹ", "copies": 2}
    out = tmp_path / "slips.pdf"
    out.write_bytes(labels.render_many("packing_slip", [sample("packing_slip"), second], "pdf"))
    assert pdf_info(out)["Pages"] == "3"
    assert "Ÿvonne Quixote ĘŹ" in pdf_text(out, 3)
    assert [("SO-2" in pdf_text(out, p), "Page 1 of 1" in pdf_text(out, p)) for p in (1, 2, 3)] == [
        (False, True),
        (True, True),
        (True, True),
    ]


def test_every_gtin_length_scans(tmp_path: Path) -> None:
    gtins = ["036000291452", "96385074", "09501101530003", "10614141000415"]
    out = tmp_path / "products.pdf"
    out.write_bytes(labels.render_many("product", [{"sku": g, "name": "x", "gtin": g} for g in gtins], "pdf"))
    # UPC-A reads in its EAN-13 form (a leading 0) and a GS1-128 as its element string.
    scanned = [scan(p) for p in to_images(out)]
    assert scanned == [["0036000291452"], ["96385074"], ["9501101530003"], ["0110614141000415"]]
