"""The pick task kind: tote, bin, item (:mod:`wms.tasks.pick_rules` decides), and what picking does to stock.

Picked units move from their bin to the location's staging bin (ledger reason ``pick``, naming the order) and the
order line's open reservation falls by the same amount, so availability does not move. When every unit of an order
at the location is picked, a ``pack`` task opens for it. A short pick picks what is there, puts the rest on other
bins of the location (or flags the order for a manager), and opens a ``count`` task for the bin.

Locks, in this order: the task row (the service), then the order row, then its reservations, then stock levels
and quants (``post_entries``). A cancel locks the order row first and never the task row, so the two cannot wait
on each other crosswise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from wms.channels.outbox import emit
from wms.errors import InsufficientStock, InvalidState
from wms.locations.models import SELLABLE_BIN_KINDS, Bin, BinKind
from wms.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from wms.orders.service import cancel_order
from wms.stock.models import Lot, Reservation, StockLevel, StockQuant
from wms.stock.service import LedgerEntry, post_entries
from wms.tasks import pick_rules, rules
from wms.tasks.kinds.base import Closing, KindRules, Work, register
from wms.tasks.kinds.count import open_count_task
from wms.tasks.kinds.pack import ACTIVE, fully_picked, open_pack_task, picked_units, staging_bin
from wms.tasks.kinds.pack_pg import PACK_CTES, open_pack_task_if_picked, pack_task_params
from wms.tasks.kinds.pick_pg import PickedUnits, pick_in_one_statement
from wms.tasks.models import Task, TaskKind, TaskLine, TaskStatus
from wms.timeutil import utcnow
from wms.uow import unit_of_work

#: orders whose tote is taken (a tote is free while no open order uses it)
HOLDS_TOTE = (OrderStatus.RESERVED, OrderStatus.PICKING, OrderStatus.PACKED)


@register
class PickRules(KindRules):
    kind = "pick"

    def next_step(self, task: Task, states: list[rules.LineState]) -> dict[str, Any]:
        return pick_rules.pick_next(states)

    def scan(self, work: Work, scan: rules.ScanFacts | None, qty: int | None) -> str:
        totes = _tote_holders(work.session, scan.value) if scan is not None and scan.kind == "tote" else {}
        effect = pick_rules.pick_scan(work.states, scan, qty, totes)
        line = work.line(effect.line_no)
        if effect.action == "tote":
            order = locked_order(work.session, line.order_id)
            order.tote = work.totes[order.id] = effect.tote
            return f"Tote {effect.tote} is for order {order.id}"
        if effect.action == "bin":
            line.bin_scanned = True
            return ""  # the answer's message is the next prompt ("Scan item A")
        pick_units(work, line, effect.qty)
        state = work.state(line.line_no)
        return f"{effect.qty} x {state.sku} into tote {state.tote}"

    def short(self, work: Work, qty_found: int) -> str:
        state, found, missing = pick_rules.short_effect(work.states, qty_found)
        line = work.line(state.line_no)
        session = work.session
        if found:
            pick_units(work, line, found)
        line.short += missing
        source = session.get(Bin, line.bin_id)
        moved_to = _reallocate(session, work.task, line, missing)
        left = missing - sum(qty for _, qty in moved_to)
        if left:
            order = locked_order(session, line.order_id)
            order.attention = (
                f"Short pick: {left} x {state.sku} missing in {source.code} and no other bin at this location has "
                f"them (task {work.task.id}). Count the bin, then decide."
            )
        count = open_count_task(session, source, {"reason": "short_pick", "task": work.task.id})
        where = (
            f"pick them from {', '.join(code for code, _ in moved_to)}"
            if moved_to and not left
            else f"order {line.order_id} is flagged for a manager"
        )
        return f"Short: {missing} x {state.sku} missing in {source.code}; {where}. Count task {count.id} opened."


# --- picking units ---------------------------------------------------------------------------------------------


# The statements of every item scan, built once: building a statement costs more than running it on SQLite.
_ORDER_LOCKED = select(Order).where(Order.id == bindparam("order_id")).with_for_update()
_TOTE_HOLDER = select(Order.id).where(Order.tote == bindparam("tote"), Order.status.in_(HOLDS_TOTE)).limit(1)
_SOURCE_AND_STAGING = (
    select(Bin)
    .where(
        or_(
            Bin.id == bindparam("bin_id"),
            and_(Bin.location_id == bindparam("location_id"), Bin.kind == BinKind.STAGING),
        )
    )
    .order_by(Bin.sequence, Bin.code)
)
# The order row locked and the bins of a pick read in one statement (a round trip less on every item scan).
_ORDER_SOURCE_AND_STAGING = (
    select(Order, Bin)
    .join(
        Bin,
        or_(
            Bin.id == bindparam("bin_id"),
            and_(Bin.location_id == bindparam("location_id"), Bin.kind == BinKind.STAGING),
        ),
    )
    .where(Order.id == bindparam("order_id"))
    .order_by(Bin.sequence, Bin.code)
    .with_for_update(of=Order)
)
_LOWER_RESERVED = (
    update(StockLevel)
    .where(
        StockLevel.product_id == bindparam("l_product_id"),
        StockLevel.location_id == bindparam("l_location_id"),
        StockLevel.reserved >= bindparam("units"),
    )
    .values(reserved=StockLevel.reserved - bindparam("units"))
    .execution_options(synchronize_session=False)
)
_RAISE_PICKED = (
    update(OrderLine)
    .where(OrderLine.id == bindparam("line_id"))
    .values(picked=OrderLine.picked + bindparam("units"))
    .execution_options(synchronize_session=False)
)
_RESERVATION_WHERE = (
    Reservation.order_line_id == bindparam("r_order_line_id"),
    Reservation.location_id == bindparam("r_location_id"),
)
# The first reservation of the line here that holds enough, lowered in one conditional statement.
_LOWER_ONE_RESERVATION = (
    update(Reservation)
    .where(
        Reservation.id
        == select(Reservation.id)
        .where(*_RESERVATION_WHERE, Reservation.open_qty >= bindparam("units"))
        .order_by(Reservation.id)
        .limit(1)
        .scalar_subquery(),
        Reservation.open_qty >= bindparam("units"),
    )
    .values(open_qty=Reservation.open_qty - bindparam("units"))
    .execution_options(synchronize_session=False)
)


def locked_order(session: Session, order_id: int) -> Order:
    """The order row, locked (after the task row, as every task service does)."""
    return session.execute(_ORDER_LOCKED, {"order_id": order_id}).scalar_one()


def _tote_holders(session: Session, tote: str) -> dict[str, int]:
    holder = session.execute(_TOTE_HOLDER, {"tote": tote}).scalar_one_or_none()
    return {tote: holder} if holder is not None else {}


def _order_source_and_staging(session: Session, order_id: int, bin_id: int, location_id: int) -> tuple[Order, Bin, Bin]:
    """The order row, locked, the line's bin and the staging bin it is picked into (:func:`staging_bin`), in one
    statement."""
    rows = session.execute(
        _ORDER_SOURCE_AND_STAGING, {"order_id": order_id, "bin_id": bin_id, "location_id": location_id}
    ).all()
    if not rows:  # no such bin any more: the order alone, and the error the bin lookup gives
        return (locked_order(session, order_id), *_source_and_staging(session, bin_id, location_id))
    order = rows[0][0]
    source = next(bin_ for _order, bin_ in rows if bin_.id == bin_id)
    staging = next((bin_ for _order, bin_ in rows if bin_.kind == BinKind.STAGING), None)
    return order, source, staging if staging is not None else staging_bin(session, location_id)


def _source_and_staging(session: Session, bin_id: int, location_id: int) -> tuple[Bin, Bin]:
    """The line's bin and the staging bin it is picked into (:func:`staging_bin`), in one statement."""
    found = list(session.execute(_SOURCE_AND_STAGING, {"bin_id": bin_id, "location_id": location_id}).scalars())
    source = next(bin_ for bin_ in found if bin_.id == bin_id)
    staging = next((bin_ for bin_ in found if bin_.kind == BinKind.STAGING), None)
    return source, staging if staging is not None else staging_bin(session, location_id)


def pick_units(work: Work, line: TaskLine, qty: int) -> None:
    """Move ``qty`` units of ``line`` from its bin into the staging bin and lower the order line's open reservation
    at the task's location by as much. Raises InvalidState (the order is no longer being picked, or holds no open
    reservation here), InsufficientStock (the bin holds fewer units by the books: a short pick is the way out)."""
    session, task = work.session, work.task
    order, source, staging = _order_source_and_staging(session, line.order_id, line.bin_id, task.location_id)
    if order.status not in (OrderStatus.RESERVED, OrderStatus.PICKING):
        raise InvalidState(
            f"order {order.id} is {order.status}: put nothing in its tote", {"order": order.id, "status": order.status}
        )
    note = f"task {task.id}" + (f", tote {order.tote}" if order.tote else "")
    take_reserved_units(work, order, line, qty, source, staging, note, count_done=True)
    if order.status == OrderStatus.RESERVED:
        set_order_status(session, order, OrderStatus.PICKING, work)
    session.flush()
    # While this task has more of the order to pick, the order is not done: no need to ask the database.
    more_here = any(other.order_id == order.id and other.done + other.short < other.qty for other in task.lines)
    if more_here:
        return
    if work.closing is not None:  # PostgreSQL, a scan: with the statement that stores its answer
        work.closing.append(Closing(PACK_CTES, pack_task_params(order, task.location_id, staging.id)))
    elif session.get_bind().dialect.name == "postgresql":
        open_pack_task_if_picked(session, order, task.location_id, staging.id)
    elif fully_picked(session, order.id, task.location_id):
        open_pack_task(session, order, task.location_id, staging)


def take_reserved_units(
    work: Work, order: Order, line: TaskLine, qty: int, source: Bin, target: Bin, note: str, count_done: bool = False
) -> None:
    """Move ``qty`` reserved units of ``line`` from ``source`` to ``target`` (a bin that is not sellable: staging,
    a pickup shelf) for ``order``, whose row the caller locked: the order line's open reservation here and the
    level's reserved fall by as much (availability does not move), a ``pick`` ledger row names the order, the
    order line's ``picked`` grows; with ``count_done`` the task line's ``done`` grows too (a pick; a stage counts
    its units when they are scanned). Raises InvalidState (no open reservation here, a level holding less
    reserved), InsufficientStock (the bin holds fewer units by the books)."""
    session, location_id = work.session, work.task.location_id
    sku = work.state(line.line_no).sku
    entry = LedgerEntry(
        product_id=line.product_id,
        sku=sku,
        qty=qty,
        lot=line.lot or "",
        reason="pick",
        from_bin=source,
        from_status="sellable",
        to_bin=target,
        to_status="sellable",
        reference=f"order:{order.id}",
        note=note,
        actor=work.actor,
        device=work.device,
    )
    if _picked_in_one_statement(session, entry, line, location_id, order.id, count_done):
        if count_done:  # raised by the statement: the loaded line says so without a write of its own
            set_committed_value(line, "done", line.done + qty)
        return
    if count_done:
        line.done += qty
    _lower_reservation(session, order, line, location_id, qty)
    lowered = session.connection().execute(
        _LOWER_RESERVED, {"l_product_id": line.product_id, "l_location_id": location_id, "units": qty}
    )
    if lowered.rowcount != 1:
        raise _level_short(order.id)
    try:
        post_entries(session, [entry])
    except InsufficientStock as exc:
        raise _bin_short(source, qty, sku, exc.details) from None
    session.connection().execute(_RAISE_PICKED, {"line_id": line.order_line_id, "units": qty})


def _level_short(order_id: int) -> InvalidState:
    return InvalidState("the stock level holds less reserved than the order's reservation", {"order": order_id})


def _bin_short(source: Bin, qty: int, sku: str, details: Any) -> InsufficientStock:
    return InsufficientStock(
        f"By the books {source.code} holds fewer than {qty} x {sku}: if the bin is short, report a short pick.",
        details,
    )


def _picked_in_one_statement(
    session: Session, entry: LedgerEntry, line: TaskLine, location_id: int, order_id: int, count_done: bool
) -> bool:
    """PostgreSQL, a sellable source bin and a staging bin that is not sellable (the usual case): the pick's stock
    work in one statement (:mod:`wms.tasks.kinds.pick_pg`); False when it did nothing (not PostgreSQL, other bin
    kinds, or the line's units spread over several reservations): the caller does it step by step then. Raises
    what the step-by-step path raises when the level or the bin is short."""
    source, staging = entry.from_bin, entry.to_bin
    if (
        session.get_bind().dialect.name != "postgresql"
        or source.kind not in SELLABLE_BIN_KINDS
        or staging.kind in SELLABLE_BIN_KINDS
    ):
        return False
    rows = pick_in_one_statement(
        session.connection(),
        PickedUnits(
            units=entry.qty,
            product_id=entry.product_id,
            lot=entry.lot,
            location_id=location_id,
            order_line_id=line.order_line_id,
            source_bin_id=source.id,
            staging_bin_id=staging.id,
            reference=entry.reference or "",
            note=entry.note or "",
            actor=entry.actor,
            device=entry.device,
            at=utcnow(),
            task_line_id=line.id if count_done else None,
        ),
    )
    if not rows.reservation:
        return False
    if not rows.level:
        raise _level_short(order_id)
    if not (rows.source and rows.staging):
        have = session.execute(
            select(func.coalesce(func.sum(StockQuant.qty), 0)).where(
                StockQuant.bin_id == source.id,
                StockQuant.product_id == entry.product_id,
                StockQuant.lot == entry.lot,
                StockQuant.status == "sellable",
            )
        ).scalar_one()
        details = [
            {"bin": source.code, "lot": entry.lot, "status": "sellable", "requested": entry.qty, "available": have}
        ]
        raise _bin_short(source, entry.qty, entry.sku, details)
    if not rows.order_line:
        raise InvalidState(f"order line {line.order_line_id} is gone", {"order": order_id})
    return True


def _lower_reservation(session: Session, order: Order, line: TaskLine, location_id: int, qty: int) -> None:
    """Lower the order line's open reservation at the location by ``qty``: one conditional UPDATE when one row
    holds enough (the usual case: one reservation per line and location), else row by row, oldest first."""
    # The order row is locked: nothing else changes its reservations meanwhile (a cancel and a count lock it too).
    params = {"r_order_line_id": line.order_line_id, "r_location_id": location_id, "units": qty}
    if session.connection().execute(_LOWER_ONE_RESERVATION, params).rowcount == 1:
        return
    reservations = list(
        session.execute(
            select(Reservation)
            .where(
                Reservation.order_line_id == line.order_line_id,
                Reservation.location_id == location_id,
                Reservation.open_qty > 0,
            )
            .order_by(Reservation.id)
            .with_for_update()
        ).scalars()
    )
    if sum(r.open_qty for r in reservations) < qty:
        raise InvalidState(
            f"order {order.id} has fewer than {qty} unit(s) reserved here for this line", {"order": order.id}
        )
    left = qty
    for reservation in reservations:
        take = min(left, reservation.open_qty)
        reservation.open_qty -= take
        left -= take
    # Reserved falls first, then on hand (post_entries): reserved <= on_hand_sellable holds after each statement.
    session.flush()


def set_order_status(session: Session, order: Order, status: str, work: Work) -> None:
    """A status change of an order made by floor work: history event and ``order.updated``, in the unit of work."""
    order.status = status
    session.add(OrderEvent(order_id=order.id, status=status, actor=work.actor, device=work.device))
    emit(session, "order.updated", order.id, order.channel_id)


# --- short picks -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FreeQuant:
    """Units of a quant that no active pick line has claimed: a wave or a short pick may take them."""

    bin_id: int
    bin_code: str
    bin_kind: str
    walk_seq: int
    product_id: int
    lot: str
    expiry: date | None
    free: int


def free_stock(
    session: Session, location_id: int, product_ids: Iterable[int], exclude_bins: Iterable[int] = ()
) -> dict[int, list[FreeQuant]]:
    """Per product, the sellable quants in the location's pick and bulk bins with units no active pick line has
    claimed, best first: the oldest lot expiry (lots without one after those with one), then pick bins before
    bulk, then the walk sequence. Reads only; ``exclude_bins``: bins not to take from (a bin found short)."""
    products = sorted(set(product_ids))
    query = (
        select(
            StockQuant.bin_id,
            Bin.code,
            Bin.kind,
            Bin.sequence,
            StockQuant.product_id,
            StockQuant.lot,
            Lot.expiry,
            StockQuant.qty,
        )
        .join(Bin, Bin.id == StockQuant.bin_id)
        .outerjoin(Lot, (Lot.product_id == StockQuant.product_id) & (Lot.code == StockQuant.lot))
        .where(
            StockQuant.location_id == location_id,
            StockQuant.status == "sellable",
            StockQuant.qty > 0,
            StockQuant.product_id.in_(products),
            Bin.kind.in_(SELLABLE_BIN_KINDS),
        )
    )
    excluded = sorted(set(exclude_bins))
    if excluded:
        query = query.where(Bin.id.not_in(excluded))
    # A stage line's units stay in their bin by the books until the order is shelved: all of them are claimed.
    left = case(
        (Task.kind == TaskKind.STAGE, TaskLine.qty - TaskLine.short),
        else_=TaskLine.qty - TaskLine.done - TaskLine.short,
    )
    claimed = session.execute(
        select(TaskLine.bin_id, TaskLine.product_id, TaskLine.lot, func.sum(left))
        .join(Task, Task.id == TaskLine.task_id)
        .where(
            Task.location_id == location_id,
            Task.kind.in_((TaskKind.PICK, TaskKind.STAGE)),
            Task.status.in_(ACTIVE),
            TaskLine.product_id.in_(products),
        )
        .group_by(TaskLine.bin_id, TaskLine.product_id, TaskLine.lot)
    ).all()
    taken = {(bin_id, product_id, lot or ""): int(left or 0) for bin_id, product_id, lot, left in claimed}
    stock: dict[int, list[FreeQuant]] = defaultdict(list)
    for bin_id, code, kind, seq, product_id, lot, expiry, qty in session.execute(query).all():
        free = int(qty) - taken.get((bin_id, product_id, lot or ""), 0)
        if free > 0:
            stock[product_id].append(FreeQuant(bin_id, code, kind, seq, product_id, lot or "", expiry, free))
    for quants in stock.values():
        quants.sort(
            key=lambda q: (
                q.expiry is None,
                q.expiry or date.min,
                q.bin_kind != BinKind.PICK,
                q.walk_seq,
                q.bin_code,
                q.lot,
            )
        )
    return stock


def free_units(
    session: Session, location_id: int, product_id: int, exclude_bins: Iterable[int] = ()
) -> list[FreeQuant]:
    """:func:`free_stock` of one product."""
    return free_stock(session, location_id, [product_id], exclude_bins).get(product_id, [])


def _reallocate(session: Session, task: Task, line: TaskLine, missing: int) -> list[tuple[str, int]]:
    """New lines on this task for up to ``missing`` units of ``line`` from other bins; ``[(bin code, units)]``."""
    moved: list[tuple[str, int]] = []
    next_no = max(other.line_no for other in task.lines) + 1
    for quant in free_units(session, task.location_id, line.product_id, exclude_bins=(line.bin_id,)):
        if missing <= 0:
            break
        take = min(quant.free, missing)
        task.lines.append(
            TaskLine(
                line_no=next_no,
                product_id=line.product_id,
                qty=take,
                done=0,
                bin_id=quant.bin_id,
                lot=quant.lot,
                order_id=line.order_id,
                order_line_id=line.order_line_id,
            )
        )
        next_no += 1
        missing -= take
        moved.append((quant.bin_code, take))
    session.flush()
    return moved


# --- cancelling an order that is being picked ---------------------------------------------------------------


def cancel_order_and_work(
    order_id: int, channel_id: int | None = None, actor: str | None = None, device: str | None = None
) -> Order:
    """:func:`wms.orders.service.cancel_order`, and the floor work it leaves: the order's unpicked pick lines
    close, its pack task is cancelled, and the units already picked (in the staging bin) get a ``putaway`` task
    back to the shelves; the tote is free. One unit of work; locks the order row first (as a pick does after its
    task). Raises what ``cancel_order`` raises."""
    with unit_of_work() as session:
        locked = _lock_active_tasks(session, order_id)
        before = session.execute(select(Order.status).where(Order.id == order_id).with_for_update()).scalar()
        order = cancel_order(order_id, channel_id=channel_id, actor=actor, device=device)
        if before in (OrderStatus.RESERVED, OrderStatus.PICKING):
            _undo_floor_work(session, order_id, locked)
        return order


def _lock_active_tasks(session: Session, order_id: int) -> set[int]:
    """Lock the order's active pick, pack and stage task rows, in id order, before its order row: a scan locks its task,
    then the order, so a cancel that took the order first and then a task would wait on a scan waiting on it."""
    ids = sorted(
        session.execute(
            select(Task.id)
            .join(TaskLine, TaskLine.task_id == Task.id)
            .where(
                TaskLine.order_id == order_id,
                Task.kind.in_((TaskKind.PICK, TaskKind.PACK, TaskKind.STAGE)),
                Task.status.in_(ACTIVE),
            )
            .distinct()
        ).scalars()
    )
    if ids:
        session.execute(select(Task.id).where(Task.id.in_(ids)).order_by(Task.id).with_for_update()).all()
    return set(ids)


def _undo_floor_work(session: Session, order_id: int, locked: set[int]) -> None:
    """Close the cancelled order's unpicked lines and send its picked units back. Task rows change only where
    ``locked`` (a task that appeared after the locks were taken keeps its status; its closed lines show it done
    at its next scan)."""
    lines = list(
        session.execute(
            select(TaskLine)
            .join(Task, Task.id == TaskLine.task_id)
            .where(
                TaskLine.order_id == order_id,
                Task.kind.in_((TaskKind.PICK, TaskKind.PACK, TaskKind.STAGE)),
                Task.status.in_(ACTIVE),
            )
        ).scalars()
    )
    touched: dict[int, Task] = {}
    for line in lines:
        task = session.get(Task, line.task_id)
        if task.id in locked:
            touched[task.id] = task
        if task.kind in (TaskKind.PACK, TaskKind.STAGE):
            # A pack task's units wait in staging (put back below); a stage's never left their bins.
            if task.id in locked:
                task.status = TaskStatus.CANCELLED
        elif line.done + line.short < line.qty:
            line.qty = line.done + line.short  # nothing more of a cancelled order is picked
    session.flush()
    for task in touched.values():
        if task.kind == TaskKind.PICK and all(line.done + line.short >= line.qty for line in task.lines):
            task.status = TaskStatus.DONE if any(line.done for line in task.lines) else TaskStatus.CANCELLED
    locations = session.execute(
        select(Task.location_id)
        .join(TaskLine, TaskLine.task_id == Task.id)
        .where(TaskLine.order_id == order_id, Task.kind == TaskKind.PICK, TaskLine.done > 0)
        .distinct()
    ).scalars()
    for location_id in sorted(locations):
        units = picked_units(session, order_id, location_id)
        staging = staging_bin(session, location_id)
        back = Task(
            kind=TaskKind.PUTAWAY,
            status=TaskStatus.OPEN,
            location_id=location_id,
            reference={"dock": staging.code, "order": order_id, "reason": "order cancelled"},
        )
        back.lines = [
            TaskLine(line_no=i, product_id=product_id, qty=qty, done=0, lot=lot)
            for i, ((_, product_id, lot), qty) in enumerate(units.items(), start=1)
        ]
        session.add(back)
    order = session.get(Order, order_id)
    order.tote = None
    session.flush()
