"""Returns: open one (a channel for its customer, or a clerk at a store counter), take its units in, decide what
quarantine holds. Each public function is one unit of work; the decisions are :mod:`wms.returns.rules`; stock
moves through :func:`wms.stock.service.post_entries` (ledger reason ``return``, and ``scrap``); every status
change records a history event and a ``return.updated`` webhook (the return as ``GET /api/v1/returns/{id}``
shows it).

Locks: the order row while a return is opened (two requests for the same units are judged one after the other),
the return row during an intake or a quarantine decision (then stock levels and quants, as every stock move).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from wms.auth.models import MANAGER_ROLES, User
from wms.catalog.models import Product
from wms.channels.outbox import emit
from wms.errors import Forbidden, InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, BinKind, Location, LocationKind
from wms.orders.models import Order, OrderLine, Shipment
from wms.returns import rules
from wms.returns.models import (
    DECISIONS,
    Decision,
    Disposition,
    Return,
    ReturnEvent,
    ReturnIntake,
    ReturnItem,
    ReturnLine,
    ReturnMethod,
    ReturnStatus,
)
from wms.stock.bins import first_bin, shelf_for
from wms.stock.service import LedgerEntry, post_entries
from wms.timeutil import isoformat, utcnow
from wms.uow import unit_of_work

#: the alphabet of RMA codes: no 0/O or 1/I to misread on a parcel
_RMA_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: the largest return id the API takes (larger ones are answered 404 before any query)
MAX_RETURN_ID = 2**31 - 1


def _new_rma() -> str:
    return "RMA-" + "".join(secrets.choice(_RMA_ALPHABET) for _ in range(8))


# --- opening a return ------------------------------------------------------------------------------------------


def request_return(
    order_id: int,
    method: str,
    lines: list[dict[str, Any]],
    *,
    store: str | None = None,
    channel_id: int | None = None,
    user: User | None = None,
    actor: str | None = None,
    device: str | None = None,
) -> Return:
    """Open a return of ``lines`` (``[{"sku", "qty", "reason"?}]``) of an order: by its channel (``channel_id``),
    or by a clerk at a store counter (``user``: method ``store``, their own store).

    Locks the order row. Raises NotFound (no such order, or another channel's), Forbidden (a clerk naming another
    store, or a role that may not), ValidationError (a sku never bought on the order, more units than were sold and
    not returned yet, method ``store`` without a store, an unknown store)."""
    with unit_of_work() as session:
        order = session.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one_or_none()
        if order is None or (channel_id is not None and order.channel_id != channel_id):
            raise NotFound(f"no order {order_id}", {"order_id": order_id})
        location = _expected_location(session, order, method, store, user)
        planned = rules.plan_request(
            order.id,
            _bought(session, order.id),
            [rules.Asked(line["sku"], line["qty"], line.get("reason") or "") for line in lines],
        )
        ret = Return(
            rma=_new_rma(),
            order_id=order.id,
            channel_id=order.channel_id,
            method=method,
            location_id=location.id,
            status=ReturnStatus.REQUESTED,
        )
        ret.lines = [
            ReturnLine(line_no=i, order_line_id=p.order_line_id, product_id=p.product_id, qty=p.qty, reason=p.reason)
            for i, p in enumerate(planned, start=1)
        ]
        session.add(ret)
        session.flush()
        _record(session, ret, ReturnStatus.REQUESTED, actor, device)
        return ret


def _expected_location(session: Session, order: Order, method: str, store: str | None, user: User | None) -> Location:
    if user is not None and user.role not in MANAGER_ROLES:
        if method != ReturnMethod.STORE:
            raise Forbidden("at a store counter a return is handed in there: method store", {"method": method})
        home = session.get(Location, user.location_id) if user.location_id else None
        if home is None or store != home.code:
            raise Forbidden("a clerk opens returns at their own store", {"store": store})
    if method == ReturnMethod.STORE:
        if not store:
            raise ValidationError.one("store", "method store needs the store where the customer hands it in")
        found = session.execute(select(Location).where(Location.code == store)).scalar_one_or_none()
        if found is None or found.kind != LocationKind.STORE:
            raise ValidationError.one("store", f"{store} is not a store")
        return found
    # Sent back to where the units left from: the last shipment's location, else the store it was collected at.
    shipped_from = session.execute(
        select(Shipment.location_id)
        .where(Shipment.order_id == order.id, Shipment.location_id.is_not(None))
        .order_by(Shipment.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    location_id = shipped_from or order.pickup_location_id
    if location_id is None:
        raise ValidationError.one("order_id", f"order {order.id} has not left any location yet: nothing to return")
    return session.get(Location, location_id)


def _bought(session: Session, order_id: int) -> list[rules.Bought]:
    on_returns = (
        select(ReturnLine.order_line_id, func.sum(ReturnLine.qty).label("qty"))
        .group_by(ReturnLine.order_line_id)
        .subquery()
    )
    rows = session.execute(
        select(
            OrderLine.id, OrderLine.product_id, Product.sku, OrderLine.shipped + OrderLine.collected, on_returns.c.qty
        )
        .join(Product, Product.id == OrderLine.product_id)
        .outerjoin(on_returns, on_returns.c.order_line_id == OrderLine.id)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.line_no)
    ).all()
    return [
        rules.Bought(line_id, product_id, sku, sold or 0, returned or 0)
        for line_id, product_id, sku, sold, returned in rows
    ]


# --- reading ---------------------------------------------------------------------------------------------------


def get_return(return_id: int, channel_id: int | None = None, user: User | None = None) -> Return:
    """The return with its lines and history. Raises NotFound for no such return, another channel's, or one a
    picker or clerk may not see (:func:`may_see`)."""
    ret = None
    if 0 < return_id <= MAX_RETURN_ID:
        ret = db.session.execute(
            select(Return)
            .options(selectinload(Return.lines).selectinload(ReturnLine.items), selectinload(Return.events))
            .where(Return.id == return_id)
        ).scalar_one_or_none()
    if ret is None or (channel_id is not None and ret.channel_id != channel_id) or (user and not may_see(ret, user)):
        raise NotFound(f"no return {return_id}", {"id": return_id})
    return ret


def may_see(ret: Return, user: User) -> bool:
    """Managers see every return; a picker or clerk the ones expected at their location, and at a store every
    return a customer may hand in at any store (method ``store``)."""
    if user.role in MANAGER_ROLES:
        return True
    if ret.location_id == user.location_id:
        return True
    if ret.method != ReturnMethod.STORE or user.location_id is None:
        return False
    home = db.session.get(Location, user.location_id)
    return home is not None and home.kind == LocationKind.STORE


def return_view(ret: Return, session: Session | None = None) -> dict[str, Any]:
    """The API's return: ``{id, rma, order_id, status, method, store, location, lines, refund_due, history}``;
    each line ``{line, sku, qty, reason, received, refund_due, disposition, dispositions}``; ``disposition`` is the
    one every received unit got (None while none came in, or when they differ: ``dispositions`` counts them, a
    quarantined unit counting as what a manager decided for it)."""
    session = session or db.session
    skus = dict(
        session.execute(
            select(Product.id, Product.sku).where(Product.id.in_({line.product_id for line in ret.lines}))
        ).all()
    )
    location = session.get(Location, ret.location_id)
    lines = []
    for line in ret.lines:
        counts: dict[str, int] = defaultdict(int)
        for item in line.items:
            counts[item.decision or item.disposition] += item.qty
        received = sum(item.qty for item in line.items)
        lines.append(
            {
                "line": line.line_no,
                "sku": skus.get(line.product_id),
                "qty": line.qty,
                "reason": line.reason or None,
                "received": received,
                "refund_due": received,
                "disposition": next(iter(counts)) if len(counts) == 1 else None,
                "dispositions": dict(counts),
            }
        )
    view = {
        "id": ret.id,
        "rma": ret.rma,
        "order_id": ret.order_id,
        "status": ret.status,
        "method": ret.method,
        "store": location.code if ret.method == ReturnMethod.STORE else None,
        "location": location.code,
        "lines": lines,
        "refund_due": sum(line["refund_due"] for line in lines),
        "history": [{"status": e.status, "at": isoformat(e.at), "actor": e.actor} for e in ret.events],
        "created_at": isoformat(ret.created_at),
        "updated_at": isoformat(ret.updated_at),
    }
    if ret.method == ReturnMethod.SHIP:
        view["label_url"] = f"/api/v1/returns/{ret.id}/label.pdf"
    return view


def label_data(ret: Return) -> dict[str, Any]:
    """The ``return`` label's fields (labels library): the RMA, the order, the customer and the items."""
    order = db.session.get(Order, ret.order_id)
    products = {
        p.id: p
        for p in db.session.execute(
            select(Product).where(Product.id.in_({line.product_id for line in ret.lines}))
        ).scalars()
    }
    return {
        "rma": ret.rma,
        "order": str(order.id),
        "customer": (order.customer or {}).get("name") or "-",  # a label field may not be blank
        "lines": [
            {"sku": products[line.product_id].sku, "name": products[line.product_id].name, "qty": line.qty}
            for line in ret.lines
        ],
    }


# --- taking units in -------------------------------------------------------------------------------------------


def receive_return(
    return_id: int,
    client_id: str,
    location_code: str,
    lines: list[dict[str, Any]],
    user: User,
    device: str | None = None,
) -> tuple[Return, bool]:
    """Take in units of a return at a location (``lines``: ``[{"sku", "qty", "grade", "disposition"}]``):
    restocked units go to a sellable bin there (at once in availability), quarantined ones to its returns bin
    (status ``quarantine``), scrapped ones to the returns bin and out of stock. (return, False) for a client id
    already used on this return: nothing is applied twice.

    Locks the return row, then stock levels and quants. Raises NotFound (no such return, or one the user may not
    see), Forbidden (a picker or clerk at another location), InvalidState (closed), ValidationError (see
    :func:`wms.returns.rules.plan_intake`; a location without the bins a disposition needs)."""
    with unit_of_work() as session:
        ret = _locked_return(session, return_id, user)
        done = session.execute(
            select(ReturnIntake.id).where(ReturnIntake.return_id == ret.id, ReturnIntake.client_id == client_id)
        ).scalar_one_or_none()
        if done is not None:
            return ret, False
        location = _intake_location(session, ret, location_code, user)
        if ret.status in (ReturnStatus.INSPECTED, ReturnStatus.CLOSED):
            raise InvalidState(f"return {ret.rma} has every unit in already", {"status": ret.status})
        states = [
            rules.LineState(line.id, _sku(session, line.product_id), line.qty, sum(i.qty for i in line.items))
            for line in ret.lines
        ]
        items = rules.plan_intake(
            ret.rma,
            states,
            [rules.Intake(line["sku"], line["qty"], line["grade"], line["disposition"]) for line in lines],
        )
        intake = ReturnIntake(
            return_id=ret.id, client_id=client_id, location_id=location.id, actor=user.username, device=device
        )
        session.add(intake)
        session.flush()
        by_id = {line.id: line for line in ret.lines}
        entries: list[LedgerEntry] = []
        for planned in items:
            line = by_id[planned.return_line_id]
            sku = _sku(session, line.product_id)
            target = _target_bin(session, location, line.product_id, planned.disposition)
            line.items.append(
                ReturnItem(
                    intake_id=intake.id,
                    qty=planned.qty,
                    grade=planned.grade,
                    disposition=planned.disposition,
                    location_id=location.id,
                    bin_id=target.id,
                )
            )
            entries += _intake_entries(ret, line.product_id, sku, planned, target, user.username, device)
        post_entries(session, entries)
        session.flush()
        _settle_status(session, ret, user.username, device)
        return ret, True


def _locked_return(session: Session, return_id: int, user: User | None) -> Return:
    ret = None
    if 0 < return_id <= MAX_RETURN_ID:
        ret = session.execute(select(Return).where(Return.id == return_id).with_for_update()).scalar_one_or_none()
    if ret is None or (user is not None and not may_see(ret, user)):
        raise NotFound(f"no return {return_id}", {"id": return_id})
    return ret


def _intake_location(session: Session, ret: Return, code: str, user: User) -> Location:
    location = session.execute(select(Location).where(Location.code == code)).scalar_one_or_none()
    if location is None:
        raise ValidationError.one("location", f"unknown location {code!r}")
    if user.role not in MANAGER_ROLES and location.id != user.location_id:
        raise Forbidden("units are taken in at your own location", {"location": code})
    if location.id != ret.location_id and not (
        ret.method == ReturnMethod.STORE and location.kind == LocationKind.STORE
    ):
        expected = session.get(Location, ret.location_id).code
        raise ValidationError.one("location", f"return {ret.rma} is expected at {expected}, not {code}")
    return location


def _sku(session: Session, product_id: int) -> str:
    return session.get(Product, product_id).sku


def _target_bin(session: Session, location: Location, product_id: int, disposition: str) -> Bin:
    """Restock: the location's shelf for the product (:func:`wms.stock.bins.shelf_for`). Quarantine and scrap:
    its first returns bin (else quarantine bin)."""
    if disposition == Disposition.RESTOCK:
        found = shelf_for(session, location.id, product_id)
        missing = f"{location.code} has no pick or bulk bin to restock into"
    else:
        found = first_bin(session, location.id, (BinKind.RETURNS, BinKind.QUARANTINE))
        missing = f"{location.code} has no returns bin: add a bin of kind returns"
    if found is None:
        raise ValidationError.one("location", missing)
    return found


def _intake_entries(
    ret: Return, product_id: int, sku: str, item: rules.IntakeItem, target: Bin, actor: str, device: str | None
) -> list[LedgerEntry]:
    common = {"product_id": product_id, "sku": sku, "qty": item.qty, "actor": actor, "device": device}
    reference = f"return:{ret.id}"
    note = f"{ret.rma}, {item.grade}"
    if item.disposition == Disposition.RESTOCK:
        return [
            LedgerEntry(reason="return", to_bin=target, to_status="sellable", reference=reference, note=note, **common)
        ]
    if item.disposition == Disposition.QUARANTINE:
        return [
            LedgerEntry(
                reason="return", to_bin=target, to_status="quarantine", reference=reference, note=note, **common
            )
        ]
    # Scrap: in (the ledger shows the unit came back), then out.
    return [
        LedgerEntry(reason="return", to_bin=target, to_status="damaged", reference=reference, note=note, **common),
        LedgerEntry(reason="scrap", from_bin=target, from_status="damaged", reference=reference, note=note, **common),
    ]


def _settle_status(session: Session, ret: Return, actor: str | None, device: str | None) -> None:
    """The status the return's units say it has; a change is recorded (history, webhook); so is an intake that
    changed no status (the channel sees ``received`` and ``refund_due`` grow)."""
    expected = sum(line.qty for line in ret.lines)
    received = sum(item.qty for line in ret.lines for item in line.items)
    waiting = sum(
        item.qty
        for line in ret.lines
        for item in line.items
        if item.disposition == Disposition.QUARANTINE and item.decision is None
    )
    status = rules.status_after(expected, received, waiting)
    if status != ret.status:
        ret.status = status
        _record(session, ret, status, actor, device)
    else:
        ret.updated_at = utcnow()
        emit(session, "return.updated", ret.id, ret.channel_id)


def _record(session: Session, ret: Return, status: str, actor: str | None, device: str | None) -> None:
    session.add(ReturnEvent(return_id=ret.id, status=status, actor=actor, device=device))
    emit(session, "return.updated", ret.id, ret.channel_id)


# --- quarantine ------------------------------------------------------------------------------------------------


def quarantined(location_code: str | None = None) -> list[dict[str, Any]]:
    """Returned units waiting in quarantine for a manager, oldest first (optionally at one location)."""
    query = (
        select(ReturnItem, Return.rma, Return.id, Product.sku, Product.name, Location.code, Bin.code)
        .join(ReturnLine, ReturnLine.id == ReturnItem.return_line_id)
        .join(Return, Return.id == ReturnLine.return_id)
        .join(Product, Product.id == ReturnLine.product_id)
        .join(Location, Location.id == ReturnItem.location_id)
        .join(Bin, Bin.id == ReturnItem.bin_id)
        .where(ReturnItem.disposition == Disposition.QUARANTINE, ReturnItem.decision.is_(None))
        .order_by(ReturnItem.created_at, ReturnItem.id)
    )
    if location_code:
        query = query.where(Location.code == location_code)
    return [
        {
            "item": item.id,
            "return": return_id,
            "rma": rma,
            "sku": sku,
            "name": name,
            "qty": item.qty,
            "grade": item.grade,
            "location": location,
            "bin": bin_code,
            "at": isoformat(item.created_at),
        }
        for item, rma, return_id, sku, name, location, bin_code in db.session.execute(query)
    ]


def decide_quarantined(item_id: int, decision: str, user: User, device: str | None = None) -> Return:
    """A manager's decision on quarantined units: ``restock`` (to a sellable bin at the same location, at once in
    availability) or ``scrap`` (out of stock). Locks the return row, then stock. Raises Forbidden (not a manager),
    NotFound (no such item), InvalidState (not in quarantine, or decided already), ValidationError (another
    decision; no sellable bin to restock into)."""
    if user.role not in MANAGER_ROLES:
        raise Forbidden("a manager decides what quarantine holds", {"role": user.role})
    if decision not in DECISIONS:
        raise ValidationError.one("decision", "restock or scrap")
    with unit_of_work() as session:
        found = session.execute(
            select(ReturnLine.return_id)
            .join(ReturnItem, ReturnItem.return_line_id == ReturnLine.id)
            .where(ReturnItem.id == item_id)
        ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"no returned item {item_id}", {"item": item_id})
        ret = _locked_return(session, found, None)
        item = session.get(ReturnItem, item_id)
        if item.disposition != Disposition.QUARANTINE or item.decision is not None:
            raise InvalidState(f"item {item_id} is not waiting in quarantine", {"item": item_id})
        line = next(line for line in ret.lines if line.id == item.return_line_id)
        sku = _sku(session, line.product_id)
        source = session.get(Bin, item.bin_id)
        common = {
            "product_id": line.product_id,
            "sku": sku,
            "qty": item.qty,
            "from_bin": source,
            "from_status": "quarantine",
            "reference": f"return:{ret.id}",
            "note": f"{ret.rma}, quarantine: {decision}",
            "actor": user.username,
            "device": device,
        }
        if decision == Decision.RESTOCK:
            location = session.get(Location, item.location_id)
            target = _target_bin(session, location, line.product_id, Disposition.RESTOCK)
            entry = LedgerEntry(reason="return", to_bin=target, to_status="sellable", **common)
        else:
            entry = LedgerEntry(reason="scrap", **common)
        post_entries(session, [entry])
        item.decision = decision
        item.decided_by = user.username
        item.decided_at = utcnow()
        session.flush()
        _settle_status(session, ret, user.username, device)
        return ret
