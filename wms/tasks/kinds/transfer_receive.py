"""The transfer_receive task kind: a location takes in a transfer (:mod:`wms.tasks.transfer_rules` decides).

Opened by shipping (:func:`open_receive_task`) at the destination, one line per (product, lot, order line) shipped,
each naming the in-transit bin the units wait in. A received unit moves from there (status ``in_transit``) to the
shelf holding the product (sellable, in availability at once) or, scanned as ``damaged``, to the returns bin
(status ``damaged``); over units come from nowhere into the same places. Each is a ledger row (reason
``transfer``, reference ``transfer:<id>``). Closing the task writes off what never arrived (ledger rows out of
the in-transit bin, note ``short``), records the variance on the transfer for a manager, and sends a pickup
order on: its received units are reserved at the store, and it goes ``reserved`` there, ready to be staged.

Locks, in this order: the task row (the service), the transfer row, the pickup order's row, stock levels, quants.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wms.errors import InvalidState
from wms.extensions import db
from wms.locations.models import Bin, BinKind
from wms.orders.models import Order, OrderStatus
from wms.stock.bins import first_bin, shelf_for
from wms.stock.models import Reservation, StockLevel
from wms.stock.service import LedgerEntry, post_entries
from wms.tasks import rules, transfer_rules
from wms.tasks.kinds.base import KindRules, Work, register
from wms.tasks.kinds.pick import locked_order, set_order_status
from wms.tasks.models import Task, TaskKind, TaskLine, TaskStatus
from wms.timeutil import utcnow
from wms.transfers.models import Transfer, TransferLine, TransferStatus
from wms.transfers.rules import variance
from wms.transfers.service import arrival, locked_transfer


def dock(task: Task) -> transfer_rules.Dock:
    reference = task.reference or {}
    return transfer_rules.Dock(
        transfer_id=int(reference["transfer"]),
        order_id=int(reference["order"]),
        parcels=tuple(reference.get("parcels") or ()),
        checked=bool(reference.get("checked")),
    )


@register
class TransferReceiveRules(KindRules):
    kind = TaskKind.TRANSFER_RECEIVE.value

    def next_step(self, task: Task, states: list[rules.LineState]) -> dict[str, Any]:
        return transfer_rules.receive_next(dock(task), states)

    def scan(self, work: Work, scan: rules.ScanFacts | None, qty: int | None) -> str:
        task = work.task
        here = dock(task)
        effect = transfer_rules.receive_scan(here, work.states, scan, qty)
        if effect.action == "label":
            # A new dict: SQLAlchemy sees a JSON column change only when the attribute is assigned.
            task.reference = {**(task.reference or {}), "checked": True}
            return f"Transfer {here.transfer_id}: scan its items"
        return _take_in(work, effect)

    def after_scan(self, work: Work) -> None:
        """The task ends once every shipped unit is in (:func:`_finish`)."""
        if dock(work.task).checked and all(line.done + line.short >= line.qty for line in work.task.lines):
            _finish(work)

    def complete(self, work: Work) -> None:
        """Close the receiving: what has not arrived is short."""
        _finish(work)


def _transfer_line(transfer: Transfer, line: TaskLine) -> TransferLine:
    same = [tl for tl in transfer.lines if tl.product_id == line.product_id]
    return next((tl for tl in same if tl.order_line_id == line.order_line_id), same[0])


def _take_in(work: Work, effect: transfer_rules.ReceiveEffect) -> str:
    session, task = work.session, work.task
    line = work.line(effect.line_no)
    sku = work.state(effect.line_no).sku
    transfer = locked_transfer(session, dock(task).transfer_id)
    order = _pickup_order(session, transfer)
    damaged = work.condition == "damaged"
    in_transit = session.get(Bin, line.bin_id)
    if damaged:
        target = first_bin(session, task.location_id, (BinKind.RETURNS, BinKind.QUARANTINE)) or in_transit
        status = "damaged"
    else:
        target = shelf_for(session, task.location_id, line.product_id)
        status = "sellable"
        if target is None:
            raise InvalidState("this location has no pick or bulk bin to take the units into: add one", {})
    common = {
        "product_id": line.product_id,
        "sku": sku,
        "lot": line.lot or "",
        "reason": "transfer",
        "to_bin": target,
        "to_status": status,
        "reference": f"transfer:{transfer.id}",
        "actor": work.actor,
        "device": work.device,
    }
    entries = []
    if effect.qty:
        entries.append(
            LedgerEntry(qty=effect.qty, from_bin=in_transit, from_status="in_transit", note="received", **common)
        )
    if effect.over:
        entries.append(LedgerEntry(qty=effect.over, note="over: more than was shipped", **common))
    post_entries(session, entries)
    line.done += effect.qty
    transfer_line = _transfer_line(transfer, line)
    already = transfer_line.received
    if damaged:
        transfer_line.damaged += effect.qty + effect.over
    else:
        transfer_line.received += effect.qty + effect.over
        if order is not None and effect.qty:
            _reserve_again(session, order, transfer_line, min(effect.qty, max(transfer_line.shipped - already, 0)))
    units = effect.qty + effect.over
    said = f"{units} x {sku}" + (" damaged, to " if damaged else " to ") + target.code
    if effect.over:
        said += f" ({effect.over} more than was shipped)"
    return said


def _pickup_order(session: Session, transfer: Transfer) -> Order | None:
    """The pickup order the transfer brings, locked, while it waits for it (``in_transit``); None otherwise (a
    replenishment, or an order cancelled on the way: its units are simply stock of the store)."""
    if transfer.for_order_id is None:
        return None
    order = locked_order(session, transfer.for_order_id)
    return order if order.status == OrderStatus.IN_TRANSIT else None


def _reserve_again(session: Session, order: Order, transfer_line: TransferLine, units: int) -> None:
    """Reserve ``units`` just taken in at the store for the pickup order's line: the level's reserved grows with
    its on-hand (availability does not move) and a reservation at the store lets the stage task pick them."""
    if units <= 0 or transfer_line.order_line_id is None:
        return
    transfer = transfer_line.transfer
    levels = StockLevel.__table__.c
    done = session.connection().execute(
        update(StockLevel.__table__)
        .where(
            levels.product_id == transfer_line.product_id,
            levels.location_id == transfer.to_location_id,
            levels.on_hand_sellable - levels.reserved >= units,
        )
        .values(reserved=levels.reserved + units)
    )
    if done.rowcount != 1:
        order.attention = f"Transfer {transfer.id}: received units could not be reserved for order {order.id}"
        return
    session.add(
        Reservation(
            order_line_id=transfer_line.order_line_id,
            product_id=transfer_line.product_id,
            location_id=transfer.to_location_id,
            qty=units,
            open_qty=units,
            needs_transfer=False,
        )
    )


def _finish(work: Work) -> None:
    session, task = work.session, work.task
    transfer = locked_transfer(session, dock(task).transfer_id)
    order = _pickup_order(session, transfer)
    entries = []
    for line in task.lines:
        missing = line.qty - line.done - line.short
        if missing <= 0:
            continue
        entries.append(
            LedgerEntry(
                product_id=line.product_id,
                sku=work.state(line.line_no).sku,
                qty=missing,
                lot=line.lot or "",
                reason="transfer",
                from_bin=session.get(Bin, line.bin_id),
                from_status="in_transit",
                reference=f"transfer:{transfer.id}",
                note="short: shipped, never arrived",
                actor=work.actor,
                device=work.device,
            )
        )
        line.short += missing
    post_entries(session, entries)
    transfer.status = TransferStatus.RECEIVED
    transfer.received_at = utcnow()
    transfer.variance = variance(arrival(session, transfer))
    if order is not None:
        set_order_status(session, order, OrderStatus.RESERVED, work)
        if entries:
            order.attention = f"Transfer {transfer.id} arrived {transfer.variance}: fewer units than ordered"
    task.status = TaskStatus.DONE


def open_receive_task(
    session: Session,
    transfer: Transfer,
    units: list[tuple[int, str, int, int | None]],
    in_transit: Bin,
    parcels: list[str],
) -> Task:
    """Open the destination's transfer_receive task for the shipped ``units`` (``[(product id, lot, qty, order
    line id)]``) waiting in ``in_transit``; ``parcels``: the codes its label may be scanned by (SSCCs, tracking
    numbers). In the caller's unit of work."""
    merged: dict[tuple[int, str, int | None], int] = {}
    for product_id, lot, qty, order_line_id in units:
        merged[(product_id, lot, order_line_id)] = merged.get((product_id, lot, order_line_id), 0) + qty
    task = Task(
        kind=TaskKind.TRANSFER_RECEIVE,
        status=TaskStatus.OPEN,
        location_id=transfer.to_location_id,
        reference={"transfer": transfer.id, "order": transfer.order_id, "parcels": parcels},
    )
    task.lines = [
        TaskLine(
            line_no=i,
            product_id=product_id,
            qty=qty,
            done=0,
            bin_id=in_transit.id,
            lot=lot,
            order_id=transfer.for_order_id,
            order_line_id=order_line_id,
        )
        for i, ((product_id, lot, order_line_id), qty) in enumerate(sorted(merged.items(), key=_by_key), start=1)
        if qty > 0
    ]
    session.add(task)
    session.flush()
    return task


def _by_key(item: tuple[tuple[int, str, int | None], int]) -> tuple[int, str, int]:
    (product_id, lot, order_line_id), _qty = item
    return (order_line_id or 0, lot, product_id)


def receive_task_of(transfer_id: int) -> Task | None:
    """The open receiving of a transfer, if any (the page that lists transfers to receive links to it)."""
    return db.session.execute(
        select(Task).where(
            Task.kind == TaskKind.TRANSFER_RECEIVE,
            Task.reference["transfer"].as_integer() == transfer_id,
            Task.status.in_([TaskStatus.OPEN, TaskStatus.IN_PROGRESS]),
        )
    ).scalar_one_or_none()
