"""Label preview pages: managers and admins see every label kind drawn from sample data, products and bins from
their own data, as PDF, PNG or ZPL."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import labels
from tests.web.staff import cheap_hashes_fixture, client_fixture, shop_fixture, sign_in  # noqa: F401 (fixtures)
from wms.printing import previews

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("username", ["kasia", "piotr"])
def test_previews_are_for_managers(client, shop, username):
    sign_in(client, username)
    assert client.get("/labels").status_code == 403
    assert client.get("/labels/bin/preview.pdf").status_code == 403
    assert client.get("/labels/product/preview.png?sku=KT-1").status_code == 403


def test_previews_need_a_signed_in_user(client, app):
    assert client.get("/labels").status_code == 302
    assert client.get("/labels/bin/preview.png").headers["Location"].startswith("/login")


def test_labels_page_lists_every_kind_with_a_thumbnail(client, shop):
    sign_in(client, "root")
    html = client.get("/labels").get_data(as_text=True)
    for kind in labels.KINDS:
        assert f'src="/labels/{kind}/preview.png"' in html
        assert f'href="/labels/{kind}/preview.pdf"' in html
    assert 'href="/labels/picklist/preview.zpl"' not in html  # A4 documents have no ZPL


@pytest.mark.parametrize("kind", list(labels.KINDS))
def test_every_kind_previews_as_pdf_and_png(client, shop, kind):
    sign_in(client, "boss")
    pdf = client.get(f"/labels/{kind}/preview.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    png = client.get(f"/labels/{kind}/preview.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(PNG)
    zpl = client.get(f"/labels/{kind}/preview.zpl")
    if "zpl" in labels.KINDS[kind]:
        assert zpl.status_code == 200 and zpl.mimetype == "text/plain" and zpl.data.startswith(b"^XA")
    else:
        assert zpl.status_code == 404


def test_product_and_bin_previews_use_their_own_data(client, shop):
    sign_in(client, "boss")
    zpl = client.get("/labels/product/preview.zpl?sku=KT-1").get_data(as_text=True)
    assert "KT-1" in zpl and "590123412345" in zpl
    assert client.get("/labels/product/preview.pdf?sku=KT-1").data.startswith(b"%PDF")
    assert client.get("/labels/product/preview.png?sku=KT-1").data.startswith(PNG)
    assert "A-02" in client.get("/labels/bin/preview.zpl?location=WH1&bin=A-02").get_data(as_text=True)
    assert client.get("/labels/bin/preview.png?location=WH1&bin=A-02").data.startswith(PNG)


@pytest.mark.parametrize(
    "url",
    [
        "/labels/nope/preview.pdf",
        "/labels/bin/preview.gif",
        "/labels/picklist/preview.zpl",
        "/labels/product/preview.pdf?sku=NOPE",
        "/labels/bin/preview.pdf?location=WH1&bin=Z-99",
        "/labels/bin/preview.pdf?location=NOPE&bin=A-01",
    ],
)
def test_unknown_kind_sku_or_bin_is_404(client, shop, url):
    sign_in(client, "boss")
    assert client.get(url).status_code == 404


def test_a_product_without_barcode_says_why(client, shop):
    sign_in(client, "boss")
    r = client.get("/labels/product/preview.pdf?sku=NOCODE")
    assert r.status_code == 422 and "no barcode" in r.get_data(as_text=True)


def test_zpl_preview_names_its_charset_once(client, shop):
    sign_in(client, "boss")
    for url in ("/labels/tote/preview.zpl", "/labels/product/preview.zpl?sku=KT-1"):
        assert client.get(url).headers["Content-Type"] == "text/plain; charset=utf-8"
    assert client.get("/labels/tote/preview.png").headers["Content-Type"] == "image/png"
    assert client.get("/labels/tote/preview.pdf").headers["Content-Type"] == "application/pdf"


def test_png_preview_is_the_label_drawn_at_150_dpi(client, shop):
    # Drawn in process by PDFium (no system tool): a 4 x 2 in label is 600 x 300 px, with black bars on white.
    sign_in(client, "boss")
    with Image.open(io.BytesIO(client.get("/labels/bin/preview.png?location=WH1&bin=A-02").data)) as image:
        assert image.size == (600, 300)
        assert image.convert("L").getextrema() == (0, 255)


def test_a_pdf_pdfium_cannot_draw_is_503_and_the_pdf_still_works(client, shop, monkeypatch):
    sign_in(client, "boss")
    broken = previews.render_preview

    def garbled(kind, data, fmt):
        return previews.pdf_to_png(b"%PDF-1.7 not really") if fmt == "png" else broken(kind, data, fmt)

    monkeypatch.setattr(previews, "render_preview", garbled)
    r = client.get("/labels/tote/preview.png")
    assert r.status_code == 503 and "could not be drawn" in r.get_data(as_text=True)
    assert client.get("/labels/tote/preview.pdf").status_code == 200


def test_an_empty_pdf_is_not_drawn():
    with pytest.raises(previews.PreviewUnavailable):
        previews.pdf_to_png(b"")
