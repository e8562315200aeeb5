"""Integration endpoints (integration token): locations, bins, products, receipts, adjustments, stock."""

from __future__ import annotations

from flask import current_app, g, request

from wms.api import bp, check_path, parse_body, require
from wms.api.actors import api_actor, api_device
from wms.api.schemas import AdjustmentIn, BinIn, LocationIn, MoveIn, ProductIn, ReceiptIn
from wms.auth.models import MANAGER_ROLES
from wms.catalog.models import Product
from wms.catalog.service import upsert_product
from wms.locations.models import Bin, Location
from wms.locations.service import upsert_location
from wms.stock.bins import upsert_bin
from wms.stock.service import adjust, move, stock_items
from wms.tasks.service import receive  # a delivery into a dock bin opens a put-away task
from wms.timeutil import isoformat

#: longest codes the database stores
LOCATION_CODE_MAX = Location.__table__.c.code.type.length
BIN_CODE_MAX = Bin.__table__.c.code.type.length
SKU_MAX = Product.__table__.c.sku.type.length
#: staff who move stock bin to bin on a handheld (``POST /moves``), besides integrations
MOVERS = ("picker", "manager", "admin")


def location_view(location: Location) -> dict:
    return {
        "code": location.code,
        "name": location.name,
        "kind": location.kind,
        "ships": location.ships,
        "pickup": location.pickup,
        "pickup_hold_days": location.pickup_hold_days,
        "priority": location.priority,
        # The zone in force: its own, else the setting it follows.
        "timezone": location.timezone or current_app.config["TIMEZONE"],
        "updated_at": isoformat(location.updated_at),
    }


def bin_view(bin_: Bin) -> dict:
    return {"code": bin_.code, "location": bin_.location.code, "kind": bin_.kind, "sequence": bin_.sequence}


def product_view(product: Product) -> dict:
    return {
        "sku": product.sku,
        "name": product.name,
        "barcodes": [b.code for b in product.barcodes],
        "track_lots": product.track_lots,
        "updated_at": isoformat(product.updated_at),
    }


@bp.put("/locations/<code>")
@require("integration")
def put_location(code: str):
    body = parse_body(LocationIn, check_path({"code": (code, LOCATION_CODE_MAX)}))
    location, created = upsert_location(code, body.model_dump(), actor=api_actor())
    return location_view(location), 201 if created else 200


@bp.put("/locations/<code>/bins/<path:bin_code>")
@require("integration")
def put_bin(code: str, bin_code: str):
    body = parse_body(BinIn, check_path({"bin": (bin_code, BIN_CODE_MAX)}))
    bin_, created = upsert_bin(code, bin_code, body.model_dump(), actor=api_actor())
    return bin_view(bin_), 201 if created else 200


@bp.put("/products/<path:sku>")
@require("integration")
def put_product(sku: str):
    body = parse_body(ProductIn, check_path(skus={"sku": (sku, SKU_MAX)}))
    product, created = upsert_product(sku, body.model_dump(), actor=api_actor())
    return product_view(product), 201 if created else 200


@bp.post("/receipts")
@require("integration")
def post_receipt():
    body = parse_body(ReceiptIn)
    result, created = receive(
        body.location,
        body.bin,
        body.reference,
        [line.model_dump() for line in body.lines],
        actor=api_actor(),
        device=api_device(),
    )
    return result, 201 if created else 200


@bp.post("/adjustments")
@require("integration")
def post_adjustment():
    body = parse_body(AdjustmentIn)
    result = adjust(
        body.location,
        body.bin,
        body.sku,
        body.delta,
        body.reason,
        lot=body.lot or "",
        status=body.status,
        actor=api_actor(),
        device=api_device(),
    )
    return result, 201


@bp.post("/moves")
@require("integration", staff_roles=MOVERS)
def post_move():
    body = parse_body(MoveIn)
    # A picker moves stock only at their home location (another location answers 404); managers and admins
    # anywhere, like an integration.
    user = g.get("user")
    home = user.location_id if user is not None and user.role not in MANAGER_ROLES else None
    result = move(
        body.location,
        body.from_bin,
        body.to_bin,
        body.sku,
        body.qty,
        lot=body.lot or "",
        actor=api_actor(),
        device=api_device(),
        home_location_id=home,
    )
    return result, 201


@bp.get("/stock")
@require("integration")
def get_stock():
    return {"items": stock_items(request.args.get("sku") or None, request.args.get("location") or None)}
