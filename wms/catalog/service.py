"""Products and their barcodes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
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


def _apply_product(session: Session, sku: str, data: dict[str, Any], field_prefix: str = "") -> tuple[Product, bool]:
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
        return _upsert_product(sku, data)
    except IntegrityError:
        # Another request created this sku (or took one of these barcodes) between the locking read, which found
        # nothing to lock, and the insert: once more, and the product is updated or the barcode reported taken.
        return _upsert_product(sku, data)


def _upsert_product(sku: str, data: dict[str, Any]) -> tuple[Product, bool]:
    with unit_of_work() as session:
        return _apply_product(session, sku, data)


def import_products(rows: Iterable[dict[str, Any]], batch_size: int = 500, progress=None) -> dict[str, int]:
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
                        _product, created = _apply_product(session, row["sku"], row)
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


# --- reads for the staff product pages -------------------------------------------------------------------------
# (added for the products pages: wms/catalog/views.py)

#: products per page of the product list
PRODUCTS_PER_PAGE = 50


@dataclass(frozen=True)
class LocationStock:
    """Sellable stock of one product at one location (from its stock level)."""

    location: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str
    barcodes: list[str]
    #: one entry per visible location that has a stock level for the product, in the order of the locations
    stock: list[LocationStock]

    @property
    def on_hand(self) -> int:
        return sum(s.on_hand for s in self.stock)

    @property
    def available(self) -> int:
        return sum(s.available for s in self.stock)


@dataclass(frozen=True)
class ProductPage:
    query: str
    items: list[ProductRow]
    page: int
    pages: int
    total: int
    #: codes of the locations whose stock is shown
    locations: list[str]


@dataclass(frozen=True)
class BinStock:
    location: str
    bin: str
    bin_kind: str
    lot: str
    status: str
    qty: int


@dataclass(frozen=True)
class ProductDetail:
    product: Product
    barcodes: list[Barcode]
    #: sellable stock per visible location (stock levels)
    stock: list[LocationStock]
    #: every unit on hand by bin at the visible locations (any status, any bin kind)
    bins: list[BinStock]
    #: the visible locations: (code, name)
    locations: list[tuple[str, str]]


def _name_matches(query: str):
    # ILIKE folds case on PostgreSQL; SQLite's LIKE folds ASCII only, so "łopata" would miss "Łopata": the usual
    # spellings of the query are tried as well.
    spellings = {query, query.lower(), query.upper(), query.capitalize(), query.title()}
    return or_(*(Product.name.icontains(s, autoescape=True) for s in spellings))


def search_products(user, query: str = "", page: int = 1, per_page: int | None = None) -> ProductPage:
    """A page of products matching ``query`` (part of the sku or name, or a barcode: part of its digits or any
    form of its GTIN), by sku, with their sellable stock at the locations ``user`` may see. No locks."""
    from wms.auth.service import visible_locations
    from wms.stock.models import StockLevel

    per_page = per_page or PRODUCTS_PER_PAGE
    query = (query or "").strip()[:100]
    locations = visible_locations(user)
    statement = select(Product)
    if query:
        conditions = [Product.sku.icontains(query, autoescape=True), _name_matches(query)]
        if query.isdigit():
            conditions.append(
                select(Barcode.id)
                .where(Barcode.product_id == Product.id, Barcode.code.contains(query, autoescape=True))
                .exists()
            )
            try:
                gtin = validate_gtin(query)
            except ValueError:
                gtin = None
            if gtin:
                conditions.append(
                    select(Barcode.id).where(Barcode.product_id == Product.id, Barcode.gtin == gtin).exists()
                )
        statement = statement.where(or_(*conditions))
    session = db.session
    total = session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    products = list(
        session.execute(
            statement.options(selectinload(Product.barcodes))
            .order_by(Product.sku)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).scalars()
    )
    levels: dict[tuple[int, int], tuple[int, int]] = {}
    if products and locations:
        rows = session.execute(
            select(
                StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand_sellable, StockLevel.reserved
            ).where(
                StockLevel.product_id.in_([p.id for p in products]),
                StockLevel.location_id.in_([loc.id for loc in locations]),
            )
        )
        levels = {(pid, lid): (on_hand, reserved) for pid, lid, on_hand, reserved in rows}
    items = [
        ProductRow(
            sku=p.sku,
            name=p.name,
            barcodes=[b.code for b in p.barcodes],
            stock=[LocationStock(loc.code, *levels[(p.id, loc.id)]) for loc in locations if (p.id, loc.id) in levels],
        )
        for p in products
    ]
    return ProductPage(query, items, page, pages, total, [loc.code for loc in locations])


def product_detail(user, sku: str) -> ProductDetail:
    """The product ``sku`` with its barcodes, its sellable stock per location and every unit by bin, at the
    locations ``user`` may see. Raises NotFound. No locks."""
    from wms.auth.service import visible_locations
    from wms.locations.models import Bin, Location
    from wms.stock.models import StockLevel, StockQuant

    session = db.session
    product = session.execute(
        select(Product).options(selectinload(Product.barcodes)).where(Product.sku == sku)
    ).scalar_one_or_none()
    if product is None:
        raise NotFound(f"no product with sku {sku!r}", {"sku": sku})
    locations = visible_locations(user)
    ids = [loc.id for loc in locations]
    order = {loc.id: i for i, loc in enumerate(locations)}
    levels = session.execute(
        select(StockLevel.location_id, StockLevel.on_hand_sellable, StockLevel.reserved).where(
            StockLevel.product_id == product.id, StockLevel.location_id.in_(ids)
        )
    ).all()
    codes = {loc.id: loc.code for loc in locations}
    stock = [
        LocationStock(codes[lid], on_hand, reserved)
        for lid, on_hand, reserved in sorted(levels, key=lambda r: order[r[0]])
    ]
    quants = session.execute(
        select(
            StockQuant.location_id, Bin.code, Bin.kind, Bin.sequence, StockQuant.lot, StockQuant.status, StockQuant.qty
        )
        .join(Bin, Bin.id == StockQuant.bin_id)
        .join(Location, Location.id == StockQuant.location_id)
        .where(StockQuant.product_id == product.id, StockQuant.location_id.in_(ids), StockQuant.qty > 0)
    ).all()
    quants.sort(key=lambda r: (order[r[0]], r[3], r[1], r[4], r[5]))
    bins = [BinStock(codes[lid], code, kind, lot, status, qty) for lid, code, kind, _seq, lot, status, qty in quants]
    return ProductDetail(
        product=product,
        barcodes=list(product.barcodes),
        stock=stock,
        bins=bins,
        locations=[(loc.code, loc.name) for loc in locations],
    )
