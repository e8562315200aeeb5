"""Staff API: ship a packed order (docs/api.md, "Floor endpoints"). A picker ships only at their home location (an
order of another location answers 404); managers and admins everywhere."""

from __future__ import annotations

from flask import g

from wms.api import bp, parse_body, require_staff
from wms.api.schemas import ShipmentIn
from wms.shipping.service import create_shipment


@bp.post("/shipments")
@require_staff("picker", "manager", "admin")
def post_shipment():
    body = parse_body(ShipmentIn)
    parcels = [parcel.model_dump() for parcel in body.parcels]
    return (
        create_shipment(
            body.order_id, body.carrier, body.tracking, parcels, body.printer, g.user, g.device, body.transfer_id
        ),
        201,
    )
