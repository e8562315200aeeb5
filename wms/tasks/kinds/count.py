"""The count task kind: a blind count of one bin (:mod:`wms.tasks.count_rules`).

Scan the bin, then each item in it (a typed ``qty`` with an item scan adds that many units); ``complete`` compares
what was counted with the bin's sellable units. Variances within the threshold are booked at once (ledger reason
``count``); a count with one over it waits in ``awaiting_approval`` until a manager approves it
(:func:`wms.tasks.counts.approve_count`) and nothing moves meanwhile.

Task lines of a count hold what was counted: ``done`` is the units counted and ``qty`` equals ``done`` (a count has
no target: the expected quantity is never stored on the task nor shown to the counter). The task's ``reference``
carries ``bin``, ``bin_scanned`` once the bin was confirmed, and when counted: ``counted_by``, ``counted_at`` and
``ledger_mark`` (the last ledger row then: approving a waiting count takes out what moved in or out of the bin
since, so that what it books is the variance the count found), and once booked ``flagged_orders`` (orders whose
reservations a loss released) and, when approved, ``approved_by``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from wms.catalog.models import Product
from wms.channels.outbox import emit
from wms.errors import InvalidState
from wms.locations.models import SELLABLE_BIN_KINDS, Bin, Location
from wms.locations.service import find_bin
from wms.orders.models import Order, OrderLine
from wms.stock import service as stock
from wms.stock.models import Reservation, StockLevel, StockMovement, StockQuant, StockStatus
from wms.tasks import count_rules, rules
from wms.tasks.kinds.base import KindRules, Work, register
from wms.tasks.kinds.pack import pack_if_picked
from wms.tasks.models import Task, TaskKind, TaskLine, TaskScan, TaskStatus
from wms.timeutil import isoformat, utcnow

#: statuses of a count that is still to be done (a bin gets no second one meanwhile)
OPEN_COUNT = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.AWAITING_APPROVAL)

Key = tuple[int, str]


def open_count_task(session: Session, bin_: Bin, reference: dict[str, Any] | None = None) -> Task:
    """A ``count`` task for ``bin_`` (reference ``{"bin": code, ...}``), or the one already open for it. Runs in
    the caller's unit of work."""
    existing = session.execute(
        select(Task).where(
            Task.kind == TaskKind.COUNT,
            Task.location_id == bin_.location_id,
            Task.status.in_(OPEN_COUNT),
            Task.reference["bin"].as_string() == bin_.code,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    task = Task(
        kind=TaskKind.COUNT,
        status=TaskStatus.OPEN,
        location_id=bin_.location_id,
        reference={"bin": bin_.code, **(reference or {})},
    )
    session.add(task)
    session.flush()
    return task


def threshold() -> count_rules.Threshold:
    """The variance threshold of the settings ``WMS_COUNT_VARIANCE_UNITS`` and ``WMS_COUNT_VARIANCE_PERCENT``."""
    return count_rules.Threshold(
        int(current_app.config["COUNT_VARIANCE_UNITS"]), float(current_app.config["COUNT_VARIANCE_PERCENT"])
    )


@register
class CountRules(KindRules):
    kind = "count"

    def next_step(self, task: Task, states: list[rules.LineState]) -> dict[str, Any]:
        reference = task.reference or {}
        return count_rules.next_step(
            reference.get("bin"),
            bool(reference.get("bin_scanned")),
            waiting=task.status == TaskStatus.AWAITING_APPROVAL,
        )

    def scan(self, work: Work, scan: rules.ScanFacts | None, qty: int | None) -> str:
        task, reference = work.task, work.task.reference or {}
        track_lots = False
        if scan is not None and scan.kind == "product" and scan.product_id is not None:
            track_lots = work.session.get(Product, scan.product_id).track_lots
        effect = count_rules.count_scan(reference.get("bin"), bool(reference.get("bin_scanned")), scan, qty, track_lots)
        if effect.action == "bin":
            # A new dict: the JSON column sees only a new value, not a change inside the old one.
            task.reference = {**reference, "bin_scanned": True}
            return f"Counting bin {reference['bin']}: scan each item in it"
        line = next(
            (line for line in task.lines if line.product_id == effect.product_id and line.lot == effect.lot), None
        )
        if line is None:
            bin_ = find_bin(work.session, task.location_id, reference["bin"])
            line = TaskLine(
                line_no=max((line.line_no for line in task.lines), default=0) + 1,
                product_id=effect.product_id,
                qty=0,
                done=0,
                lot=effect.lot,
                bin_id=bin_.id if bin_ else None,
            )
            task.lines.append(line)
        line.done += effect.qty
        line.qty = line.done
        lot = f" lot {effect.lot}" if effect.lot else ""
        return f"{effect.qty} x {effect.sku}{lot} counted ({line.done} in all)"

    def after_scan(self, work: Work) -> None:
        """A count is never done by its scans: only ``complete`` ends it."""

    def complete(self, work: Work) -> None:
        task, reference = work.task, work.task.reference or {}
        if task.status == TaskStatus.AWAITING_APPROVAL:
            raise InvalidState(f"count {task.id} waits for a manager's approval", {"status": task.status})
        if not reference.get("bin"):
            raise InvalidState(f"count {task.id} names no bin", {"status": task.status})
        if not reference.get("bin_scanned"):
            raise InvalidState(f"scan bin {reference['bin']} first, then each item in it", {"status": task.status})
        device = work.device or _last_device(work.session, task)
        settle(work.session, task, work.actor, device, approved_by=None)


def _last_device(session: Session, task: Task) -> str | None:
    """The device the count was scanned on (``complete`` carries none)."""
    return session.execute(
        select(TaskScan.device).where(TaskScan.task_id == task.id).order_by(TaskScan.id.desc()).limit(1)
    ).scalar_one_or_none()


# --- reading a counted bin -------------------------------------------------------------------------------------


def counted(task: Task) -> dict[Key, int]:
    """Units counted per (product id, lot)."""
    found: dict[Key, int] = defaultdict(int)
    for line in task.lines:
        found[(line.product_id, line.lot or "")] += line.done
    return dict(found)


def in_bin(session: Session, bin_: Bin, lock: bool = False) -> dict[Key, int]:
    """Sellable units per (product id, lot) in the bin now (``lock``: the quant rows are locked until commit)."""
    query = (
        select(StockQuant)
        .where(StockQuant.bin_id == bin_.id, StockQuant.status == StockStatus.SELLABLE)
        .order_by(StockQuant.id)
    )
    if lock:
        query = query.with_for_update()
    return {(q.product_id, q.lot): q.qty for q in session.execute(query).scalars() if q.qty}


def moved_since(session: Session, bin_: Bin, mark: int | None) -> dict[Key, int]:
    """Net sellable units per (product id, lot) that came into the bin (or left it: negative) in ledger rows after
    ``mark`` (None: nothing)."""
    if mark is None:
        return {}
    into = case(
        (
            (StockMovement.to_bin_id == bin_.id) & (StockMovement.to_status == StockStatus.SELLABLE),
            StockMovement.qty,
        ),
        else_=0,
    )
    out = case(
        (
            (StockMovement.from_bin_id == bin_.id) & (StockMovement.from_status == StockStatus.SELLABLE),
            StockMovement.qty,
        ),
        else_=0,
    )
    rows = session.execute(
        select(StockMovement.product_id, StockMovement.lot, func.sum(into - out))
        .where(StockMovement.id > mark, (StockMovement.to_bin_id == bin_.id) | (StockMovement.from_bin_id == bin_.id))
        .group_by(StockMovement.product_id, StockMovement.lot)
    ).all()
    return {(p, lot): int(net) for p, lot, net in rows if net}


def expected(now: dict[Key, int], since: dict[Key, int]) -> dict[Key, int]:
    """What the books said when the count was made: what the bin holds now less what moved since."""
    keys = set(now) | set(since)
    return {key: max(0, now.get(key, 0) - since.get(key, 0)) for key in keys}


def _ledger_mark(session: Session) -> int:
    return session.execute(select(func.coalesce(func.max(StockMovement.id), 0))).scalar_one()


# --- booking a count -------------------------------------------------------------------------------------------


def settle(session: Session, task: Task, actor: str, device: str | None, approved_by: str | None) -> None:
    """Complete (``approved_by`` None) or approve a count, in the caller's unit of work with the task locked.

    Completing: variances within the threshold are booked and the task is ``done``; one over it leaves the task
    ``awaiting_approval`` with nothing moved. Approving books the variances the count found (what moved in or out
    of the bin since it was counted is taken out; a loss takes at most what the bin holds).

    A loss in a sellable bin that would leave less on hand than is reserved releases the difference from the open
    reservations of the newest orders first; those orders get ``attention`` and an ``order.updated`` event, and
    are listed in ``reference["flagged_orders"]``. Locks, in this order: the hit orders, the bin (shared), the
    stock levels of the bin's products (product id order), the bin's sellable quants."""
    reference = dict(task.reference or {})
    location = session.get(Location, task.location_id)
    bin_ = find_bin(session, task.location_id, reference["bin"], share_lock=True)
    if bin_ is None:
        raise InvalidState(f"bin {reference['bin']} is no longer at {location.code}", {"bin": reference["bin"]})
    mark = reference.get("ledger_mark") if approved_by else None
    found = counted(task)
    limits = threshold()

    # A first read without locks says which orders a loss may hit: orders are locked before stock levels, as
    # cancelling an order does, so that the two never wait on each other crosswise.
    preview = plan_count(session, location, bin_, found, mark, lock=False)
    applying = approved_by is not None or not count_rules.needs_approval(preview.variances, limits)
    if applying and preview.hit_orders:
        session.execute(
            select(Order.id).where(Order.id.in_(sorted(preview.hit_orders))).order_by(Order.id).with_for_update()
        ).all()
    # With the levels locked nothing new can be reserved; an order the locked plan hits that the preview did not
    # (placed in between) is updated without its row lock taken first: only a cancel of that very order racing
    # this can then deadlock, which PostgreSQL ends by failing one of the two, whole.
    plan = plan_count(session, location, bin_, found, mark, lock=True)
    if approved_by is None:
        reference |= {"counted_by": actor, "counted_at": isoformat(utcnow()), "ledger_mark": _ledger_mark(session)}
        if count_rules.needs_approval(plan.variances, limits):
            task.reference = reference
            task.status = TaskStatus.AWAITING_APPROVAL
            return
    flagged = _release(session, location, bin_, plan)
    products = {p.id: p for p in session.execute(select(Product).where(Product.id.in_(plan.product_ids))).scalars()}
    note = f"count of {location.code}/{bin_.code} by {reference.get('counted_by') or actor}" + (
        f", approved by {approved_by}" if approved_by else ""
    )
    stock.post_count(
        session,
        bin_,
        [(products[p], lot, change) for (p, lot), change in sorted(plan.changes.items())],
        reference=f"task:{task.id}",
        note=note,
        actor=actor,
        device=device,
    )
    reference["flagged_orders"] = sorted(set(reference.get("flagged_orders", [])) | set(flagged))
    if approved_by:
        reference["approved_by"] = approved_by
    task.reference = reference
    task.status = TaskStatus.DONE


class CountPlan:
    """What booking a count would do, read with or without locks."""

    def __init__(self) -> None:
        self.variances: list[count_rules.Variance] = []
        #: (product id, lot) -> units the quant changes by
        self.changes: dict[Key, int] = {}
        #: product id -> units of reservations to release
        self.shortfalls: dict[int, int] = {}
        #: product id -> open reservations at the location
        self.held: dict[int, list[count_rules.Held]] = {}
        self.hit_orders: set[int] = set()
        self.product_ids: set[int] = set()


def plan_count(
    session: Session, location: Location, bin_: Bin, found: dict[Key, int], mark: int | None, lock: bool
) -> CountPlan:
    """What booking ``found`` (units counted per product and lot) in ``bin_`` would do: its variances against the
    books when counted (``mark``: the ledger row they stood at; None: now), the quant changes, the reservations a
    loss would release and the orders it would hit. ``lock``: lock the stock levels, then the bin's quants."""
    plan = CountPlan()
    now = in_bin(session, bin_)
    plan.product_ids = {p for p, _lot in set(found) | set(now)}
    levels: dict[int, tuple[int, int]] = {}
    if plan.product_ids:
        query = (
            select(StockLevel.product_id, StockLevel.on_hand_sellable, StockLevel.reserved)
            .where(StockLevel.location_id == location.id, StockLevel.product_id.in_(plan.product_ids))
            .order_by(StockLevel.product_id)
        )
        levels = {
            p: (on_hand, reserved)
            for p, on_hand, reserved in session.execute(query.with_for_update() if lock else query)
        }
    if lock:
        now = in_bin(session, bin_, lock=True)  # the quants after the levels: post_entries' order
    plan.variances = count_rules.variances(found, expected(now, moved_since(session, bin_, mark)))
    plan.changes = {
        (v.product_id, v.lot): count_rules.applied_units(v.units, now.get((v.product_id, v.lot), 0))
        for v in plan.variances
        if v.units
    }
    if bin_.kind not in SELLABLE_BIN_KINDS:
        return plan  # units outside pick and bulk bins are not on hand sellable: no reservation rests on them
    per_product: dict[int, int] = defaultdict(int)
    for (p, _lot), change in plan.changes.items():
        per_product[p] += change
    for p, change in per_product.items():
        on_hand, reserved = levels.get(p, (0, 0))
        short = count_rules.shortfall(on_hand, reserved, change)
        if short:
            plan.shortfalls[p] = short
    if plan.shortfalls:
        rows = session.execute(
            select(Reservation.id, Reservation.product_id, Reservation.open_qty, Order.id, Order.created_at)
            .join(OrderLine, OrderLine.id == Reservation.order_line_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                Reservation.location_id == location.id,
                Reservation.product_id.in_(plan.shortfalls),
                Reservation.open_qty > 0,
            )
        ).all()
        for reservation_id, product_id, open_qty, order_id, ordered_at in rows:
            plan.held.setdefault(product_id, []).append(
                count_rules.Held(reservation_id, order_id, ordered_at, open_qty)
            )
        for p, short in plan.shortfalls.items():
            plan.hit_orders |= {r.order_id for r in count_rules.release_plan(short, plan.held.get(p, []))}
    return plan


def _release(session: Session, location: Location, bin_: Bin, plan: CountPlan) -> list[int]:
    """Release the plan's shortfalls from reservations, newest orders first; flag and announce the orders hit."""
    if not plan.shortfalls:
        return []
    skus = dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(plan.shortfalls))).all())
    released: dict[int, dict[str, int]] = defaultdict(dict)
    for product_id, short in sorted(plan.shortfalls.items()):
        releases = count_rules.release_plan(short, plan.held.get(product_id, []))
        if sum(r.qty for r in releases) < short:
            raise InvalidState(
                f"the units reserved of {skus[product_id]} at {location.code} disagree with its orders' reservations: "
                "run wms check before booking this count",
                {"sku": skus[product_id], "location": location.code},
            )
        for release in releases:
            session.execute(
                update(Reservation)
                .where(Reservation.id == release.reservation_id)
                .values(open_qty=Reservation.open_qty - release.qty)
                .execution_options(synchronize_session=False)
            )
            sku = skus[product_id]
            released[release.order_id][sku] = released[release.order_id].get(sku, 0) + release.qty
        session.execute(
            update(StockLevel)
            .where(StockLevel.product_id == product_id, StockLevel.location_id == location.id)
            .values(reserved=StockLevel.reserved - short)
            .execution_options(synchronize_session=False)
        )
    stock.record_changes(session, [(p, location.id) for p in plan.shortfalls])
    for order_id, units in sorted(released.items()):
        order = session.get(Order, order_id)
        note = count_rules.attention_note(f"{location.code}/{bin_.code}", units)
        order.attention = count_rules.joined_attention(order.attention, note)
        emit(session, "order.updated", order.id, order.channel_id)
        # A short-picked order whose missing units were still reserved is picked once they are released.
        pack_if_picked(session, order, location.id)
    return sorted(released)
