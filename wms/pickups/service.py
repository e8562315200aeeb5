"""The pickup counter: find a customer's order (by pickup code, or order number and surname), hand it over line by
line; what the customer declines goes back to the store's sellable stock (sellable) or to its returns bin for
inspection (opened, damaged). Each public function is one unit of work or a read.

Locks on a handover: the order row (two clerks handing over one order, or a handover racing expiry, are applied
one after the other: the second finds the order no longer ready), then stock levels and quants.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from devices.scan import ScanError, ScanKind, parse_scan
from wms.auth.models import MANAGER_ROLES, User
from wms.catalog.models import Product
from wms.channels.outbox import emit
from wms.errors import InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, BinKind, Location
from wms.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from wms.orders.service import get_order
from wms.stock.bins import first_bin, shelf_for
from wms.stock.models import StockQuant
from wms.stock.service import LedgerEntry, post_entries
from wms.uow import unit_of_work

CONDITIONS = ("sellable", "opened", "damaged")
#: where a declined unit goes: its bin kind and stock status
_DECLINED_TO = {
    "sellable": ("sellable", "sellable"),
    "opened": ("returns", "quarantine"),
    "damaged": ("returns", "damaged"),
}


def _pickup_code(raw: str) -> str:
    """The pickup code in a scan (the QR of the customer's message, the label's barcode) or as typed."""
    text = raw.strip()
    try:
        scan = parse_scan(text)
    except ScanError:
        return text.upper()
    return scan.value.upper() if scan.kind is ScanKind.PICKUP else text.upper()


def _visible_pickup(order: Order | None, user: User, missing: str) -> Order:
    """The order when it is a pickup order of the user's store (any store for a manager); NotFound otherwise, with
    the same message, so that a code of another store tells nothing about it."""
    if (
        order is None
        or order.fulfilment != "pickup"
        or (user.role not in MANAGER_ROLES and order.pickup_location_id != user.location_id)
    ):
        raise NotFound(missing, {})
    return order


def find_pickup(code: str, user: User) -> Order:
    """The pickup order with this code (typed, or scanned from the customer's QR or the bag's label) at the
    user's store. Raises ValidationError (no code), NotFound (no such code here)."""
    if not code or not code.strip():
        raise ValidationError.one("code", "scan or type the pickup code")
    normalised = _pickup_code(code)
    order_id = db.session.execute(select(Order.id).where(Order.pickup_code == normalised)).scalar_one_or_none()
    order = get_order(order_id) if order_id is not None else None
    return _visible_pickup(order, user, f"no pickup order with code {normalised} at this store")


def find_pickup_by_order(order_id: int, surname: str, user: User) -> Order:
    """The pickup order with this number whose customer's name ends with ``surname`` (any case), at the user's
    store. Raises NotFound otherwise (a wrong surname says no more than a wrong number)."""
    missing = f"no pickup order {order_id} for {surname.strip()} at this store"
    try:
        order = get_order(order_id)
    except NotFound:
        raise NotFound(missing, {}) from None
    name = str((order.customer or {}).get("name") or "").strip().casefold()
    wanted = surname.strip().casefold()
    if not wanted or not (name == wanted or name.endswith(" " + wanted)):
        raise NotFound(missing, {})
    return _visible_pickup(order, user, missing)


def hand_over(
    order_id: int, client_id: str, lines: list[dict[str, Any]], user: User, device: str | None = None
) -> tuple[Order, bool]:
    """Hand a ready pickup order over at the counter. ``lines``: ``[{"sku", "collected", "declined", "reason"?,
    "condition"?}]``, every sku on the shelf accounted for (collected + declined = its units there). Collected
    units leave stock (reason ``collect``); declined ones go to the store's sellable shelf (``sellable``: sellable
    and available at once) or its returns bin (``opened``: quarantine, ``damaged``: damaged), reason ``return``.
    The order goes ``collected``, or ``partially_collected`` when anything was declined. (order, False) for a
    retry of the handover that closed it.

    Locks the order row, then stock. Raises NotFound (no such order at the user's store), InvalidState (not ready
    for pickup: not staged yet, collected already, expired, cancelled), ValidationError (a line that does not add up,
    a sku not on the order, a store without the bin a declined unit goes to)."""
    with unit_of_work() as session:
        order = session.execute(
            select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
        order = _visible_pickup(order, user, f"no pickup order {order_id} at this store")
        replay = order.handover_id == client_id and order.status in (
            OrderStatus.COLLECTED,
            OrderStatus.PARTIALLY_COLLECTED,
        )
        if not replay:
            _apply_handover(session, order, client_id, lines, user, device)
    db.session.expire_all()
    return get_order(order_id), not replay


def _apply_handover(
    session, order: Order, client_id: str, lines: list[dict[str, Any]], user: User, device: str | None
) -> None:
    """The handover itself, on the locked order (see :func:`hand_over`)."""
    if order.status != OrderStatus.READY_FOR_PICKUP:
        raise InvalidState(_not_ready(order), {"status": order.status})
    store = session.get(Location, order.pickup_location_id)
    shelf = session.get(Bin, order.shelf_bin_id)
    on_shelf = _units_on_shelf(session, order)
    plan = _plan(order.id, on_shelf, lines)
    entries: list[LedgerEntry] = []
    taken: dict[tuple[int, str], int] = {}
    declined_any = False
    for sku, (product_id, collected, declined, reason, condition) in plan.items():
        common = {"product_id": product_id, "sku": sku, "reference": f"order:{order.id}", "actor": user.username}
        common["device"] = device
        entries += _from_shelf(session, shelf, product_id, collected, "collect", None, "sellable", common, "", taken)
        if declined:
            declined_any = True
            kind, status = _DECLINED_TO[condition]
            target = _declined_bin(session, store, product_id, kind)
            note = f"declined at the counter ({condition})" + (f": {reason}" if reason else "")
            entries += _from_shelf(session, shelf, product_id, declined, "return", target, status, common, note, taken)
        _book_lines(session, order.id, product_id, collected, declined)
    post_entries(session, entries)
    status = OrderStatus.PARTIALLY_COLLECTED if declined_any else OrderStatus.COLLECTED
    order.status = status
    order.handover_id = client_id
    session.add(OrderEvent(order_id=order.id, status=status, actor=user.username, device=device))
    emit(session, "order.updated", order.id, order.channel_id)
    session.flush()


def _not_ready(order: Order) -> str:
    if order.status in (OrderStatus.COLLECTED, OrderStatus.PARTIALLY_COLLECTED):
        return f"order {order.id} was handed over already"
    if order.status == OrderStatus.EXPIRED:
        return f"order {order.id} expired: it was not collected in time"
    if order.status == OrderStatus.CANCELLED:
        return f"order {order.id} was cancelled"
    return f"order {order.id} is not ready for pickup yet ({order.status})"


def _units_on_shelf(session, order: Order) -> dict[str, tuple[int, int]]:
    """sku -> (product id, units of the order on its shelf): picked, not yet collected or declined."""
    rows = session.execute(
        select(Product.sku, OrderLine.product_id, OrderLine.picked - OrderLine.collected - OrderLine.declined)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id == order.id)
    ).all()
    units: dict[str, tuple[int, int]] = {}
    for sku, product_id, left in rows:
        before = units.get(sku, (product_id, 0))[1]
        units[sku] = (product_id, before + int(left or 0))
    return units


def _plan(
    order_id: int, on_shelf: dict[str, tuple[int, int]], lines: list[dict[str, Any]]
) -> dict[str, tuple[int, int, int, str, str]]:
    """sku -> (product id, collected, declined, reason, condition), every sku on the shelf accounted for."""
    errors: list[dict[str, str]] = []
    plan: dict[str, tuple[int, int, int, str, str]] = {}
    named = {line["sku"] for line in lines}
    for i, line in enumerate(lines):
        sku = line["sku"]
        if sku not in on_shelf:
            errors.append({"field": f"lines[{i}].sku", "message": f"{sku} is not on order {order_id}"})
            continue
        if sku in plan:
            errors.append({"field": f"lines[{i}].sku", "message": f"{sku} is named twice"})
            continue
        product_id, units = on_shelf[sku]
        collected, declined = line.get("collected", 0), line.get("declined", 0)
        if collected + declined != units:
            errors.append(
                {
                    "field": f"lines[{i}]",
                    "message": f"{units} unit(s) of {sku} are on the shelf: collected and declined must add up to "
                    f"{units}, not {collected + declined}",
                }
            )
            continue
        condition = line.get("condition") or "sellable"
        plan[sku] = (product_id, collected, declined, line.get("reason") or "", condition)
    for sku, (_product_id, units) in on_shelf.items():
        if units and sku not in named:
            errors.append({"field": "lines", "message": f"{sku}: say how many of its {units} unit(s) were collected"})
    if errors:
        raise ValidationError(errors)
    return plan


def _declined_bin(session, store: Location, product_id: int, kind: str) -> Bin:
    """Sellable: the store's shelf for the product (:func:`wms.stock.bins.shelf_for`); returns: its first returns
    bin."""
    if kind == "sellable":
        found = shelf_for(session, store.id, product_id)
    else:
        found = first_bin(session, store.id, (BinKind.RETURNS,))
    if found is None:
        wanted = "pick or bulk" if kind == "sellable" else "returns"
        raise ValidationError.one("lines", f"{store.code} has no {wanted} bin for declined units")
    return found


def _from_shelf(
    session,
    shelf: Bin,
    product_id: int,
    units: int,
    reason: str,
    target: Bin | None,
    status: str,
    common: dict[str, Any],
    note: str,
    taken: dict[tuple[int, str], int],
) -> list[LedgerEntry]:
    """Ledger entries taking ``units`` of the product off the shelf (lot by lot, as the shelf's quants hold
    them) to ``target`` (None: out of stock) with ``status``."""
    if units <= 0:
        return []
    quants = session.execute(
        select(StockQuant.lot, StockQuant.qty)
        .where(
            StockQuant.bin_id == shelf.id,
            StockQuant.product_id == product_id,
            StockQuant.status == "sellable",
            StockQuant.qty > 0,
        )
        .order_by(StockQuant.lot)
    ).all()
    # (lot, units): the shelf's quants as far as they go; what the books lack is asked of the lot-less quant, which
    # post_entries then refuses with the figures
    takes: list[tuple[str, int]] = []
    left = units
    for lot, qty in quants:
        key = (product_id, lot or "")
        take = min(left, int(qty) - taken.get(key, 0))
        if take > 0:
            taken[key] = taken.get(key, 0) + take
            takes.append((lot or "", take))
            left -= take
    if left > 0:
        takes.append(("", left))
    to_status = status if target is not None else None
    entries = [
        LedgerEntry(
            qty=take,
            lot=lot,
            reason=reason,
            from_bin=shelf,
            from_status="sellable",
            to_bin=target,
            to_status=to_status,
            note=note or None,
            **common,
        )
        for lot, take in takes
    ]
    return entries


def _book_lines(session, order_id: int, product_id: int, collected: int, declined: int) -> None:
    """Spread the collected, then the declined, units over the order's lines of the product (read and written
    here, past any copy of the lines the session holds)."""
    left = {"collected": collected, "declined": declined}
    rows = session.execute(
        select(OrderLine.id, OrderLine.picked - OrderLine.collected - OrderLine.declined)
        .where(OrderLine.order_id == order_id, OrderLine.product_id == product_id)
        .order_by(OrderLine.line_no)
    ).all()
    for line_id, room in rows:
        room = int(room or 0)
        got = min(room, left["collected"])
        left["collected"] -= got
        room -= got
        no = min(room, left["declined"])
        left["declined"] -= no
        if got or no:
            session.execute(
                update(OrderLine)
                .where(OrderLine.id == line_id)
                .values(collected=OrderLine.collected + got, declined=OrderLine.declined + no)
                .execution_options(synchronize_session=False)
            )
