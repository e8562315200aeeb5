"""The render contract: required keys, unknown keys, check digits, formats, copies (ZPL only: fast)."""

from __future__ import annotations

import pytest

import labels
from tests.unit.labels.samples import GOOD, SSCC, sample

REQUIRED = {
    "bin": ["code", "location"],
    "product": ["sku", "name", "gtin"],
    "shipping": ["order", "sscc", "carrier", "tracking", "ship_to", "ship_from"],
    "pickup": ["order", "pickup_code", "customer", "store", "shelf"],
    "tote": ["code"],
    "return": ["rma", "order", "customer", "lines"],
    "picklist": ["wave", "location", "lines"],
    "packing_slip": ["order", "customer", "ship_to", "lines"],
}


def test_kinds_and_formats_are_the_contract() -> None:
    assert set(labels.KINDS) == set(REQUIRED)
    assert labels.KINDS["picklist"] == ("pdf",) and labels.KINDS["packing_slip"] == ("pdf",)
    assert all(labels.KINDS[k] == ("zpl", "pdf") for k in ("bin", "product", "shipping", "pickup", "tote", "return"))


@pytest.mark.parametrize(("kind", "key"), [(kind, key) for kind, keys in REQUIRED.items() for key in keys])
def test_missing_key_raises_value_error_naming_it(kind: str, key: str) -> None:
    data = sample(kind)
    del data[key]
    with pytest.raises(ValueError, match=f"'{key}' is missing"):
        labels.render(kind, data, labels.KINDS[kind][0])


@pytest.mark.parametrize("value", [None, "", "   "])
def test_none_or_blank_counts_as_missing(value: object) -> None:
    with pytest.raises(ValueError, match="'location'"):
        labels.render("bin", {"code": "A-1", "location": value}, "zpl")


@pytest.mark.parametrize(
    ("kind", "path", "message"),
    [
        ("shipping", ("ship_to", "city"), "'ship_to.city' is missing"),
        ("shipping", ("ship_from", "name"), "'ship_from.name' is missing"),
        ("return", ("lines", 1, "qty"), r"'lines\[1\].qty' is missing"),
        ("picklist", ("lines", 0, "bin"), r"'lines\[0\].bin' is missing"),
        ("picklist", ("lines", 2, "order"), r"'lines\[2\].order' is missing"),
        ("packing_slip", ("ship_to", "postcode"), "'ship_to.postcode' is missing"),
    ],
)
def test_missing_nested_key_names_its_path(kind: str, path: tuple, message: str) -> None:
    data = sample(kind)
    target = data
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    with pytest.raises(ValueError, match=message):
        labels.render(kind, data, "pdf")  # validation happens before WeasyPrint is touched


def test_line2_is_optional() -> None:
    data = sample("shipping")
    del data["ship_to"]["line2"]
    assert b"klatka" not in labels.render("shipping", data, "zpl")


@pytest.mark.parametrize("kind", [k for k in GOOD if "zpl" in labels.KINDS[k]])
def test_unknown_keys_are_ignored(kind: str) -> None:
    data = sample(kind)
    extra = {**data, "colour": "red", "internal_id": 123, "notes": {"nested": True}}
    assert labels.render(kind, extra, "zpl") == labels.render(kind, data, "zpl")


def test_wrong_gtin_check_digit() -> None:
    data = sample("product")
    data["gtin"] = data["gtin"][:-1] + str((int(data["gtin"][-1]) + 1) % 10)
    with pytest.raises(ValueError, match="gtin .* wrong check digit"):
        labels.render("product", data, "zpl")


def test_wrong_sscc_check_digit_and_length() -> None:
    data = sample("shipping")
    data["sscc"] = SSCC[:-1] + str((int(SSCC[-1]) + 3) % 10)
    with pytest.raises(ValueError, match="sscc .* wrong check digit"):
        labels.render("shipping", data, "zpl")
    data["sscc"] = SSCC + "0"
    with pytest.raises(ValueError, match="sscc .* 19 digits"):
        labels.render("shipping", data, "pdf")


def test_code_that_cannot_be_a_barcode() -> None:
    with pytest.raises(ValueError, match="tracking"):
        labels.render("shipping", {**sample("shipping"), "tracking": "ŁÓDŹ-123"}, "zpl")


@pytest.mark.parametrize(("kind", "fmt"), [("picklist", "zpl"), ("packing_slip", "zpl"), ("bin", "png"), ("bin", "")])
def test_unsupported_format(kind: str, fmt: str) -> None:
    with pytest.raises(ValueError, match="format"):
        labels.render(kind, sample(kind), fmt)


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown label kind 'pallet'"):
        labels.render("pallet", {}, "zpl")


@pytest.mark.parametrize("data", [None, [("code", "A")], "code=A"])
def test_data_must_be_a_mapping(data: object) -> None:
    with pytest.raises(ValueError, match="mapping"):
        labels.render("tote", data, "zpl")  # type: ignore[arg-type]


@pytest.mark.parametrize("copies", [0, -1, 1000, "many", True, 1.5])
def test_bad_copies(copies: object) -> None:
    with pytest.raises(ValueError, match="copies"):
        labels.render("tote", {"code": "T-1", "copies": copies}, "zpl")


def test_lines_must_be_a_list_of_mappings() -> None:
    with pytest.raises(ValueError, match="'lines' must be a list"):
        labels.render("return", {**sample("return"), "lines": "2x SKU-1"}, "zpl")
    with pytest.raises(ValueError, match=r"'lines\[0\]' must be a mapping"):
        labels.render("return", {**sample("return"), "lines": ["SKU-1"]}, "zpl")


def test_render_many_validates_every_item_first() -> None:
    items = [sample("bin"), sample("bin"), {"code": "B-1"}]
    with pytest.raises(ValueError, match="item 2: .*'location' is missing"):
        labels.render_many("bin", items, "pdf")
    with pytest.raises(ValueError, match="at least one"):
        labels.render_many("bin", [], "zpl")


def test_labels_library_imports_neither_flask_nor_wms() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, labels, labels.pdf; labels.render('tote', {'code': 'T-1'}, 'zpl');"
        "bad = [m for m in sys.modules if m == 'wms' or m.startswith(('wms.', 'flask'))]; print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(labels.__file__).parent.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
