"""Routing: which locations fulfil an order. Pure functions, no database.

The service reads availability, calls :func:`route_ship` or :func:`route_pickup`, then reserves what they chose
with conditional updates (and routes again with fresh figures if another order got there first).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from wms.channels.rules import sellable


@dataclass(frozen=True)
class Candidate:
    """A location that may fulfil lines, in preference order."""

    location_id: int
    #: the units travel to the pickup store first
    needs_transfer: bool = False


@dataclass(frozen=True)
class Allocation:
    line_index: int
    location_id: int
    qty: int
    needs_transfer: bool = False


@dataclass(frozen=True)
class Shortage:
    line_index: int
    product_id: int
    requested: int
    available: int


class NotEnoughStock(Exception):
    def __init__(self, shortages: list[Shortage]):
        super().__init__(f"{len(shortages)} line(s) short")
        self.shortages = shortages


Available = dict[tuple[int, int], int]  # (product id, location id) -> units available


def _shortages(
    lines: list[tuple[int, int]], candidates: list[Candidate], available: Available, buffer: int = 0
) -> list[Shortage]:
    """Lines whose product is short over all candidates, less ``buffer`` units kept back per product (repeated
    products count together): what a channel may sell is :func:`wms.channels.rules.sellable`, as its
    availability reads show it."""
    wanted: dict[int, int] = defaultdict(int)
    for product_id, qty in lines:
        wanted[product_id] += qty
    total = {p: sellable((available.get((p, c.location_id), 0) for c in candidates), buffer) for p in wanted}
    return [
        Shortage(i, product_id, qty, total[product_id])
        for i, (product_id, qty) in enumerate(lines)
        if wanted[product_id] > total[product_id]
    ]


def _allocate(lines: list[tuple[int, int]], candidates: list[Candidate], available: Available) -> list[Allocation]:
    """Fewest locations: one location for everything if any can; else each line from a location already used,
    else from the first that covers it whole, else split in candidate order."""
    left = dict(available)

    def covers(c: Candidate, needs: dict[int, int]) -> bool:
        return all(left.get((p, c.location_id), 0) >= q for p, q in needs.items())

    whole: dict[int, int] = defaultdict(int)
    for product_id, qty in lines:
        whole[product_id] += qty
    for c in candidates:
        if covers(c, whole):
            return [Allocation(i, c.location_id, qty, c.needs_transfer) for i, (_p, qty) in enumerate(lines)]

    allocations: list[Allocation] = []
    used: list[Candidate] = []
    # Big lines first: they are the hardest to place whole.
    for i in sorted(range(len(lines)), key=lambda k: -lines[k][1]):
        product_id, qty = lines[i]
        choice = next((c for c in used if covers(c, {product_id: qty})), None) or next(
            (c for c in candidates if covers(c, {product_id: qty})), None
        )
        if choice is not None:
            left[(product_id, choice.location_id)] -= qty
            allocations.append(Allocation(i, choice.location_id, qty, choice.needs_transfer))
            if choice not in used:
                used.append(choice)
            continue
        remaining = qty
        for c in used + [c for c in candidates if c not in used]:
            take = min(remaining, max(0, left.get((product_id, c.location_id), 0)))
            if take:
                left[(product_id, c.location_id)] -= take
                allocations.append(Allocation(i, c.location_id, take, c.needs_transfer))
                remaining -= take
                if c not in used:
                    used.append(c)
            if not remaining:
                break
        if remaining:  # cannot happen after the shortage check; kept as a guard
            raise NotEnoughStock([Shortage(i, product_id, qty, qty - remaining)])
    return sorted(allocations, key=lambda a: (a.line_index, a.location_id))


def route_ship(
    lines: list[tuple[int, int]], candidates: list[Candidate], available: Available, buffer: int = 0
) -> list[Allocation]:
    """Allocate (product id, qty) lines of a delivery order over ``candidates`` (warehouses by priority, then
    stores that ship). ``buffer``: the channel's safety buffer, units per product it may not sell (so an order
    never takes more than the availability the channel was shown). Raises NotEnoughStock listing every short
    line, ``available`` being what the channel may sell."""
    short = _shortages(lines, candidates, available, buffer)
    if short:
        raise NotEnoughStock(short)
    return _allocate(lines, candidates, available)


def route_pickup(
    lines: list[tuple[int, int]], store_id: int, warehouses: list[int], available: Available
) -> list[Allocation]:
    """Allocate a click & collect order: from the pickup store's own stock when it has a line, else from the
    warehouses (by priority) with a transfer to the store. Raises NotEnoughStock listing every short line."""
    candidates = [Candidate(store_id)] + [Candidate(w, needs_transfer=True) for w in warehouses if w != store_id]
    short = _shortages(lines, candidates, available)
    if short:
        raise NotEnoughStock(short)
    left = dict(available)
    allocations: list[Allocation] = []
    for i, (product_id, qty) in enumerate(lines):
        # The store first: what is on its shelf is ready soonest.
        whole = next((c for c in candidates if left.get((product_id, c.location_id), 0) >= qty), None)
        if whole is not None:
            left[(product_id, whole.location_id)] -= qty
            allocations.append(Allocation(i, whole.location_id, qty, whole.needs_transfer))
            continue
        remaining = qty
        for c in candidates:
            take = min(remaining, max(0, left.get((product_id, c.location_id), 0)))
            if take:
                left[(product_id, c.location_id)] -= take
                allocations.append(Allocation(i, c.location_id, take, c.needs_transfer))
                remaining -= take
            if not remaining:
                break
    return allocations
