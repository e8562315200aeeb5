"""Reads for the staff product pages (``wms/catalog/views.py``): no locks, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from wms.auth.models import User
from wms.auth.service import visible_locations
from wms.catalog.models import Barcode, Product
from wms.catalog.rules import validate_gtin
from wms.errors import NotFound
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.stock.models import StockLevel, StockMovement, StockQuant

#: products per page of the product list
PRODUCTS_PER_PAGE = 50
#: ledger rows the product page lists
RECENT_MOVEMENTS = 20


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
    #: the order (:func:`product_sort`)
    sort: str = "sku"
    descending: bool = False

    def sort_arg(self, key: str) -> str:
        """``?sort=`` for a click on ``key``'s header: ascending first, descending when it is the ascending order."""
        return f"-{key}" if key == self.sort and not self.descending else key

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


@dataclass(frozen=True)
class BinStock:
    location: str
    bin: str
    bin_kind: str
    lot: str
    status: str
    qty: int


@dataclass(frozen=True)
class MovementRow:
    """A ledger row as the product page lists it: what moved, from where to where, who and on which device."""

    at: datetime
    reason: str
    qty: int
    lot: str
    #: ``LOC/BIN`` of each side, None for the side that is outside stock (a receipt's source, a shipment's target)
    source: str | None
    target: str | None
    #: the location the row happened at, for the time zone its time is shown in
    location: str
    reference: str | None
    actor: str | None
    device: str | None


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
    #: the latest ledger rows at the visible locations, newest first
    movements: list[MovementRow]


def _name_matches(query: str):
    # ILIKE folds case on PostgreSQL; SQLite's LIKE folds ASCII only, so "łopata" would miss "Łopata": the usual
    # spellings of the query are tried as well.
    spellings = {query, query.lower(), query.upper(), query.capitalize(), query.title()}
    return or_(*(Product.name.icontains(s, autoescape=True) for s in spellings))


#: the product list's orders: ``?sort=`` names one, ``-`` first for descending; the sku breaks ties
PRODUCT_SORTS = ("sku", "name", "on_hand", "available")


def product_sort(raw: str | None) -> tuple[str, bool]:
    """The product list's order from ``?sort=``: (key, descending); an unknown key is the default, by sku (links
    outlive changes, and a wrong sort is no reason to refuse the list)."""
    raw = (raw or "").strip()
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    return (key, descending) if key in PRODUCT_SORTS else ("sku", False)


def _matching(query: str):
    """The id, sku and name of the products matching ``query`` (part of the sku or name, or a barcode: part of its
    digits or any form of its GTIN); all of them for an empty query."""
    statement = select(Product.id, Product.sku, Product.name)
    if not query:
        return statement
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
            conditions.append(select(Barcode.id).where(Barcode.product_id == Product.id, Barcode.gtin == gtin).exists())
    return statement.where(or_(*conditions))


def _ordered_products(statement, location_ids: list[int], key: str, descending: bool):
    """``statement`` in the list's order. Stock sorts sum the product's levels at ``location_ids`` per row (a
    correlated sum over an indexed key); by sku and name the database walks the products only."""
    if key in ("on_hand", "available"):
        column = StockLevel.on_hand_sellable if key == "on_hand" else StockLevel.on_hand_sellable - StockLevel.reserved
        first = (
            select(func.coalesce(func.sum(column), 0))
            .where(StockLevel.product_id == Product.id, StockLevel.location_id.in_(location_ids or [-1]))
            .scalar_subquery()
        )
    else:
        first = Product.sku if key == "sku" else Product.name
    order = [first.desc() if descending else first.asc()]
    if key != "sku":
        order.append(Product.sku.asc())
    return statement.order_by(*order)


def _rows(session, products: list, locations: list) -> list[ProductRow]:
    """``products`` ((id, sku, name) rows) with their barcodes and their stock at ``locations``: two reads."""
    ids = [p.id for p in products]
    barcodes: dict[int, list[str]] = {}
    levels: dict[tuple[int, int], tuple[int, int]] = {}
    if ids:
        for product_id, code in session.execute(
            select(Barcode.product_id, Barcode.code).where(Barcode.product_id.in_(ids)).order_by(Barcode.id)
        ):
            barcodes.setdefault(product_id, []).append(code)
    if ids and locations:
        rows = session.execute(
            select(
                StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand_sellable, StockLevel.reserved
            ).where(StockLevel.product_id.in_(ids), StockLevel.location_id.in_([loc.id for loc in locations]))
        )
        levels = {(pid, lid): (on_hand, reserved) for pid, lid, on_hand, reserved in rows}
    return [
        ProductRow(
            sku=p.sku,
            name=p.name,
            barcodes=barcodes.get(p.id, []),
            stock=[LocationStock(loc.code, *levels[(p.id, loc.id)]) for loc in locations if (p.id, loc.id) in levels],
        )
        for p in products
    ]


def search_products(
    user: User, query: str = "", page: int = 1, per_page: int | None = None, sort: str | None = None
) -> ProductPage:
    """A page of products matching ``query`` (part of the sku or name, or a barcode: part of its digits or any
    form of its GTIN), in the order ``sort`` names (:func:`product_sort`; by sku by default), with their sellable
    stock at the locations ``user`` may see. No locks."""
    per_page = per_page or PRODUCTS_PER_PAGE
    query = (query or "").strip()[:100]
    key, descending = product_sort(sort)
    locations = visible_locations(user)
    statement = _matching(query)
    session = db.session
    total = session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ordered = _ordered_products(statement, [loc.id for loc in locations], key, descending)
    products = session.execute(ordered.offset((page - 1) * per_page).limit(per_page)).all()
    items = _rows(session, products, locations)
    return ProductPage(query, items, page, pages, total, [loc.code for loc in locations], key, descending)


#: products read per round trip while the product list's CSV streams
EXPORT_BATCH = 500


def export_products(user: User, query: str = "", sort: str | None = None) -> Iterator[ProductRow]:
    """Every product matching ``query``, in the list's order (:func:`search_products`), a batch at a time: for the
    list's CSV. No locks."""
    query = (query or "").strip()[:100]
    key, descending = product_sort(sort)
    locations = visible_locations(user)
    ordered = _ordered_products(_matching(query), [loc.id for loc in locations], key, descending)
    session = db.session
    # One query, read a batch at a time (a server-side cursor on PostgreSQL): the order is computed once.
    result = session.execute(ordered, execution_options={"yield_per": EXPORT_BATCH})
    for batch in result.partitions():
        yield from _rows(session, batch, locations)


def product_detail(user: User, sku: str) -> ProductDetail:
    """The product ``sku`` with its barcodes, its sellable stock per location and every unit by bin, at the
    locations ``user`` may see. Raises NotFound. No locks."""
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
        movements=recent_movements(product.id, codes),
    )


def recent_movements(product_id: int, codes: dict[int, str], limit: int = RECENT_MOVEMENTS) -> list[MovementRow]:
    """The latest ledger rows of a product that touch a bin at one of the locations ``codes`` (id -> code)."""
    source, target = aliased(Bin), aliased(Bin)
    rows = db.session.execute(
        select(
            StockMovement.created_at,
            StockMovement.reason,
            StockMovement.qty,
            StockMovement.lot,
            source.location_id,
            source.code,
            target.location_id,
            target.code,
            StockMovement.reference,
            StockMovement.actor,
            StockMovement.device,
        )
        .outerjoin(source, source.id == StockMovement.from_bin_id)
        .outerjoin(target, target.id == StockMovement.to_bin_id)
        .where(
            StockMovement.product_id == product_id,
            or_(source.location_id.in_(list(codes)), target.location_id.in_(list(codes))),
        )
        .order_by(StockMovement.id.desc())
        .limit(limit)
    ).all()

    def side(location_id: int | None, bin_code: str | None) -> str | None:
        if location_id is None:
            return None
        return f"{codes.get(location_id, '?')}/{bin_code}"

    return [
        MovementRow(
            at=at,
            reason=reason,
            qty=qty,
            lot=lot,
            source=side(from_loc, from_bin),
            target=side(to_loc, to_bin),
            location=codes.get(to_loc if to_loc is not None else from_loc, ""),
            reference=reference,
            actor=actor,
            device=device,
        )
        for at, reason, qty, lot, from_loc, from_bin, to_loc, to_bin, reference, actor, device in rows
    ]
