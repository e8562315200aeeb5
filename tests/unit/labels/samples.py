"""Label data used across the label tests: a realistic set, a hostile set, and what each barcode must scan as."""

from __future__ import annotations

import copy
from typing import Any

from labels.barcodes import gs1_check_digit


def with_check(body: str) -> str:
    """``body`` + its GS1 check digit."""
    return body + str(gs1_check_digit(body))


POLISH = "Zażółć gęślą jaźń, Łódź"
SSCC = with_check("37612345000012345")
EAN13 = with_check("590123412345")
INJECTION = "<img src=file:///etc/passwd>"

SHIP_TO = {
    "name": POLISH,
    "line1": "ul. Piotrkowska 104/12",
    "line2": "klatka B",
    "city": "Łódź",
    "postcode": "90-926",
    "country": "Polska",
}
SHIP_FROM = {
    "name": "WMS Warehouse One",
    "line1": "Magazynowa 1",
    "city": "Stryków",
    "postcode": "95-010",
    "country": "PL",
}


def _lines(n: int) -> list[dict[str, Any]]:
    return [
        {
            "sku": f"SKU-{i:04d}",
            "name": f"Koszulka bawełniana żółta, rozmiar M {i}",
            "qty": i % 3 + 1,
            "bin": f"A-{i % 40:02d}-03",
            "order": f"SO-{10000 + i}",
        }
        for i in range(1, n + 1)
    ]


GOOD: dict[str, dict[str, Any]] = {
    "bin": {"code": "A-01-02-03", "location": "WH1 Stryków"},
    "product": {"sku": "TSHIRT-YEL-M", "name": f"Koszulka żółta M — {POLISH}", "gtin": EAN13},
    "tote": {"code": "TOTE-0042"},
    "pickup": {
        "order": "SO-100234",
        "pickup_code": "PU7X3K9Q",
        "customer": "Łukasz Żółkiewski",
        "store": "ST1 Łódź Manufaktura",
        "shelf": "B-07",
    },
    "return": {"rma": "RMA-2024-000123", "order": "SO-100234", "customer": POLISH, "lines": _lines(4)},
    "shipping": {
        "order": "SO-100234",
        "sscc": SSCC,
        "carrier": "InPost Kurier",
        "tracking": "1Z999AA10123456784",
        "ship_to": SHIP_TO,
        "ship_from": SHIP_FROM,
    },
    "picklist": {"wave": "W-2024-0042", "location": "WH1", "lines": _lines(30)},  # 2 A4 pages
    "packing_slip": {"order": "SO-100234", "customer": "Łukasz Żółkiewski", "ship_to": SHIP_TO, "lines": _lines(6)},
}

# Long and hostile values: ZPL/HTML special characters, very long names, many lines, long codes.
LONG = "Bardzo długa nazwa produktu " * 8
NASTY_CODE = "A^B~C_D\\E>F<G"
NASTY: dict[str, dict[str, Any]] = {
    "bin": {"code": NASTY_CODE, "location": LONG},
    "product": {"sku": "SKU_^~\\" * 6, "name": f"{INJECTION} ^XZ^XA~JR {LONG}", "gtin": with_check("1061414100041")},
    "tote": {"code": "T" * 24},
    "pickup": {
        "order": "SO-" + "9" * 40,
        "pickup_code": "PU_^~\\>" + "7" * 12,
        "customer": LONG,
        "store": LONG,
        "shelf": "SHELF-" * 6,
    },
    "return": {"rma": "RMA^_~\\12345678", "order": LONG, "customer": INJECTION, "lines": _lines(40)},
    "shipping": {
        "order": "SO-" + "X" * 30,
        "sscc": SSCC,
        "carrier": LONG,
        "tracking": "JJD0099999999" + "1234567890123",
        "ship_to": {**SHIP_TO, "name": LONG, "line1": LONG, "line2": LONG, "city": LONG},
        "ship_from": {**SHIP_FROM, "name": INJECTION, "line1": LONG},
    },
    "picklist": {"wave": "W^~_\\1", "location": INJECTION, "lines": [{**ln, "name": LONG} for ln in _lines(3)]},
    "packing_slip": {"order": "SO_^~1", "customer": INJECTION, "ship_to": SHIP_TO, "lines": _lines(2)},
}


def expected_codes(kind: str, data: dict[str, Any]) -> list[str]:
    """What a scanner must read off the label (in its plain mode); GS1-128 reads as its element string."""
    gtin = data.get("gtin", "")
    location_code = (data.get("location") or "?").split()[0]
    return sorted(
        {
            # The WMS's own codes carry their kind (devices.scan); the plain code is the text under the bars.
            "bin": [f"$B:{location_code}:{data.get('code', '')}"],
            "tote": ["$T:" + data.get("code", "")],
            "product": [gtin[1:] if len(gtin) == 14 and gtin[0] == "0" else ("01" + gtin if len(gtin) == 14 else gtin)],
            "pickup": [data.get("pickup_code", "")] * 2,  # QR and Code 128
            "return": ["$R:" + data.get("rma", "")],
            "shipping": ["00" + data.get("sscc", ""), data.get("tracking", "")],
            "picklist": ["$W:" + data.get("wave", "")],
            "packing_slip": ["$O:" + str(data.get("order_id") or data.get("order", ""))],
        }[kind]
    )


def sample(kind: str, nasty: bool = False) -> dict[str, Any]:
    """A deep copy, so a test may change it."""
    return copy.deepcopy((NASTY if nasty else GOOD)[kind])
