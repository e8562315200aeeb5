"""ZPL output: structure, escaping, UTF-8, copies, and a drawn preview whose barcodes zxing-cpp must read."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import labels
from labels import kinds, zpl
from labels.layout import box
from tests.unit.labels import zplview
from tests.unit.labels.samples import GOOD, NASTY, POLISH, expected_codes, sample
from tests.unit.labels.tools import scan

ZPL_KINDS = [k for k in GOOD if "zpl" in labels.KINDS[k]]
SIZE = {"bin": 406, "product": 406, "tote": 406, "pickup": 609, "return": 1218, "shipping": 1218}
BARCODE_COMMANDS = {
    "bin": ["^BCN"],
    "product": ["^BEN"],
    "tote": ["^BCN"],
    "pickup": ["^BQN,2,", "^BCN"],
    "return": ["^BCN"],
    "shipping": ["^BCN", "^BCN"],
}


@pytest.mark.parametrize("kind", ZPL_KINDS)
def test_format_structure(kind: str) -> None:
    out = labels.render(kind, sample(kind), "zpl").decode()
    assert out.startswith("^XA\n^CI28\n") and out.endswith("^PQ1\n^XZ\n")
    assert out.count("^XA") == 1 and out.count("^XZ") == 1
    assert f"^PW812\n^LL{SIZE[kind]}\n" in out
    found = [cmd for cmd in ("^BQN,2,", "^BCN", "^BEN", "^BUN", "^B8N") for _ in range(out.count(cmd))]
    assert sorted(found) == sorted(BARCODE_COMMANDS[kind])
    # Every variable field is sent with ^FH so that _xx escapes are decoded, not printed.
    assert out.count("^FD") == out.count("^FH^FD") > 0


def test_shipping_label_is_4_by_6_inches_with_sscc_as_gs1_128() -> None:
    out = labels.render("shipping", sample("shipping"), "zpl").decode()
    assert "^PW812\n^LL1218\n" in out
    assert f"^BY4^BCN,262,N,N,N,N^FH^FD>;>800{GOOD['shipping']['sscc']}^FS" in out
    assert "(00) " + GOOD["shipping"]["sscc"] in out  # human-readable line
    assert "^FH^FD>:1Z999AA>51012345678>64^FS" in out  # tracking: start B, code C for the digit run, back to B


def test_product_ean13_gets_12_digits_and_the_full_gtin_as_text() -> None:
    out = labels.render("product", sample("product"), "zpl").decode()
    gtin = GOOD["product"]["gtin"]
    assert f"^BEN,200,N,N^FH^FD{gtin[:-1]}^FS" in out
    assert f"^FD{gtin}^FS" in out


def test_pickup_has_qr_and_code128_of_the_pickup_code() -> None:
    out = labels.render("pickup", sample("pickup"), "zpl").decode()
    assert "^FH^FDHA,PU7X3K9Q^FS" in out
    assert "^FH^FD>:PU7X3K9Q^FS" in out


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain A-01", "plain A-01"),
        ("^XZ", "_5EXZ"),
        ("~JR", "_7EJR"),
        ("a_b", "a_5Fb"),
        ("C:\\path", "C:_5Cpath"),
        ("tab\there\nnl", "tab_09here_0Anl"),
        ("\x00\x1f\x7f", "_00_1F_7F"),
        ("\x85", "_C2_85"),  # a C1 control character: its UTF-8 bytes
        (POLISH, POLISH),  # UTF-8 goes through as is under ^CI28
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert zpl.escape(raw) == escaped
    assert zplview.unescape(escaped) == raw


@given(st.text())
def test_escape_round_trips_and_leaves_nothing_a_printer_would_obey(value: str) -> None:
    escaped = zpl.escape(value)
    assert not any(ch in "^~\\" or ch < " " or "\x7f" <= ch <= "\x9f" for ch in escaped)
    assert re.sub(r"_[0-9A-F]{2}", "", escaped).count("_") == 0  # every "_" starts a hex escape
    assert zplview.unescape(escaped) == value


def test_every_special_character_in_data_is_escaped() -> None:
    data = {**sample("product"), "name": "^XZ^XA~JR_x\\&y", "sku": "S^~_\\"}
    out = labels.render("product", data, "zpl").decode()
    assert out.count("^XA") == 1 and out.count("^XZ") == 1 and "~" not in out
    assert "_5EXZ_5EXA_7EJR_5Fx_5C&y" in out
    assert "S_5E_7E_5F_5C" in out


def test_polish_characters_are_sent_as_utf8_bytes() -> None:
    out = labels.render("shipping", sample("shipping"), "zpl")
    assert POLISH.encode("utf-8") in out
    assert "Łódź".encode() in out and b"^CI28" in out
    assert "Łódź".encode("iso-8859-2") not in out


def test_copies_become_pq() -> None:
    out = labels.render("bin", {**sample("bin"), "copies": 3}, "zpl").decode()
    assert "^PQ3\n^XZ" in out and "^PQ1" not in out
    assert "^PQ12\n" in labels.render("tote", {"code": "T-1", "copies": "12"}, "zpl").decode()


def test_render_many_zpl_is_one_format_per_label() -> None:
    out = labels.render_many("tote", [{"code": f"T-{i}"} for i in range(5)], "zpl").decode()
    assert out.count("^XA") == 5 and out.count("^XZ") == 5
    assert all(f"^FD>:$T:T-{i}^FS" in out for i in range(5))


def test_long_text_is_wrapped_in_field_blocks_and_cut() -> None:
    out = labels.render("product", sample("product", nasty=True), "zpl").decode()
    name_field = next(line for line in out.splitlines() if "_5EXZ" in line)
    assert "^FB764,2," in name_field and "\\&" in name_field and name_field.endswith("...^FS")


@pytest.mark.parametrize("nasty", [False, True], ids=["good", "nasty"])
@pytest.mark.parametrize("kind", ZPL_KINDS)
def test_layout_elements_stay_on_the_label_and_never_overlap(kind: str, nasty: bool) -> None:
    label = kinds.layout(kind, kinds.read(kind, sample(kind, nasty)))
    boxes = [box(el) for el in label.elements]
    for x, y, w, h in boxes:
        assert x >= 0 and y >= 0 and x + w <= label.width and y + h <= label.height, (x, y, w, h)
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        overlap = a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
        assert not overlap, f"{label.elements[i]} overlaps {label.elements[j]}"


@pytest.fixture(scope="module")
def previews(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], tuple[zplview.Preview, Path]]:
    """Every ZPL label (good and hostile data) drawn once from its ZPL text."""
    folder = tmp_path_factory.mktemp("zpl")
    out = {}
    for kind in ZPL_KINDS:
        for nasty in (False, True):
            preview = zplview.render(labels.render(kind, sample(kind, nasty), "zpl"))
            path = folder / f"{kind}{'-nasty' if nasty else ''}.png"
            preview.save(path)
            out[kind, nasty] = (preview, path)
    return out


@pytest.mark.parametrize("nasty", [False, True], ids=["good", "nasty"])
@pytest.mark.parametrize("kind", ZPL_KINDS)
def test_drawn_zpl_fields_fit(previews: dict, kind: str, nasty: bool) -> None:
    preview, _ = previews[kind, nasty]
    for f in preview.fields:
        x, y, w, h = f.box
        assert x >= 0 and y >= 0 and x + w <= preview.width and y + h <= preview.height, f
    if preview.exact_font:  # measured with DejaVu Sans Condensed Bold (a little wider than Zebra font 0)
        assert [f.text for f in preview.fields if f.overflow] == []


@pytest.mark.parametrize("nasty", [False, True], ids=["good", "nasty"])
@pytest.mark.parametrize("kind", ZPL_KINDS)
def test_drawn_zpl_barcodes_scan_as_the_data(previews: dict, kind: str, nasty: bool) -> None:
    _, path = previews[kind, nasty]
    assert scan(path) == expected_codes(kind, (NASTY if nasty else GOOD)[kind])
