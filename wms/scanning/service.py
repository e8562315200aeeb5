"""Resolve a scan into what it names in the database (reads only; no locks, no commit).

:func:`resolve_scan` parses a raw code with :func:`devices.scan.parse_scan` and looks it up at a location:

============  ==========================================================================================
scan          resolved as
============  ==========================================================================================
GTIN / GS1    ``product``: the product with that barcode (any of its GTINs), with the scan's lot and expiry
``$B:``       ``bin``: the bin at that location; a bin of another location is ``unknown_code``
``$L:``       ``location``
``$O:``       ``order``: by id, or by the channel's reference when the label had no id
pickup code   ``pickup``: the order with that pickup code (``order_id`` set)
SSCC          ``sscc`` (with the order whose parcel carries it as its tracking number, if any)
``$T:`` etc.  ``tote``, ``return``, ``wave``, ``gs1``: as scanned (nothing to look up yet)
plain code    tried, in the order :func:`wms.scanning.rules.plain_lookups` gives for ``expect``, as a bin of the
              location, a pickup code, an order id or reference, a parcel's tracking number (``order``);
              where a tote is expected, a plain code that names nothing else is a ``tote``
============  ==========================================================================================

Anything that does not parse or names nothing raises :class:`wms.scanning.errors.UnknownCode` (422
``unknown_code``) with a message a picker understands. What fits the task (``wrong_bin``, ``wrong_product``...) is
the caller's business: this module says only what a code is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import BindParameter, Label, bindparam, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from devices.scan import ScanError, ScanKind, ScanResult, parse_scan
from wms.catalog.models import Barcode, Product
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.orders.models import Order, Shipment
from wms.scanning import rules
from wms.scanning.errors import UnknownCode
from wms.scanning.rules import Lookup

__all__ = ["Resolved", "UnknownCode", "resolve_parsed", "resolve_scan"]


@dataclass(frozen=True)
class Resolved:
    """What a scan names. ``kind``: ``product``, ``bin``, ``location``, ``order``, ``pickup``, ``sscc``, ``tote``,
    ``return``, ``wave`` or ``gs1``; ``matched``: what the code was found by (``gtin``, ``code``, ``id``,
    ``reference``, ``pickup_code``, ``tracking``), None when nothing was looked up. Fields that do not apply
    are None; ``scan`` keeps everything the code carried (lot, expiry, serial...)."""

    kind: str
    scan: ScanResult
    value: str
    matched: str | None = None
    product_id: int | None = None
    sku: str | None = None
    name: str | None = None
    bin_id: int | None = None
    bin: str | None = None
    bin_kind: str | None = None
    location_id: int | None = None
    location: str | None = None
    order_id: int | None = None
    order_reference: str | None = None
    order_status: str | None = None
    pickup_code: str | None = None
    tracking: str | None = None

    @property
    def lot(self) -> str | None:
        return self.scan.lot

    @property
    def expiry(self) -> date | None:
        return self.scan.expiry

    def to_dict(self) -> dict[str, Any]:
        """The scan's fields (:meth:`devices.scan.ScanResult.to_dict`) with what was found; JSON-ready."""
        out = self.scan.to_dict()
        out["kind"] = self.kind
        out["value"] = self.value
        for key, val in asdict(self).items():
            if key not in ("kind", "scan", "value") and val is not None:
                out[key] = val
        return out


def resolve_scan(
    raw: str,
    location_id: int | None,
    expect: str | None = None,
    *,
    session: Session | None = None,
    known: KnownProducts | None = None,
) -> Resolved:
    """What ``raw`` names at location ``location_id`` (None: bins only by a full ``$B:`` code), given what the
    person was asked to scan (``expect``: a task's ``next.expect``, or None). Reads only, in ``session`` (default
    ``db.session``: the caller's transaction if one is open).

    Raises UnknownCode for a code that does not parse or names nothing here; ValueError for an unknown
    ``expect``."""
    try:
        scan = parse_scan(raw)
    except ScanError as exc:
        raise _unknown(exc.message, raw, expect, exc.code, exc.detail) from None
    return resolve_parsed(scan, location_id, expect, session=session, known=known)


def resolve_parsed(
    scan: ScanResult,
    location_id: int | None,
    expect: str | None = None,
    *,
    session: Session | None = None,
    known: KnownProducts | None = None,
    known_bins: KnownBins | None = None,
) -> Resolved:
    """:func:`resolve_scan` for an already parsed scan. ``known``: products already read by GTIN-14 (None: no
    product has it), from :func:`product_by_gtin_columns` in the caller's own statement; a GTIN among them is not
    read again. ``known_bins``: bins the caller read already (a task's bins, with its lines); a bin label naming
    one of them exactly is not read again."""
    rules.check_expect(expect)
    session = session or db.session
    if known_bins and scan.kind is ScanKind.BIN and (scan.location, scan.bin) in known_bins:
        bin_id, bin_kind, bin_location_id = known_bins[(scan.location, scan.bin)]
        if location_id is None or bin_location_id == location_id:
            return Resolved(
                "bin",
                scan,
                scan.bin or "",
                "code",
                bin_id=bin_id,
                bin=scan.bin,
                bin_kind=bin_kind,
                location_id=bin_location_id,
                location=scan.location,
            )
    if scan.kind is ScanKind.PLAIN:
        return _resolve_plain(session, scan, scan.value, location_id, expect)
    if known and scan.kind is ScanKind.PRODUCT and scan.gtin14 in known and not rules.try_as_plain_first(scan, expect):
        return _product_found(scan, known[scan.gtin14], expect)
    if rules.try_as_plain_first(scan, expect):
        found = _lookup_plain(session, scan, scan.as_plain() or "", location_id, expect)
        if found is not None:
            return found
        try:
            return _resolve_typed(session, scan, location_id, expect)
        except UnknownCode:
            if rules.plain_is_tote(expect):
                return Resolved("tote", scan, scan.as_plain() or scan.value)
            raise
    return _resolve_typed(session, scan, location_id, expect)


def _unknown(message: str, raw: str, expect: str | None, reason: str, detail: str = "") -> UnknownCode:
    return UnknownCode(message, {"scanned": raw.strip(), "expected": expect, "reason": reason, "detail": detail})


# --- codes that say what they are -----------------------------------------------------------------------------


def _resolve_typed(session: Session, scan: ScanResult, location_id: int | None, expect: str | None) -> Resolved:
    kind = scan.kind
    if kind is ScanKind.PRODUCT:
        return _product(session, scan, expect)
    if kind is ScanKind.BIN:
        return _typed_bin(session, scan, location_id, expect)
    if kind is ScanKind.LOCATION:
        found = session.execute(select(Location.id, Location.code).where(Location.code == scan.location)).first()
        if found is None:
            raise _unknown(rules.location_not_found(scan.value), scan.raw, expect, "not_found")
        return Resolved("location", scan, scan.value, "code", location_id=found.id, location=found.code)
    if kind is ScanKind.ORDER:
        found = _order(session, scan, scan.value)
        if found is None:
            raise _unknown(rules.order_not_found(scan.value), scan.raw, expect, "not_found")
        return found
    if kind is ScanKind.PICKUP:
        found = _pickup(session, scan, scan.value)
        if found is None:
            raise _unknown(rules.pickup_not_found(scan.value), scan.raw, expect, "not_found")
        return found
    if kind is ScanKind.SSCC:
        parcel = _tracking(session, scan, scan.value)
        return replace(parcel, kind="sscc", value=scan.value) if parcel else Resolved("sscc", scan, scan.value)
    # Totes, returns and waves have no table yet; GS1 data without an item names nothing to look up.
    return Resolved(str(kind), scan, scan.value)


# Built once: building a statement costs more than running it on SQLite, and these run on every scan.
_PRODUCT_BY_GTIN = (
    select(Product.id, Product.sku, Product.name)
    .join(Barcode, Barcode.product_id == Product.id)
    .where(Barcode.gtin == bindparam("gtin"))
)
_BIN_COLUMNS = select(
    Bin.id, Bin.code, Bin.kind, Location.id.label("location_id"), Location.code.label("location")
).join(Location, Location.id == Bin.location_id)
_BIN_AT_LOCATION_ID = _BIN_COLUMNS.where(Bin.location_id == bindparam("location_id"), Bin.code == bindparam("code"))
_BIN_AT_LOCATION_CODE = _BIN_COLUMNS.where(Location.code == bindparam("location_code"), Bin.code == bindparam("code"))


def _product(session: Session, scan: ScanResult, expect: str | None) -> Resolved:
    found = session.connection().execute(_PRODUCT_BY_GTIN, {"gtin": scan.gtin14}).first()
    return _product_found(scan, tuple(found) if found is not None else None, expect)


def _product_found(scan: ScanResult, found: tuple[int, str, str] | None, expect: str | None) -> Resolved:
    if found is None:
        raise _unknown(rules.product_not_found(scan.gtin or scan.value), scan.raw, expect, "not_found")
    product_id, sku, name = found
    return Resolved("product", scan, scan.value, "gtin", product_id=product_id, sku=sku, name=name)


#: products read with another statement, by GTIN-14: (id, sku, name), or None for a GTIN no product has
KnownProducts = dict[str, tuple[int, str, str] | None]
#: bins read with another statement, by (location code, bin code): (bin id, bin kind, location id)
KnownBins = dict[tuple[str, str], tuple[int, str, int]]


def product_by_gtin_columns(gtin: BindParameter[str]) -> tuple[Label[int], Label[str], Label[str]]:
    """The id, sku and name of the product with GTIN-14 ``gtin``, as three scalar subqueries a caller adds to a
    statement it runs anyway (a scan's task lines), so that resolving the scan needs no statement of its own."""
    by_gtin = select(Barcode.product_id).where(Barcode.gtin == gtin).limit(1).scalar_subquery()
    return (
        by_gtin.label("scanned_product_id"),
        select(Product.sku).where(Product.id == by_gtin).scalar_subquery().label("scanned_sku"),
        select(Product.name).where(Product.id == by_gtin).scalar_subquery().label("scanned_name"),
    )


def _typed_bin(session: Session, scan: ScanResult, location_id: int | None, expect: str | None) -> Resolved:
    # The label's bin at the label's location in one statement (a scan on the floor is mostly a right bin label);
    # only a miss or another location's label reads more, to say what is wrong.
    found = _bin(session, scan, None, scan.bin or "", location_code=scan.location)
    if found is not None and (location_id is None or found.location_id == location_id):
        return found
    location = session.execute(select(Location.id, Location.code).where(Location.code == scan.location)).first()
    if location is None:
        raise _unknown(rules.bin_not_found(scan.bin or "", scan.location or ""), scan.raw, expect, "not_found")
    if location_id is not None and location.id != location_id:
        here = session.execute(select(Location.code).where(Location.id == location_id)).scalar_one_or_none()
        message = rules.bin_elsewhere(scan.bin or "", location.code, here)
        raise _unknown(message, scan.raw, expect, "other_location")
    found = _bin(session, scan, location.id, scan.bin or "")
    if found is None:
        raise _unknown(rules.bin_not_found(scan.bin or "", location.code), scan.raw, expect, "not_found")
    return found


# --- plain codes ----------------------------------------------------------------------------------------------


def _resolve_plain(
    session: Session, scan: ScanResult, code: str, location_id: int | None, expect: str | None
) -> Resolved:
    found = _lookup_plain(session, scan, code, location_id, expect)
    if found is not None:
        return found
    if rules.plain_is_tote(expect):
        return Resolved("tote", scan, code)
    looked_up = ", ".join(rules.plain_lookups(expect))
    raise _unknown(
        rules.plain_not_found(code, expect, scan.hint),
        scan.raw,
        expect,
        scan.hint or "not_found",
        f"plain code {code!r} found as none of: {looked_up}",
    )


def _lookup_plain(
    session: Session, scan: ScanResult, code: str, location_id: int | None, expect: str | None
) -> Resolved | None:
    orders: dict[Lookup, Resolved] | None = None
    for lookup in rules.plain_lookups(expect):
        if lookup is Lookup.BIN:
            found = _bin(session, scan, location_id, code) if location_id is not None else None
        else:
            if orders is None:
                orders = _orders_named_by(session, scan, code)
            found = orders.get(lookup)
        if found is not None:
            return found
    return None


def _orders_named_by(session: Session, scan: ScanResult, code: str) -> dict[Lookup, Resolved]:
    """The orders a plain code may name, as a pickup code, an order id or reference, a parcel's tracking number:
    one round trip (a UNION of indexed reads) instead of one per lookup, for the codes that name nothing."""

    def branch(how: str, query: Any) -> Any:
        return query.add_columns(literal(how).label("how"))

    # typed NULLs: PostgreSQL will not unite an untyped NULL with a column of the tracking branch
    no_parcel = (
        cast(null(), Shipment.tracking.type).label("tracking"),
        cast(null(), Shipment.id.type).label("shipment_id"),
    )
    branches = [
        branch("pickup", select(*_ORDER_COLUMNS, *no_parcel).where(Order.pickup_code == code.upper())),
        branch("reference", select(*_ORDER_COLUMNS, *no_parcel).where(Order.external_id == code)),
        branch(
            "tracking",
            select(*_ORDER_COLUMNS, Shipment.tracking, Shipment.id.label("shipment_id"))
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Shipment.tracking == code),
        ),
    ]
    order_id = rules.order_id_of(code)
    if order_id is not None:
        branches.append(branch("id", select(*_ORDER_COLUMNS, *no_parcel).where(Order.id == order_id)))
    rows: dict[str, list[Any]] = {"pickup": [], "reference": [], "tracking": [], "id": []}
    for row in session.execute(union_all(*branches)):
        rows[row.how].append(row)
    found: dict[Lookup, Resolved] = {}
    if rows["pickup"]:
        found[Lookup.PICKUP] = _order_resolved(scan, rows["pickup"][0], "pickup", "pickup_code", code.upper())
    if rows["id"]:
        found[Lookup.ORDER] = _order_resolved(scan, rows["id"][0], "order", "id", str(rows["id"][0].id))
    elif len(rows["reference"]) == 1:  # a reference two channels use names neither
        row = rows["reference"][0]
        found[Lookup.ORDER] = _order_resolved(scan, row, "order", "reference", str(row.id))
    if rows["tracking"]:
        row = max(rows["tracking"], key=lambda r: r.shipment_id)  # the newest parcel with that number
        found[Lookup.TRACKING] = _order_resolved(scan, row, "order", "tracking", str(row.id), tracking=row.tracking)
    return found


# --- lookups ----------------------------------------------------------------------------------------------------


def _bin(
    session: Session, scan: ScanResult, location_id: int | None, code: str, location_code: str | None = None
) -> Resolved | None:
    """The bin ``code`` at the location (by id, or by ``location_code``): exactly as written, else the one bin whose
    code differs only in case (a wedge scanner with Caps Lock on, a code typed in lower case)."""
    if location_id is not None:
        rows = session.connection().execute(_BIN_AT_LOCATION_ID, {"location_id": location_id, "code": code}).all()
        query = _BIN_COLUMNS.where(Bin.location_id == location_id)
    else:
        rows = session.connection().execute(_BIN_AT_LOCATION_CODE, {"location_code": location_code, "code": code}).all()
        query = _BIN_COLUMNS.where(Location.code == location_code)
    if not rows:
        rows = session.execute(query.where(func.upper(Bin.code) == code.upper()).limit(2)).all()
    if len(rows) != 1:
        return None
    row = rows[0]
    return Resolved(
        "bin",
        scan,
        row.code,
        "code",
        bin_id=row.id,
        bin=row.code,
        bin_kind=row.kind,
        location_id=row.location_id,
        location=row.location,
    )


_ORDER_COLUMNS = (Order.id, Order.external_id, Order.status, Order.pickup_code)


def _order_resolved(scan: ScanResult, row: Any, kind: str, matched: str, value: str, **extra: Any) -> Resolved:
    return Resolved(
        kind,
        scan,
        value,
        matched,
        order_id=row.id,
        order_reference=row.external_id,
        order_status=row.status,
        pickup_code=row.pickup_code,
        **extra,
    )


def _order(session: Session, scan: ScanResult, value: str) -> Resolved | None:
    """By id (digits), else by the channel's reference when exactly one order has it."""
    order_id = rules.order_id_of(value)
    if order_id is not None:
        row = session.execute(select(*_ORDER_COLUMNS).where(Order.id == order_id)).first()
        if row is not None:
            return _order_resolved(scan, row, "order", "id", str(row.id))
    rows = session.execute(select(*_ORDER_COLUMNS).where(Order.external_id == value).limit(2)).all()
    if len(rows) == 1:
        return _order_resolved(scan, rows[0], "order", "reference", str(rows[0].id))
    return None


def _pickup(session: Session, scan: ScanResult, code: str) -> Resolved | None:
    row = session.execute(select(*_ORDER_COLUMNS).where(Order.pickup_code == code)).first()
    return _order_resolved(scan, row, "pickup", "pickup_code", code) if row is not None else None


def _tracking(session: Session, scan: ScanResult, code: str) -> Resolved | None:
    """The order whose parcel carries ``code`` as its tracking number (an SSCC may be written with its (00))."""
    candidates = [code, "00" + code] if scan.kind is ScanKind.SSCC else [code]
    row = session.execute(
        select(*_ORDER_COLUMNS, Shipment.tracking)
        .join(Shipment, Shipment.order_id == Order.id)
        .where(or_(*(Shipment.tracking == c for c in candidates)))
        .order_by(Shipment.id.desc())
    ).first()
    if row is None:
        return None
    return _order_resolved(scan, row, "order", "tracking", str(row.id), tracking=row.tracking)
