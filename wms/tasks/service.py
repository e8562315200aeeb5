"""Tasks: open them (a receipt into a dock bin opens a put-away), list and show them, claim them, work them by
scans. Each public function is one unit of work; a scan is parsed and resolved by :mod:`wms.scanning`, judged by
the pure rules of :mod:`wms.tasks.rules` and applied here (stock moves through :mod:`wms.stock.service`).

A scan's client id is stored with its answer: a retry answers the first answer again and changes nothing.
A scan that is refused stores nothing (it changed nothing, so trying it again is safe).
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, and_, bindparam, insert, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from devices.scan import ScanError, ScanKind, ScanResult, parse_scan
from wms.auth.models import MANAGER_ROLES, User
from wms.catalog.models import Product
from wms.errors import InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.locations.models import Bin, BinKind, Location
from wms.orders.models import Order
from wms.scanning.service import (
    KnownBins,
    KnownProducts,
    Resolved,
    product_by_gtin_columns,
    resolve_parsed,
    resolve_scan,
)
from wms.stock import service as stock
from wms.tasks import rules
from wms.tasks.kinds import Work, handler_for
from wms.tasks.kinds.base import Closing
from wms.tasks.models import Task, TaskKind, TaskLine, TaskScan, TaskStatus
from wms.timeutil import utcnow
from wms.uow import unit_of_work

#: statuses in which a task takes no more work
CLOSED = (TaskStatus.DONE, TaskStatus.CANCELLED)


# --- opening tasks ---------------------------------------------------------------------------------------------


def receive(
    location_code: str,
    bin_code: str,
    reference: str,
    lines: list[dict[str, Any]],
    actor: str | None = None,
    device: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """:func:`wms.stock.service.receive`, and, for a new delivery into a ``dock`` bin, a ``putaway`` task at that
    location with one line per received line, in the same unit of work. Raises what ``receive`` raises."""
    with unit_of_work() as session:
        result, created = stock.receive(location_code, bin_code, reference, lines, actor=actor, device=device)
        if created:
            location = session.execute(select(Location).where(Location.code == location_code)).scalar_one()
            dock = session.execute(
                select(Bin).where(Bin.location_id == location.id, Bin.code == result["bin"])
            ).scalar_one()
            if dock.kind == BinKind.DOCK:
                _open_putaway(session, location, dock, result, lines)
        return result, created


def _open_putaway(
    session: Session, location: Location, dock: Bin, receipt: dict[str, Any], lines: list[dict[str, Any]]
) -> Task:
    skus = {line["sku"] for line in lines}
    products = {p.sku: p.id for p in session.execute(select(Product).where(Product.sku.in_(skus))).scalars()}
    task = Task(
        kind=TaskKind.PUTAWAY,
        status=TaskStatus.OPEN,
        location_id=location.id,
        reference={"receipt": receipt["id"], "delivery": receipt["reference"], "dock": dock.code},
    )
    task.lines = [
        TaskLine(line_no=i, product_id=products[line["sku"]], qty=line["qty"], done=0, lot=line.get("lot") or "")
        for i, line in enumerate(lines, start=1)
    ]
    session.add(task)
    session.flush()
    return task


# --- reading ---------------------------------------------------------------------------------------------------


def _may_see(user: User, location_id: int) -> bool:
    return user.role in MANAGER_ROLES or user.location_id == location_id


def list_tasks(
    user: User,
    kind: str | None = None,
    status: str | tuple[str, ...] | None = None,
    location_code: str | None = None,
) -> list[dict[str, Any]]:
    """The tasks ``user`` may work on (a picker or clerk: their home location's), oldest first, filtered by kind,
    status (one, or any of several) and location code. An unknown location lists nothing."""
    session = db.session
    query = select(Task).order_by(Task.created_at, Task.id)
    if kind:
        query = query.where(Task.kind == kind)
    if isinstance(status, tuple):
        query = query.where(Task.status.in_(status))
    elif status:
        query = query.where(Task.status == status)
    if location_code:
        query = query.join(Location, Location.id == Task.location_id).where(Location.code == location_code)
    if user.role not in MANAGER_ROLES:
        query = query.where(Task.location_id == user.location_id)
    return [task_view(session, task) for task in session.execute(query).scalars()]


def get_task(task_id: int, user: User) -> dict[str, Any]:
    """One task. Raises NotFound for no such task or one of another location (a picker or clerk)."""
    session = db.session
    return task_view(session, _visible(session, task_id, user))


# The statements of every scan, built once: building a statement costs more than running it on SQLite.
_TASK = select(Task).where(Task.id == bindparam("task_id"))
_TASK_LOCKED = _TASK.with_for_update()
_ANSWER = select(TaskScan.answer).where(
    TaskScan.task_id == bindparam("task_id"), TaskScan.client_id == bindparam("client_id")
)
_INSERT_SCAN = insert(TaskScan)
_LINES = (
    select(TaskLine, Product.sku, Bin.code, Order.tote, Location.code, Bin.kind)
    .join(Product, Product.id == TaskLine.product_id)
    .join(Location, Location.id == bindparam("location_id"))
    .outerjoin(Bin, Bin.id == TaskLine.bin_id)
    .outerjoin(Order, Order.id == TaskLine.order_id)
    .where(TaskLine.task_id == bindparam("task_id"))
    .order_by(TaskLine.line_no)
)
# The lines with the answer already given to this client id (the same on every row), for a scan: one statement.
_LINES_AND_ANSWER = _LINES.add_columns(TaskScan.answer).outerjoin(
    TaskScan, and_(TaskScan.task_id == TaskLine.task_id, TaskScan.client_id == bindparam("client_id"))
)
# ... and, for the scan of an item, the product with its GTIN (the same on every row): no statement of its own.
_LINES_ANSWER_AND_PRODUCT = _LINES_AND_ANSWER.add_columns(*product_by_gtin_columns(bindparam("gtin")))


def _visible(session: Session, task_id: int, user: User, lock: bool = False) -> Task:
    task = session.execute(_TASK_LOCKED if lock else _TASK, {"task_id": task_id}).scalar_one_or_none()
    if task is None or not _may_see(user, task.location_id):
        raise NotFound(f"no task {task_id}", {"task": task_id})
    return task


@dataclass
class _Names:
    """What a task's view shows by name, read with its lines in one statement: skus by product id, bin codes by
    bin id, totes by order id, the location's code."""

    location: str
    skus: dict[int, str] = field(default_factory=dict)
    bins: dict[int, str] = field(default_factory=dict)
    totes: dict[int, str | None] = field(default_factory=dict)
    #: the scanned item's product, read with the lines (``wms.scanning.service.KnownProducts``)
    products: KnownProducts = field(default_factory=dict)
    #: the kinds of the lines' bins, by bin id
    bin_kinds: dict[int, str] = field(default_factory=dict)

    def known_bins(self, location_id: int) -> KnownBins:
        """The lines' bins as :func:`wms.scanning.service.resolve_parsed` takes them: a scan of one needs no read."""
        return {
            (self.location, code): (bin_id, self.bin_kinds[bin_id], location_id)
            for bin_id, code in self.bins.items()
            if bin_id in self.bin_kinds
        }


def _load_lines(
    session: Session, task: Task, client_id: str | None = None, gtin: str | None = None
) -> tuple[_Names, dict[str, Any] | None]:
    """Load the task's lines (into ``task.lines``) with their skus, bin codes and totes, in one statement; with a
    ``client_id``, also the answer stored for it (None: none, or no ``client_id``); with a ``gtin`` (a scanned
    item), also its product (``_Names.products``)."""
    params = {"task_id": task.id, "location_id": task.location_id}
    if client_id is None:
        rows = session.execute(_LINES, params).all()
    elif gtin is None:
        rows = session.execute(_LINES_AND_ANSWER, {**params, "client_id": client_id}).all()
    else:
        rows = session.execute(_LINES_ANSWER_AND_PRODUCT, {**params, "client_id": client_id, "gtin": gtin}).all()
    set_committed_value(task, "lines", [row[0] for row in rows])
    if rows:
        names = _Names(location=rows[0][4])
    else:
        names = _Names(
            location=session.execute(select(Location.code).where(Location.id == task.location_id)).scalar_one()
        )
    for line, sku, bin_code, tote, _location, bin_kind, *_ in rows:
        names.skus[line.product_id] = sku
        if line.bin_id:
            names.bins[line.bin_id] = bin_code
            names.bin_kinds[line.bin_id] = bin_kind
        if line.order_id:
            names.totes[line.order_id] = tote
    if gtin is not None and rows:
        product_id, sku, name = rows[0][7:10]
        names.products[gtin] = (product_id, sku, name) if product_id is not None else None
    if client_id is None:
        return names, None
    if rows:
        return names, rows[0][6]
    return names, session.execute(_ANSWER, {"task_id": task.id, "client_id": client_id}).scalar_one_or_none()


def _states(session: Session, task: Task, names: _Names) -> list[rules.LineState]:
    """The lines as the rules see them, from the loaded lines; names the work added (a product counted, a bin
    named, a line on another bin) are read then; a kind that gives an order a tote says so in ``Work.totes``."""
    missing_skus = {line.product_id for line in task.lines} - names.skus.keys()
    if missing_skus:
        names.skus.update(session.execute(select(Product.id, Product.sku).where(Product.id.in_(missing_skus))).all())
    missing_bins = {line.bin_id for line in task.lines if line.bin_id} - names.bins.keys()
    if missing_bins:
        names.bins.update(session.execute(select(Bin.id, Bin.code).where(Bin.id.in_(missing_bins))).all())
    missing_orders = {line.order_id for line in task.lines if line.order_id} - names.totes.keys()
    if missing_orders:
        names.totes.update(session.execute(select(Order.id, Order.tote).where(Order.id.in_(missing_orders))).all())
    return [
        rules.LineState(
            line_no=line.line_no,
            product_id=line.product_id,
            sku=names.skus[line.product_id],
            qty=line.qty,
            done=line.done,
            bin=names.bins.get(line.bin_id) if line.bin_id else None,
            lot=line.lot or "",
            item_scanned=line.item_scanned,
            bin_scanned=line.bin_scanned,
            short=line.short,
            order=line.order_id,
            order_line=line.order_line_id,
            tote=names.totes.get(line.order_id) if line.order_id else task.tote,
        )
        for line in sorted(task.lines, key=lambda line: line.line_no)
    ]


def task_view(session: Session, task: Task, names: _Names | None = None) -> dict[str, Any]:
    """The API's task: ``{id, kind, status, location, assignee, reference, tote, lines, next}``. ``names``: what
    was read with the lines earlier in this unit of work (else the lines are read now)."""
    if names is None:
        names, _ = _load_lines(session, task)
    states = _states(session, task, names)
    assignee = session.get(User, task.assignee_id) if task.assignee_id else None
    closed = task.status in CLOSED
    return {
        "id": task.id,
        "kind": task.kind,
        "status": task.status,
        "location": names.location,
        "assignee": assignee.username if assignee else None,
        "reference": task.reference,
        "tote": task.tote,
        "lines": [
            {
                "line": s.line_no,
                "sku": s.sku,
                "qty": s.qty,
                "done": s.done,
                **({"short": s.short} if s.short else {}),
                "bin": s.bin,
                "lot": s.lot or None,
                "order": s.order,
            }
            for s in states
        ],
        "next": rules.nothing_left() if closed else handler_for(task.kind).next_step(task, states),
    }


# --- working ---------------------------------------------------------------------------------------------------


def _take(task: Task, user: User) -> None:
    """Refuse work on a closed task or one another person holds; else the task is ``user``'s, in progress."""
    if task.status in CLOSED:
        raise InvalidState(f"task {task.id} is {task.status}", {"status": task.status})
    if task.assignee_id is not None and task.assignee_id != user.id:
        raise InvalidState(f"task {task.id} is held by another person", {"status": task.status})
    if task.assignee_id != user.id:  # only a change makes the task dirty (each later statement would flush it)
        task.assignee_id = user.id
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.IN_PROGRESS


def claim_task(task_id: int, user: User) -> dict[str, Any]:
    """Assign the task to ``user`` and set it ``in_progress``. Locks the task row. Raises NotFound (no such task
    here), InvalidState (done, cancelled, or held by another person)."""
    with unit_of_work() as session:
        task = _visible(session, task_id, user, lock=True)
        _take(task, user)
        session.flush()
        return task_view(session, task)


def apply_scan(
    task_id: int,
    client_id: str,
    code: str | None,
    qty: int | None,
    user: User,
    device: str | None = None,
    condition: str | None = None,
) -> dict[str, Any]:
    """Apply one scan to a task: ``{"ok", "message", "task"}``. Locks the task row (so two scans of one task, and a
    retry racing its first try, are applied one after the other). A client id already used on the task answers
    the stored first answer and changes nothing. Where ``next.expect`` is ``qty``, a ``qty`` with no code is taken.
    ``condition`` ``damaged``: the scanned units arrived damaged (a transfer's receiving; other kinds ignore it).

    Raises NotFound, InvalidState (task closed or held by another), UnknownCode (the code names nothing here),
    WrongBin / WrongProduct / WrongLot / WrongTote / OverQuantity (the scan does not fit ``next``),
    ValidationError (no code where one is needed, a qty below 1); nothing changes then."""
    parsed = _parsed(code)
    gtin = parsed.gtin14 if parsed is not None and parsed.kind is ScanKind.PRODUCT else None
    with unit_of_work() as session:
        stored, work, names = _begin(session, task_id, client_id, user, device, gtin)
        if stored is not None:
            return stored
        task = work.task
        work.condition = condition
        if session.get_bind().dialect.name == "postgresql":
            work.closing = []
        if qty is not None and qty < 1:
            raise ValidationError.one("qty", "must be at least 1")
        handler = handler_for(task.kind)
        step = handler.next_step(task, work.states)
        if step["expect"] == "nothing":
            raise InvalidState(f"task {task.id}: {step['prompt']}", {"status": task.status})
        facts = None
        if code and parsed is not None:
            facts = _facts(
                resolve_parsed(
                    parsed,
                    task.location_id,
                    expect=step["expect"],
                    session=session,
                    known=names.products,
                    known_bins=names.known_bins(task.location_id),
                )
            )
        elif code:
            facts = _facts(resolve_scan(code, task.location_id, expect=step["expect"], session=session))
        elif not (step["expect"] == "qty" and qty is not None):
            raise ValidationError.one("code", f"scan a code: {step['prompt']}")
        message = handler.scan(work, facts, qty)
        handler.after_scan(work)
        return _answer(session, task, client_id, code or "", message, user, device, names, work.closing)


def short_pick(task_id: int, client_id: str, qty_found: int, user: User, device: str | None = None) -> dict[str, Any]:
    """The bin of the pick task's next line holds only ``qty_found`` units: those are picked, the rest is reserved
    again elsewhere or flagged, and a count task opens for the bin. Locks the task row; idempotent by
    ``client_id`` like a scan. Raises NotFound, InvalidState (not a pick, closed, held by another, nothing to
    pick), ValidationError (``qty_found`` below 0 or not below what is asked)."""
    with unit_of_work() as session:
        stored, work, names = _begin(session, task_id, client_id, user, device)
        if stored is not None:
            return stored
        task = work.task
        if qty_found < 0:
            raise ValidationError.one("qty_found", "must be 0 or more")
        handler = handler_for(task.kind)
        message = handler.short(work, qty_found)
        handler.after_scan(work)
        return _answer(session, task, client_id, f"short:{qty_found}", message, user, device, names)


def _begin(
    session: Session, task_id: int, client_id: str, user: User, device: str | None, gtin: str | None = None
) -> tuple[dict[str, Any] | None, Work, _Names]:
    """Lock the task; a replay's stored answer (then nothing else), else the task taken by ``user`` with its lines
    read: the work a scan or a short pick is applied to."""
    task = _visible(session, task_id, user, lock=True)
    names, stored = _load_lines(session, task, client_id, gtin)
    # Replayed only to the person who holds the task (another person's request with the same id is refused by
    # ``_take`` like any other). Read after the task row is locked, in a statement of its own: on PostgreSQL a
    # retry that waited for the lock must see the answer its first try committed meanwhile, and a join in the
    # locking statement would read the scans as they were before the wait (the retries race in
    # tests/web/api/test_tasks_api.py).
    if stored is not None and task.assignee_id in (None, user.id):
        return stored, None, None  # type: ignore[return-value]
    _take(task, user)
    return None, Work(session, task, user, device, _states(session, task, names), names.totes), names


def _parsed(code: str | None) -> ScanResult | None:
    """The scan parsed (None: no code, or one that does not parse: resolving it says why, in its words)."""
    if not code:
        return None
    try:
        return parse_scan(code)
    except ScanError:
        return None


def _facts(resolved: Resolved) -> rules.ScanFacts:
    return rules.ScanFacts(
        kind=resolved.kind,
        value=resolved.value,
        product_id=resolved.product_id,
        sku=resolved.sku,
        bin=resolved.bin,
        lot=resolved.lot,
        order_id=resolved.order_id,
        expiry=resolved.expiry,
    )


def _answer(
    session: Session,
    task: Task,
    client_id: str,
    raw: str,
    message: str,
    user: User,
    device: str | None,
    names: _Names,
    closing: list[Closing] | None = None,
) -> dict[str, Any]:
    """The answer of an applied scan, stored under its client id (a retry answers it again). ``closing``
    (PostgreSQL): writes that ride on the statement storing it; the task's own change of status or assignee joins
    them."""
    if closing is not None:
        closing = [*closing, *_task_change(task)]
    session.flush()
    view = task_view(session, task, names)
    answer = {"ok": True, "message": message or view["next"]["prompt"], "task": view}
    params = {
        "task_id": task.id,
        "client_id": client_id,
        "raw": raw,
        "answer": answer,
        "actor": user.username,
        "device": device,
    }
    # Core, past the ORM: the session was flushed above, and the ORM's flush of one new row costs more than the row.
    if not closing:
        session.connection().execute(_INSERT_SCAN, params)
        return answer
    merged = {**params, "created_at": utcnow()}
    for write in closing:
        merged.update(write.params)
    session.connection().execute(_insert_scan_after(", ".join(write.ctes for write in closing)), merged)
    return answer


#: what a scan may change on its task row, written by its closing statement
_TASK_CHANGES = frozenset({"status", "assignee_id"})
_TASK_CHANGE_CTE = """task_changed AS (
    UPDATE task SET status = :task_status, assignee_id = :task_assignee_id, updated_at = :task_updated_at
    WHERE id = :task_changed_id RETURNING 1
)"""


def _task_change(task: Task) -> list[Closing]:
    """The task row's change (status, assignee) as a closing write, taken out of the ORM's next flush; nothing
    when the task is unchanged or changed otherwise (the flush writes it then, as always)."""
    changed = inspect(task).committed_state.keys()
    if not changed or not changed <= _TASK_CHANGES:
        return []
    now = utcnow()
    for key, value in (("status", task.status), ("assignee_id", task.assignee_id), ("updated_at", now)):
        set_committed_value(task, key, value)
    status = task.status.value if isinstance(task.status, enum.Enum) else task.status
    return [
        Closing(
            _TASK_CHANGE_CTE,
            {
                "task_status": status,
                "task_assignee_id": task.assignee_id,
                "task_updated_at": now,
                "task_changed_id": task.id,
            },
        )
    ]


@functools.lru_cache(maxsize=16)
def _insert_scan_after(ctes: str) -> TextClause:
    """The scan's INSERT after the data-modifying CTEs ``ctes`` (a handful of combinations: built once each)."""
    return text(
        f"WITH {ctes}\nINSERT INTO task_scan (task_id, client_id, raw, answer, actor, device, created_at)\n"
        "VALUES (:task_id, :client_id, :raw, :answer, :actor, :device, :created_at)"
    ).bindparams(bindparam("answer", type_=TaskScan.__table__.c.answer.type))


def complete_task(task_id: int, user: User) -> dict[str, Any]:
    """Close a task whose work is done (what that means is the kind's: a count applies its variance or waits for
    approval). Locks the task row. Raises NotFound, InvalidState (done, cancelled, held by another person, or work
    left)."""
    with unit_of_work() as session:
        task = _visible(session, task_id, user, lock=True)
        _take(task, user)
        names, _ = _load_lines(session, task)
        handler_for(task.kind).complete(Work(session, task, user, None, _states(session, task, names), names.totes))
        session.flush()
        return task_view(session, task, names)
