"""Reads of the managers' stock pages: one search box for a sku, a name or a scanned barcode, and a product's page
(its stock by location and bin, availability per channel, open orders and transfers, and its stock card: the
ledger with who, which device, why and what document). Reads only; no locks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased

from devices.scan import ScanError, ScanKind, parse_scan
from wms.catalog.models import Barcode, Product
from wms.channels.availability import availability
from wms.channels.models import Channel
from wms.csvcells import csv_text
from wms.extensions import db
from wms.locations.models import SELLABLE_BIN_KINDS, Bin, BinKind, Location
from wms.orders.models import Order, OrderLine
from wms.stock.models import MOVEMENT_REASONS, Reservation, StockLevel, StockMovement, StockQuant
from wms.tables import Column, Spec
from wms.timeutil import isoformat
from wms.transfers.models import OPEN_TRANSFER_STATUSES, Transfer, TransferLine
from wms.transfers.service import TRANSFERS_CHANNEL

#: results of the search box, and rows of a stock card page
SEARCH_LIMIT = 20
CARD_PAGE = 50
#: the longest search text taken
MAX_QUERY = 200


# --- search ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    sku: str
    name: str
    on_hand: int
    reserved: int
    #: the lot a scanned GS1 code named, when it named one
    lot: str | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def search(text: str, limit: int = SEARCH_LIMIT) -> list[Hit]:
    """Products whose sku or name contains ``text`` (any case), or whose barcode it is: a scanned EAN/GTIN, or a GS1
    code, whose lot comes back with the product. Exact sku and barcode matches first, then by sku."""
    text = (text or "").strip()[:MAX_QUERY]
    if not text:
        return []
    lot = None
    gtin = None
    try:
        scan = parse_scan(text)
    except ScanError:
        scan = None
    if scan is not None and scan.kind is ScanKind.PRODUCT:
        gtin, lot = scan.gtin14, scan.lot
    like = f"%{_escape_like(text.lower())}%"
    matches = or_(func.lower(Product.sku).like(like, escape="\\"), func.lower(Product.name).like(like, escape="\\"))
    if gtin:
        by_barcode = select(Barcode.product_id).where(Barcode.gtin == gtin)
        matches = or_(matches, Product.id.in_(by_barcode))
    exact = func.lower(Product.sku) == text.lower()
    found = db.session.execute(
        select(Product.id, Product.sku, Product.name).where(matches).order_by(exact.desc(), Product.sku).limit(limit)
    ).all()
    if not found:
        return []
    # The levels of the products found only (summing every level of the chain first cost ~0.3 s at 2M levels).
    levels = {
        product_id: (int(on_hand or 0), int(reserved or 0))
        for product_id, on_hand, reserved in db.session.execute(
            select(StockLevel.product_id, func.sum(StockLevel.on_hand_sellable), func.sum(StockLevel.reserved))
            .where(StockLevel.product_id.in_([row.id for row in found]))
            .group_by(StockLevel.product_id)
        )
    }
    return [Hit(row.sku, row.name or "", *levels.get(row.id, (0, 0)), lot if gtin else None) for row in found]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- a product's page ---------------------------------------------------------------------------------------------


@dataclass
class LocationStock:
    """A product's units at one location, by where they are."""

    code: str
    name: str
    sellable: int = 0
    reserved: int = 0
    in_transit: int = 0
    pickup_shelves: int = 0
    returns: int = 0
    other: int = 0
    bins: list[dict[str, Any]] = field(default_factory=list)

    @property
    def available(self) -> int:
        return self.sellable - self.reserved


@dataclass(frozen=True)
class ProductPage:
    sku: str
    name: str
    barcodes: list[str]
    track_lots: bool
    locations: list[LocationStock]
    channels: list[dict[str, Any]]
    #: the product's id: its open orders and transfers are tables of :func:`page_specs`
    product_id: int


def product_page(sku: str) -> ProductPage | None:
    """Everything the product's page shows but its stock card (:func:`stock_card`); None for an unknown sku."""
    product = db.session.execute(select(Product).where(Product.sku == sku)).scalar_one_or_none()
    if product is None:
        return None
    places: dict[int, LocationStock] = {}
    for loc in db.session.execute(select(Location).order_by(Location.kind.desc(), Location.code)).scalars():
        places[loc.id] = LocationStock(loc.code, loc.name)
    for location_id, reserved in db.session.execute(
        select(StockLevel.location_id, StockLevel.reserved).where(StockLevel.product_id == product.id)
    ):
        places[location_id].reserved = int(reserved)
    quants = db.session.execute(
        select(Bin.location_id, Bin.code, Bin.kind, StockQuant.lot, StockQuant.status, StockQuant.qty)
        .join(Bin, Bin.id == StockQuant.bin_id)
        .where(StockQuant.product_id == product.id, StockQuant.qty != 0)
        .order_by(Bin.location_id, Bin.sequence, Bin.code, StockQuant.lot, StockQuant.status)
    ).all()
    for location_id, bin_code, kind, lot, status, qty in quants:
        place = places[location_id]
        place.bins.append({"bin": bin_code, "kind": kind, "lot": lot, "status": status, "qty": int(qty)})
        if status == "in_transit":
            place.in_transit += qty
        elif kind == BinKind.PICKUP:
            place.pickup_shelves += qty
        elif kind in (BinKind.RETURNS, BinKind.QUARANTINE) or status in ("quarantine", "damaged"):
            place.returns += qty
        elif kind in SELLABLE_BIN_KINDS and status == "sellable":
            place.sellable += qty
        else:
            place.other += qty
    channels = []
    for channel in db.session.execute(
        select(Channel).where(Channel.code != TRANSFERS_CHANNEL).order_by(Channel.code)
    ).scalars():
        (item,) = availability(channel.id, channel.buffer, [product.sku])
        channels.append(
            {"code": channel.code, "name": channel.name, "buffer": channel.buffer, "available": item["available"]}
        )
    return ProductPage(
        sku=product.sku,
        name=product.name or "",
        barcodes=[
            b.code for b in db.session.execute(select(Barcode).where(Barcode.product_id == product.id)).scalars()
        ],
        track_lots=bool(product.track_lots),
        locations=[p for p in places.values() if p.bins or p.reserved],
        channels=channels,
        product_id=product.id,
    )


def page_specs(page: ProductPage, product_id: int) -> list[Spec]:
    """The product page's tables but its stock card: stock by location, channels, open orders, open transfers."""
    return [
        Spec(
            "where",
            (
                Column("code", _l("Location")),
                Column("sellable", _l("Sellable"), numeric=True),
                Column("reserved", _l("Reserved"), numeric=True),
                Column("available", _l("Available"), numeric=True),
                Column("in_transit", _l("In transit"), numeric=True),
                Column("pickup_shelves", _l("Pickup shelves"), numeric=True),
                Column("returns", _l("Returns and quarantine"), numeric=True),
                Column("other", _l("Dock, staging"), numeric=True),
                Column("bins_text", _l("Bins")),
            ),
            lambda: [_where_row(place) for place in page.locations],
            "code",
        ),
        Spec(
            "channels",
            (
                Column("code", _l("Channel")),
                Column("name", _l("Name")),
                Column("buffer", _l("Buffer"), numeric=True),
                Column("available", _l("Available"), numeric=True),
            ),
            lambda: page.channels,
            "code",
        ),
        Spec(
            "orders",
            (
                Column("id", _l("Order"), numeric=True),
                Column("reference", _l("Reference")),
                Column("channel", _l("Channel")),
                Column("status", _l("Status")),
                Column("location", _l("Where")),
                Column("reserved", _l("Reserved"), numeric=True),
                Column("created_at", _l("Placed")),
            ),
            _open_orders(product_id),
            "-id",
        ),
        Spec(
            "transfers",
            (
                Column("id", _l("Transfer"), numeric=True),
                Column("status", _l("Status")),
                Column("from", _l("From")),
                Column("to", _l("To")),
                Column("shipped", _l("Shipped"), numeric=True),
                Column("qty", _l("Units"), numeric=True),
            ),
            _open_transfers(product_id),
            "-id",
        ),
    ]


def _where_row(place: LocationStock) -> dict[str, Any]:
    bins = "; ".join(
        f"{b['bin']} {b['qty']}"
        + (f" lot {b['lot']}" if b["lot"] else "")
        + ("" if b["status"] == "sellable" else f" {b['status']}")
        for b in place.bins
    )
    return {**place.__dict__, "available": place.available, "bins_text": bins}


def _open_orders(product_id: int) -> Select:
    """Orders with units of the product still reserved somewhere, per order and location."""
    return (
        select(
            Order.id.label("id"),
            Order.external_id.label("reference"),
            Channel.code.label("channel"),
            Order.status.label("status"),
            Location.code.label("location"),
            func.sum(Reservation.open_qty).label("reserved"),
            Order.created_at.label("created_at"),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .join(Channel, Channel.id == Order.channel_id)
        .join(Location, Location.id == Reservation.location_id)
        .where(OrderLine.product_id == product_id, Reservation.open_qty > 0, Channel.code != TRANSFERS_CHANNEL)
        .group_by(Order.id, Order.external_id, Order.status, Order.created_at, Channel.code, Location.code)
    )


def _open_transfers(product_id: int) -> Select:
    source, target = aliased(Location), aliased(Location)
    return (
        select(
            Transfer.id.label("id"),
            Transfer.status.label("status"),
            source.code.label("from"),
            target.code.label("to"),
            TransferLine.shipped.label("shipped"),
            TransferLine.qty.label("qty"),
        )
        .join(TransferLine, TransferLine.transfer_id == Transfer.id)
        .join(source, source.id == Transfer.from_location_id)
        .join(target, target.id == Transfer.to_location_id)
        .where(TransferLine.product_id == product_id, Transfer.status.in_(OPEN_TRANSFER_STATUSES))
    )


def search_spec(hits: list[Hit]) -> Spec:
    """The search's hits as a table (sorted and exported like the others; the search itself ranks them)."""
    return Spec(
        "hits",
        (
            Column("sku", _l("Sku")),
            Column("name", _l("Name")),
            Column("on_hand", _l("On hand"), numeric=True),
            Column("reserved", _l("Reserved"), numeric=True),
            Column("available", _l("Available"), numeric=True),
        ),
        lambda: [{**h.__dict__, "available": h.available, "rank": i} for i, h in enumerate(hits)],
        "rank",
    )


# --- the stock card -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardFilter:
    """What a stock card shows: a location (code), a reason, a lot, a day range (inclusive), an actor."""

    location: str | None = None
    reason: str | None = None
    lot: str | None = None
    since: date | None = None
    until: date | None = None
    actor: str | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.location, self.reason, self.lot, self.since, self.until, self.actor))


def parse_card_filter(args: dict[str, str]) -> tuple[CardFilter, list[str]]:
    """The filter of a stock card from query arguments; problems are named and the bad part left out."""
    problems = []

    def day(name: str) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            problems.append(f"{name}: {value!r} is not a date (YYYY-MM-DD)")
            return None

    reason = (args.get("reason") or "").strip() or None
    if reason is not None and reason not in MOVEMENT_REASONS:
        problems.append(f"reason: one of {', '.join(MOVEMENT_REASONS)}")
        reason = None
    text = {k: ((args.get(k) or "").strip()[:128] or None) for k in ("location", "lot", "actor")}
    return CardFilter(text["location"], reason, text["lot"], day("since"), day("until"), text["actor"]), problems


def _card_query(product_id: int, flt: CardFilter) -> Select[Any]:
    from_bin, to_bin = aliased(Bin), aliased(Bin)
    from_loc, to_loc = aliased(Location), aliased(Location)
    query = (
        select(
            StockMovement.id,
            StockMovement.created_at,
            StockMovement.qty,
            StockMovement.lot,
            from_loc.code.label("from_location"),
            from_bin.code.label("from_bin"),
            StockMovement.from_status,
            to_loc.code.label("to_location"),
            to_bin.code.label("to_bin"),
            StockMovement.to_status,
            StockMovement.reason,
            StockMovement.reference,
            StockMovement.note,
            StockMovement.actor,
            StockMovement.device,
        )
        .outerjoin(from_bin, from_bin.id == StockMovement.from_bin_id)
        .outerjoin(from_loc, from_loc.id == from_bin.location_id)
        .outerjoin(to_bin, to_bin.id == StockMovement.to_bin_id)
        .outerjoin(to_loc, to_loc.id == to_bin.location_id)
        .where(StockMovement.product_id == product_id)
    )
    if flt.location:
        query = query.where(or_(from_loc.code == flt.location, to_loc.code == flt.location))
    if flt.reason:
        query = query.where(StockMovement.reason == flt.reason)
    if flt.lot:
        query = query.where(StockMovement.lot == flt.lot)
    if flt.actor:
        query = query.where(StockMovement.actor == flt.actor)
    if flt.since:
        query = query.where(StockMovement.created_at >= datetime.combine(flt.since, time.min))
    if flt.until:
        query = query.where(StockMovement.created_at < datetime.combine(flt.until + timedelta(days=1), time.min))
    return query


def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "at": r.created_at,
        "qty": int(r.qty),
        "lot": r.lot or "",
        "from": f"{r.from_location}/{r.from_bin}" if r.from_bin else "",
        "from_status": r.from_status or "",
        "to": f"{r.to_location}/{r.to_bin}" if r.to_bin else "",
        "to_status": r.to_status or "",
        "reason": r.reason,
        "reference": r.reference or "",
        "note": r.note or "",
        "actor": r.actor or "",
        "device": r.device or "",
    }


@dataclass(frozen=True)
class CardPage:
    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def stock_card(sku: str, flt: CardFilter, page: int = 1, sort: str = "newest") -> CardPage | None:
    """One page of the product's ledger rows, newest first (``sort`` ``oldest``: oldest first), paged on the
    server; None for an unknown sku."""
    product_id = db.session.execute(select(Product.id).where(Product.sku == sku)).scalar_one_or_none()
    if product_id is None:
        return None
    query = _card_query(product_id, flt)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    pages = max(1, -(-total // CARD_PAGE))
    page = min(max(1, page), pages)
    order = StockMovement.id.asc() if sort == "oldest" else StockMovement.id.desc()
    rows = db.session.execute(query.order_by(order).offset((page - 1) * CARD_PAGE).limit(CARD_PAGE)).all()
    return CardPage([_row(r) for r in rows], page, pages, total)


CARD_COLUMNS = (
    "id",
    "at",
    "qty",
    "lot",
    "from",
    "from_status",
    "to",
    "to_status",
    "reason",
    "reference",
    "note",
    "actor",
    "device",
)
#: the text columns a spreadsheet could take for a formula (the rest are numbers, times and codes)
_TEXT = {"lot", "from", "from_status", "to", "to_status", "reason", "reference", "note", "actor", "device"}


def stock_card_csv(sku: str, flt: CardFilter, batch: int = 1000) -> Iterator[list[str]] | None:
    """The whole stock card (with the filter) as CSV rows, header first, oldest first, read in batches by id so
    that a long ledger streams without being held in memory; text cells made safe for spreadsheets. None for an
    unknown sku."""
    product_id = db.session.execute(select(Product.id).where(Product.sku == sku)).scalar_one_or_none()
    if product_id is None:
        return None
    query = _card_query(product_id, flt)

    def rows() -> Iterator[list[str]]:
        yield list(CARD_COLUMNS)
        after = 0
        while True:
            chunk = db.session.execute(
                query.where(StockMovement.id > after).order_by(StockMovement.id).limit(batch)
            ).all()
            if not chunk:
                return
            for r in chunk:
                row = _row(r)
                yield [
                    csv_text(str(row[c])) if c in _TEXT else (isoformat(row[c]) if c == "at" else str(row[c]))
                    for c in CARD_COLUMNS
                ]
            after = chunk[-1].id

    return rows()


def reasons() -> tuple[str, ...]:
    return MOVEMENT_REASONS


def location_codes() -> list[str]:
    return list(db.session.execute(select(Location.code).order_by(Location.code)).scalars())
