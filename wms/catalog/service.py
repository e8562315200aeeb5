"""Products and their barcodes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from wms.catalog.models import Barcode, Product
from wms.catalog.rules import validate_gtin
from wms.errors import NotFound, ValidationError
from wms.extensions import db
from wms.uow import unit_of_work


def get_product(sku: str, session: Session | None = None) -> Product:
    session = session or db.session
    product = session.execute(select(Product).where(Product.sku == sku)).scalar_one_or_none()
    if product is None:
        raise NotFound(f"no product with sku {sku!r}", {"sku": sku})
    return product


def products_by_sku(session: Session, skus: Iterable[str]) -> dict[str, Product]:
    wanted = set(skus)
    if not wanted:
        return {}
    rows = session.execute(select(Product).where(Product.sku.in_(wanted))).scalars()
    return {p.sku: p for p in rows}


def product_by_barcode(session: Session, code: str) -> Product | None:
    """The product a scanned GTIN (any length) belongs to."""
    try:
        gtin = validate_gtin(code)
    except ValueError:
        return None
    return session.execute(select(Product).join(Barcode).where(Barcode.gtin == gtin)).scalar_one_or_none()


def check_barcodes(barcodes: list[str], field: str = "barcodes") -> list[tuple[str, str]]:
    """Validate GTINs; returns (code, gtin14) pairs or raises ValidationError naming each bad one."""
    errors, pairs = [], []
    for index, code in enumerate(barcodes):
        try:
            pairs.append((code, validate_gtin(code)))
        except ValueError as exc:
            errors.append({"field": f"{field}[{index}]", "message": str(exc)})
    if errors:
        raise ValidationError(errors)
    return pairs


def _apply_product(
    session: Session, sku: str, data: dict[str, Any], field_prefix: str = "", actor: str | None = None
) -> tuple[Product, bool]:
    barcodes = data.get("barcodes")
    pairs = check_barcodes(barcodes, f"{field_prefix}barcodes") if barcodes is not None else None
    product = session.execute(
        select(Product).options(selectinload(Product.barcodes)).where(Product.sku == sku).with_for_update()
    ).scalar_one_or_none()
    created = product is None
    if created:
        if not data.get("name"):
            raise ValidationError.one(f"{field_prefix}name", "is required for a new product")
        product = Product(sku=sku, name=data["name"], track_lots=bool(data.get("track_lots", False)))
        session.add(product)
    else:
        if data.get("name"):
            product.name = data["name"]
        if data.get("track_lots") is not None:
            product.track_lots = bool(data["track_lots"])
    if pairs is not None:
        gtins = [g for _c, g in pairs]
        taken = session.execute(
            select(Barcode.gtin, Product.sku).join(Product).where(Barcode.gtin.in_(gtins), Product.sku != sku)
        ).all()
        if taken:
            raise ValidationError(
                [
                    {
                        "field": f"{field_prefix}barcodes[{gtins.index(g)}]",
                        "message": f"already belongs to {s}",
                    }
                    for g, s in taken
                ]
            )
        keep = {b.gtin: b for b in product.barcodes}
        product.barcodes = [keep.get(g) or Barcode(code=c, gtin=g) for c, g in _unique(pairs)]
    product.updated_by = actor
    return product, created


def _unique(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen, out = set(), []
    for code, gtin in pairs:
        if gtin not in seen:
            seen.add(gtin)
            out.append((code, gtin))
    return out


def upsert_product(sku: str, data: dict[str, Any], actor: str | None = None) -> tuple[Product, bool]:
    """Create or update a product and replace its barcodes when given. Locks the product row.

    Raises ValidationError for a bad GTIN or a barcode that belongs to another product.
    """
    try:
        return _upsert_product(sku, data, actor)
    except IntegrityError:
        # Another request created this sku (or took one of these barcodes) between the locking read, which found
        # nothing to lock, and the insert: once more, and the product is updated or the barcode reported taken.
        return _upsert_product(sku, data, actor)


def _upsert_product(sku: str, data: dict[str, Any], actor: str | None) -> tuple[Product, bool]:
    with unit_of_work() as session:
        return _apply_product(session, sku, data, actor=actor)


def import_products(
    rows: Iterable[dict[str, Any]], batch_size: int = 500, progress=None, actor: str | None = None
) -> dict[str, int]:
    """Upsert products from CSV-like rows (``sku,name,barcodes,track_lots``), one transaction per batch.

    Barcodes are separated by ``|``, ``;`` or spaces. Rows with errors are skipped and reported; a batch is
    committed whole. Returns counts: created, updated, failed (and ``errors``: ``[(line, message)]``).
    """
    result: dict[str, Any] = {"created": 0, "updated": 0, "failed": 0, "errors": []}
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if not batch:
            return
        with unit_of_work() as session:
            for line_no, row in batch:
                try:
                    with session.begin_nested():
                        _product, created = _apply_product(session, row["sku"], row, actor=actor)
                    result["created" if created else "updated"] += 1
                except ValidationError as exc:
                    result["failed"] += 1
                    result["errors"].append((line_no, exc.message))
        if progress:
            progress(len(batch))
        batch.clear()

    for line_no, raw in enumerate(rows, start=2):
        sku = (raw.get("sku") or "").strip()
        if not sku:
            result["failed"] += 1
            result["errors"].append((line_no, "sku is empty"))
            continue
        codes = (raw.get("barcodes") or "").replace("|", " ").replace(";", " ").replace(",", " ").split()
        track = (raw.get("track_lots") or "").strip().lower() in {"1", "true", "yes", "y"}
        batch.append((line_no, {"name": (raw.get("name") or "").strip(), "barcodes": codes, "track_lots": track}))
        batch[-1][1]["sku"] = sku
        if len(batch) >= batch_size:
            flush()
    flush()
    return result
