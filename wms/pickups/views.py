"""The QR code of a pickup code, for the channel's message to the customer (``pickup.qr_url`` of the order view):
no sign-in, since the customer's phone opens it, and it shows nothing but the code in its own URL."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort

from labels.barcodes import qr_matrix, svg_qr

bp = Blueprint("pickups", __name__)

#: what a pickup code may be (wms.orders.service makes them of this alphabet)
_CODE = re.compile(r"^[A-Z0-9]{4,32}$")


@bp.get("/p/<code>.svg")
def pickup_qr(code: str):
    if not _CODE.match(code):
        abort(404)
    svg = svg_qr(qr_matrix(code), "60mm")
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
