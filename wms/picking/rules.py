"""Wave building: due order lines in, pick tasks out. Pure (no database, no clock), deterministic.

The rule, in the order it is applied:

1. **Location and zone.** A task never leaves one location, nor one zone: the zone is the bin code's first part
   before ``-`` (``A-03-2`` is zone ``A``; a code without ``-`` is its own zone). A picker walks one zone.
2. **Priority of orders.** Orders are taken in this order (the first difference decides):
   urgent first; then pickup orders whose store is waiting; then by ship-by cut-off, earliest first (an order
   without a cut-off comes after every order that has one); then oldest ``created_at``; then lowest order id (so
   that equal orders always come out the same way; orders before transfers). An order's flags are read from all
   its lines: it is urgent if any line says so, its cut-off is the earliest one given. Transfers to stores are
   picked like orders: a line's ``source`` says which it is, and an order and a transfer with the same id are two
   orders here (``OrderRef``).
3. **Cluster picking.** Within a location and zone, orders fill a task in priority order, up to
   ``max_orders`` orders and ``max_lines`` lines. Each order gets its own tote slot (1, 2, ...) in the task, in
   priority order: the picker scans a tote once per order and puts that order's units into it. An order whose
   lines in a zone exceed ``max_lines`` alone is split over consecutive tasks (in walk order); an order with lines
   in two zones is in a task of each zone. Either way every input line is in exactly one task.
4. **Walk order.** A task's lines are sorted by the bin's walk sequence, then the bin code, then the tote slot,
   then the line id: one pass through the zone.
5. **Order of the tasks.** Per location (by ``location_id``), tasks come in the priority of their first order
   (so urgent work is picked first), then by zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal, NamedTuple

__all__ = ["DueLine", "OrderRef", "PickLine", "PickTask", "WaveOptions", "build_waves", "order_priority", "zone_of"]

Fulfilment = Literal["ship", "pickup"]
Source = Literal["order", "transfer"]


class OrderRef(NamedTuple):
    """What a tote is for: an order, or a transfer to a store (their ids are apart)."""

    source: Source
    id: int


def zone_of(bin_code: str) -> str:
    """The zone of a bin: its code's first part before ``-`` (``A-03-2`` -> ``A``)."""
    return bin_code.split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class DueLine:
    """One reserved order line due for picking, with what the wave needs to know about its bin and order."""

    order_id: int
    line_id: int
    product_id: int
    qty: int
    location_id: int
    bin_code: str
    walk_seq: int
    order_created_at: datetime
    lot: str | None = None
    fulfilment: Fulfilment = "ship"
    store_waiting: bool = False
    ship_by: datetime | None = None
    urgent: bool = False
    source: Source = "order"

    @property
    def zone(self) -> str:
        return zone_of(self.bin_code)

    @property
    def ref(self) -> OrderRef:
        return OrderRef(self.source, self.order_id)


@dataclass(frozen=True, slots=True)
class WaveOptions:
    """``max_orders``: orders (totes) per task, the cluster size. ``max_lines``: lines per task (None: no limit)."""

    max_orders: int = 8
    max_lines: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_orders, bool) or not isinstance(self.max_orders, int) or self.max_orders < 1:
            raise ValueError(f"max_orders must be a whole number of at least 1, not {self.max_orders!r}")
        if self.max_lines is not None and (
            isinstance(self.max_lines, bool) or not isinstance(self.max_lines, int) or self.max_lines < 1
        ):
            raise ValueError(f"max_lines must be a whole number of at least 1 or None, not {self.max_lines!r}")


@dataclass(frozen=True, slots=True)
class PickLine:
    """A due line placed in a task: ``tote_slot`` is the task's tote (1-based) its order's units go into."""

    due: DueLine
    tote_slot: int


@dataclass(frozen=True, slots=True)
class PickTask:
    """One walk: one location, one zone; ``orders`` in tote-slot order (``orders[i]`` goes into slot ``i + 1``)."""

    location_id: int
    zone: str
    orders: tuple[OrderRef, ...]
    lines: tuple[PickLine, ...] = field(default=())

    def tote_slot(self, order: OrderRef) -> int:
        return self.orders.index(order) + 1


# The priority key: compared as a tuple, smaller first. A missing cut-off sorts after any real one.
PriorityKey = tuple[bool, bool, bool, datetime, datetime, OrderRef]


def order_priority(lines: Sequence[DueLine]) -> PriorityKey:
    """The sort key of one order from its lines (see the module docstring, rule 2)."""
    urgent = any(line.urgent for line in lines)
    store_waiting = any(line.fulfilment == "pickup" and line.store_waiting for line in lines)
    cut_offs = [line.ship_by for line in lines if line.ship_by is not None]
    ship_by = min(cut_offs) if cut_offs else None
    created = min(line.order_created_at for line in lines)
    return (
        not urgent,
        not store_waiting,
        ship_by is None,
        ship_by if ship_by is not None else created,
        created,
        lines[0].ref,
    )


def _walk_key(line: PickLine) -> tuple[int, str, int, int]:
    return (line.due.walk_seq, line.due.bin_code, line.tote_slot, line.due.line_id)


def _check(lines: Sequence[DueLine]) -> None:
    seen: set[tuple[str, int, int]] = set()
    for line in lines:
        if isinstance(line.qty, bool) or not isinstance(line.qty, int) or line.qty < 1:
            raise ValueError(f"order {line.order_id} line {line.line_id}: qty must be at least 1, not {line.qty!r}")
        if not line.bin_code:
            raise ValueError(f"order {line.order_id} line {line.line_id}: bin_code is empty")
        if line.fulfilment not in ("ship", "pickup"):
            raise ValueError(f"order {line.order_id} line {line.line_id}: fulfilment must be ship or pickup")
        if line.source not in ("order", "transfer"):
            raise ValueError(f"order {line.order_id} line {line.line_id}: source must be order or transfer")
        key = (line.source, line.order_id, line.line_id)
        if key in seen:
            raise ValueError(f"{line.source} {line.order_id} line {line.line_id} is given twice")
        seen.add(key)


def build_waves(lines: Iterable[DueLine], options: WaveOptions | None = None) -> list[PickTask]:
    """Group due lines into pick tasks (module docstring: the rule). ``ValueError`` for a bad line or option.

    The result does not depend on the order of ``lines``.
    """
    options = options or WaveOptions()
    lines = list(lines)
    _check(lines)

    by_order: dict[OrderRef, list[DueLine]] = defaultdict(list)
    # (location, zone) -> order -> its lines there (sorted into walk order when cut into tasks).
    groups: dict[tuple[int, str], dict[OrderRef, list[DueLine]]] = defaultdict(lambda: defaultdict(list))
    for line in lines:
        ref = line.ref
        by_order[ref].append(line)
        groups[(line.location_id, line.zone)][ref].append(line)
    priority = {ref: order_priority(order_lines) for ref, order_lines in by_order.items()}

    placed: list[tuple[PriorityKey, PickTask]] = []
    for (location_id, zone), orders in groups.items():
        for chunk in _clusters(orders, priority, options):
            placed.append((priority[chunk[0][0]], _task(location_id, zone, chunk)))
    placed.sort(key=lambda item: (item[1].location_id, item[0], item[1].zone))
    return [task for _, task in placed]


def _clusters(
    orders: dict[OrderRef, list[DueLine]], priority: dict[OrderRef, PriorityKey], options: WaveOptions
) -> list[list[tuple[OrderRef, list[DueLine]]]]:
    """One location and zone's orders cut into tasks: (order id, its lines in walk order) per tote slot."""
    max_lines = options.max_lines
    chunks: list[list[tuple[OrderRef, list[DueLine]]]] = []
    current: list[tuple[OrderRef, list[DueLine]]] = []
    current_lines = 0
    for order_id in sorted(orders, key=priority.__getitem__):
        order_lines = sorted(orders[order_id], key=lambda d: (d.walk_seq, d.bin_code, d.line_id))
        too_full = len(current) >= options.max_orders or (
            max_lines is not None and current_lines + len(order_lines) > max_lines
        )
        if current and too_full:
            chunks.append(current)
            current, current_lines = [], 0
        if max_lines is not None and len(order_lines) > max_lines:
            # Too big for any one task: tasks of its own, max_lines lines at a time, in walk order.
            chunks.extend([[(order_id, order_lines[i : i + max_lines])] for i in range(0, len(order_lines), max_lines)])
            continue
        current.append((order_id, order_lines))
        current_lines += len(order_lines)
    if current:
        chunks.append(current)
    return chunks


def _task(location_id: int, zone: str, orders: list[tuple[OrderRef, list[DueLine]]]) -> PickTask:
    pick_lines = [
        PickLine(due=line, tote_slot=slot)
        for slot, (_, order_lines) in enumerate(orders, start=1)
        for line in order_lines
    ]
    pick_lines.sort(key=_walk_key)
    return PickTask(
        location_id=location_id, zone=zone, orders=tuple(order_id for order_id, _ in orders), lines=tuple(pick_lines)
    )


def ship_by(placed_at: datetime, cutoff: time, zone: tzinfo) -> datetime:
    """The carrier cut-off an order placed at ``placed_at`` has to leave by (UTC): that day's ``cutoff`` in the
    location's ``zone`` when it came in before it, else the next day's (every day: carriers' collection calendars
    are not modelled). A naive ``placed_at`` is UTC."""
    if placed_at.tzinfo is None:
        placed_at = placed_at.replace(tzinfo=UTC)
    local = placed_at.astimezone(zone)
    day = local.date()
    if local.timetz().replace(tzinfo=None) >= cutoff:
        day += timedelta(days=1)
    return datetime.combine(day, cutoff, tzinfo=zone).astimezone(UTC)


def parse_cutoff(text: str) -> time:
    """``HH:MM`` (the ``SHIP_CUTOFF`` setting) as a time; raises ValueError otherwise."""
    hours, sep, minutes = (text or "").strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time of day as HH:MM, e.g. 15:00")
    return time(int(hours), int(minutes))
