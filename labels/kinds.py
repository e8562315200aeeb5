"""The label kinds: what data each reads and, for thermal labels, where everything goes.

``read(kind, data)`` validates and cleans the data (missing key -> ``ValueError`` naming it; wrong GTIN/SSCC check
digit -> ``ValueError``; unknown keys ignored) and builds every barcode symbol, so a bad code fails before anything
is rendered. ``layout(kind, fields)`` places the elements of a thermal label (sizes in the package docstring).

What each barcode carries, so that :func:`devices.scan.parse_scan` knows what it is wherever it is scanned: the
WMS's own identifiers as WMS codes made by the ``devices.scan.encode_*`` functions (bin ``$B:<location>:<bin>``,
tote ``$T:``, return ``$R:``, pick list ``$W:``, packing slip ``$O:``), with the plain code printed for people;
codes that live outside the WMS in their own form (the GTIN as EAN/UPC, the SSCC as GS1-128 (00), the carrier's
tracking number, and the pickup code, which the customer also reads out or shows as a QR code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from devices.scan import encode_bin, encode_order, encode_return, encode_tote, encode_wave
from labels import fields as f
from labels.barcodes import Linear, code128, gtin_barcode, sscc_barcode
from labels.layout import MARGIN, Element, Label, Rule, Text, bars, code_with_text, fit_size, qr, stack, text

Fields = dict[str, Any]

WIDTH = 812  # 4 in at 203 dpi
INNER = WIDTH - 2 * MARGIN
SIZES = {  # (width, height) in dots; 203 dpi = 8 dots/mm
    "bin": (WIDTH, 406),  # 4 x 2 in
    "product": (WIDTH, 406),  # 4 x 2 in
    "tote": (WIDTH, 406),  # 4 x 2 in
    "pickup": (WIDTH, 609),  # 4 x 3 in
    "return": (WIDTH, 1218),  # 4 x 6 in
    "shipping": (WIDTH, 1218),  # 4 x 6 in
}


# --- reading -----------------------------------------------------------------------------------------------------


def _wms_code(encode: Callable[..., str], *values: str, what: str, text: str) -> Linear:
    """Code 128 of a WMS code; the encoder's refusal (a value no label can carry) names the data key."""
    try:
        value = encode(*values)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    return code128(value, what, text)


def _read_bin(d: Mapping[str, Any]) -> Fields:
    code = f.text(d, "code")
    location = f.text(d, "location")
    # "location" is the location's code, maybe followed by its name ("WH1 Stryków"): codes have no spaces.
    location_code = location.split()[0]
    return {
        "code": code,
        "location": location,
        "code_bars": _wms_code(encode_bin, location_code, code, what="code", text=code),
    }


def _read_product(d: Mapping[str, Any]) -> Fields:
    gtin = f.digits(d, "gtin")
    return {"sku": f.text(d, "sku"), "name": f.text(d, "name"), "gtin": gtin, "gtin_bars": gtin_barcode(gtin)}


def _read_shipping(d: Mapping[str, Any]) -> Fields:
    sscc = f.digits(d, "sscc")
    tracking = f.text(d, "tracking")
    return {
        "order": f.text(d, "order"),
        "sscc": sscc,
        "sscc_bars": sscc_barcode(sscc),
        "carrier": f.text(d, "carrier"),
        "tracking": tracking,
        "tracking_bars": code128(tracking, "tracking"),
        "ship_to": f.address(d, "ship_to"),
        "ship_from": f.address(d, "ship_from"),
    }


def _read_pickup(d: Mapping[str, Any]) -> Fields:
    code = f.text(d, "pickup_code")
    return {
        "order": f.text(d, "order"),
        "pickup_code": code,
        "pickup_bars": code128(code, "pickup_code"),
        "customer": f.person(d, "customer"),
        "store": f.text(d, "store"),
        "shelf": f.text(d, "shelf"),
    }


def _read_tote(d: Mapping[str, Any]) -> Fields:
    code = f.text(d, "code")
    return {"code": code, "code_bars": _wms_code(encode_tote, code, what="code", text=code)}


def _read_return(d: Mapping[str, Any]) -> Fields:
    rma = f.text(d, "rma")
    return {
        "rma": rma,
        "rma_bars": _wms_code(encode_return, rma, what="rma", text=rma),
        "order": f.text(d, "order"),
        "customer": f.person(d, "customer"),
        "lines": f.lines(d),
    }


def _read_picklist(d: Mapping[str, Any]) -> Fields:
    wave = f.text(d, "wave")
    return {
        "wave": wave,
        "wave_bars": _wms_code(encode_wave, wave, what="wave", text=wave),
        "location": f.text(d, "location"),
        "lines": f.lines(d, extra=("bin", "order")),
    }


def _read_packing_slip(d: Mapping[str, Any]) -> Fields:
    order = f.text(d, "order")
    # The barcode names the order by its id when the data has one ("order_id"), else by the reference printed.
    order_id = f.optional_text(d, "order_id")
    if order_id and not (order_id.isascii() and order_id.isdigit()):
        raise ValueError(f"label data: 'order_id' must be the order's id (a number), not {order_id!r}")
    return {
        "order": order,
        "order_bars": _wms_code(encode_order, order_id or order, what="order", text=order),
        "customer": f.person(d, "customer"),
        "ship_to": f.address(d, "ship_to"),
        "lines": f.lines(d),
    }


READERS: dict[str, Callable[[Mapping[str, Any]], Fields]] = {
    "bin": _read_bin,
    "product": _read_product,
    "shipping": _read_shipping,
    "pickup": _read_pickup,
    "tote": _read_tote,
    "return": _read_return,
    "picklist": _read_picklist,
    "packing_slip": _read_packing_slip,
}


def read(kind: str, data: Any) -> Fields:
    """Validated, cleaned fields of ``data`` for ``kind``, with ``copies``."""
    mapping = f.mapping(data)
    fields = READERS[kind](mapping)
    fields["copies"] = f.copies(mapping)
    return fields


# --- thermal layouts ---------------------------------------------------------------------------------------------


def _bin(d: Fields) -> list[Element]:
    code = d["code"]
    return [
        text(MARGIN, 18, INNER, 30, d["location"]),
        bars(d["code_bars"], MARGIN, 58, INNER, 190, 4),
        # The code big enough to read from a forklift: this is also the barcode's human-readable line.
        text(MARGIN, 262, INNER, fit_size(code, INNER, 100, 40), code, align="C"),
    ]


def _product(d: Fields) -> list[Element]:
    right_x = 400
    return [
        text(MARGIN, 18, INNER, 32, d["name"], max_lines=2),
        text(MARGIN, 108, 360, 22, "SKU"),
        text(MARGIN, 136, 360, 44, d["sku"], max_lines=2),
        *code_with_text(d["gtin_bars"], right_x, 108, WIDTH - MARGIN - right_x, 200, 3, 34),
    ]


def _tote(d: Fields) -> list[Element]:
    code = d["code"]
    return [
        bars(d["code_bars"], MARGIN, 24, INNER, 220, 4),
        text(MARGIN, 258, INNER, fit_size(code, INNER, 110, 40), code, align="C"),
    ]


def _pickup(d: Fields) -> list[Element]:
    col_x = 292
    col_w = WIDTH - MARGIN - col_x
    column, _ = stack(
        col_x, 24, col_w, [(24, "PICKUP ORDER", 1), (50, d["order"], 1), (34, d["customer"], 2), (26, d["store"], 2)]
    )
    return [
        qr(d["pickup_code"], MARGIN, MARGIN, 264),  # quiet zone included: the column starts right after it
        *column,  # at most 24 + 24+50+72+55 + 3 gaps of 8 = y 249: above the shelf line at 258
        text(col_x, 282, 96, 24, "SHELF"),
        text(col_x + 100, 258, col_w - 100, 56, d["shelf"]),
        Rule(MARGIN, 326, INNER, 3),
        *code_with_text(d["pickup_bars"], MARGIN, 342, INNER, 150, 4, 44),
    ]


LINES_Y = 506  # first line row on a return label
LINE_SIZE = 24
LINE_GAP = 10
QTY_W, SKU_X, SKU_W, NAME_X = 64, 100, 220, 332  # return label columns: qty | sku | item name


def _line_row(line: f.Line, y: int, name_lines: int) -> list[Text]:
    return [
        text(MARGIN, y, QTY_W, LINE_SIZE, line.qty, align="R"),
        text(SKU_X, y, SKU_W, LINE_SIZE, line.sku),
        text(NAME_X, y, WIDTH - MARGIN - NAME_X, LINE_SIZE, line.name, max_lines=name_lines),
    ]


def _line_rows(lines: list[f.Line], top: int, bottom: int, name_lines: int) -> tuple[list[Element], bool]:
    """Rows from ``top``; when not all fit, the last row says how many lines are left out. Returns (rows, all)."""
    out: list[Element] = []
    y = top
    for i, line in enumerate(lines):
        row = _line_row(line, y, name_lines)
        row_h = max(el.h for el in row)
        # Keep room for the "+ N more lines" row unless this is the last line.
        room = bottom - (0 if i == len(lines) - 1 else LINE_SIZE + LINE_GAP)
        if y + row_h > room:
            out.append(text(SKU_X, y, WIDTH - MARGIN - SKU_X, LINE_SIZE, f"+ {len(lines) - i} more lines"))
            return out, False
        out += row
        y += row_h + LINE_GAP
    return out, True


def _return(d: Fields) -> list[Element]:
    els: list[Element] = [
        text(MARGIN, 24, INNER, 44, "RETURN"),
        *code_with_text(d["rma_bars"], MARGIN, 80, INNER, 170, 4, 40),
        Rule(MARGIN, 314, INNER, 3),
        text(MARGIN, 330, INNER, 32, f"Order {d['order']}"),
        text(MARGIN, 372, INNER, 32, f"Customer {d['customer']}", max_lines=2),
        Rule(MARGIN, 452, INNER, 3),
        text(MARGIN, 466, QTY_W, 24, "Qty", align="R"),
        text(SKU_X, 466, SKU_W, 24, "SKU"),
        text(NAME_X, 466, WIDTH - MARGIN - NAME_X, 24, "Item"),
        Rule(MARGIN, 496, INNER, 2),
    ]
    bottom = SIZES["return"][1] - MARGIN
    # Item names on two lines when everything fits so; otherwise one line each, to list as many lines as we can.
    rows, complete = _line_rows(d["lines"], LINES_Y, bottom, 2)
    if not complete:
        rows, _ = _line_rows(d["lines"], LINES_Y, bottom, 1)
    return els + rows


def _shipping(d: Fields) -> list[Element]:
    to: f.Address = d["ship_to"]
    col_x = 480
    col_w = WIDTH - MARGIN - col_x
    ship_to, _ = stack(
        MARGIN,
        210,
        INNER,
        [
            (24, "SHIP TO", 1),
            (48, to.name, 2),
            *[(40, street, 1) for street in (to.line1, to.line2) if street],
            (52, f"{to.postcode} {to.city}", 1),
            (40, to.country, 1),
        ],
        gap=6,
    )  # at most 24+102+40+40+52+40 + 5 gaps = 328 dots: ends at 538, above the rule at 560
    return [
        text(MARGIN, 20, 440, 20, "FROM"),
        *[text(MARGIN, 44 + i * 26, 440, 22, line) for i, line in enumerate(d["ship_from"].lines())],
        text(col_x, 20, col_w, 44, d["carrier"], max_lines=2, align="R"),
        text(col_x, 124, col_w, 20, "ORDER", align="R"),
        text(col_x, 148, col_w, 36, d["order"], align="R"),
        Rule(MARGIN, 196, INNER, 4),
        *ship_to,
        Rule(MARGIN, 560, INNER, 4),
        text(MARGIN, 574, INNER, 22, "TRACKING"),
        *code_with_text(d["tracking_bars"], MARGIN, 602, INNER, 150, 3, 34),
        Rule(MARGIN, 810, INNER, 4),
        text(MARGIN, 824, INNER, 22, "SSCC"),
        # GS1 logistic label: (00) SSCC at 0.5 mm modules (4 dots), as tall as the space allows.
        *code_with_text(d["sscc_bars"], MARGIN, 852, INNER, 262, 4, 38),
    ]


LAYOUTS: dict[str, Callable[[Fields], list[Element]]] = {
    "bin": _bin,
    "product": _product,
    "tote": _tote,
    "pickup": _pickup,
    "return": _return,
    "shipping": _shipping,
}


def layout(kind: str, fields: Fields) -> Label:
    """The thermal label layout of ``kind`` for already-read ``fields``."""
    width, height = SIZES[kind]
    return Label(kind, width, height, LAYOUTS[kind](fields), fields["copies"])
