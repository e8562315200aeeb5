"""Pure rules of transfers (no database): what a transfer's status is as people see it, what went wrong on arrival."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wms.transfers.models import TransferStatus

#: the status a transfer shows while it waits to leave, by the status of the order its units are packed under
_BEFORE_SHIPPING = {
    "reserved": TransferStatus.REQUESTED,
    "picking": TransferStatus.PICKING,
    "packed": TransferStatus.PACKED,
    "cancelled": TransferStatus.CANCELLED,
}


def shown_status(stored: str, order_status: str) -> str:
    """A transfer's status: its own once shipped (``in_transit``, ``received``) or cancelled; before, where its
    order is (``requested``, ``picking``, ``packed``; ``cancelled`` when the order was cancelled)."""
    if stored != TransferStatus.REQUESTED:
        return stored
    return str(_BEFORE_SHIPPING.get(order_status, TransferStatus.REQUESTED))


@dataclass(frozen=True)
class Arrival:
    """How one product's units of a transfer arrived."""

    sku: str
    shipped: int
    received: int
    damaged: int

    @property
    def short(self) -> int:
        return max(self.shipped - self.received - self.damaged, 0)

    @property
    def over(self) -> int:
        return max(self.received + self.damaged - self.shipped, 0)


def variance(arrivals: Iterable[Arrival]) -> str | None:
    """What a manager must look at once a transfer is received: units short, over and damaged per sku ("short 2 x
    A; damaged 1 x B"); None when everything shipped arrived in good order."""
    arrivals = list(arrivals)
    parts: list[str] = []
    for label, attr in (("short", "short"), ("over", "over"), ("damaged", "damaged")):
        found = [f"{getattr(a, attr)} x {a.sku}" for a in arrivals if getattr(a, attr) > 0]
        if found:
            parts.append(f"{label} " + ", ".join(found))
    return "; ".join(parts) or None


def parse_lines(text: str) -> tuple[list[dict[str, object]], list[str]]:
    """The lines of a transfer as a manager types them, one per row: ``SKU QTY`` (a sku alone means 1). Returns
    ``([{"sku", "qty"}], [problems])``; each problem names its row."""
    lines: list[dict[str, object]] = []
    problems: list[str] = []
    for number, row in enumerate(text.splitlines(), start=1):
        parts = row.split()
        if not parts:
            continue
        if len(parts) > 2:
            problems.append(f"row {number}: write a sku and a quantity, e.g. KT-1001 5")
            continue
        sku, qty = parts[0], parts[1] if len(parts) == 2 else "1"
        if not qty.isdigit() or int(qty) < 1:
            problems.append(f"row {number}: {qty!r} is not a quantity of at least 1")
            continue
        lines.append({"sku": sku, "qty": int(qty)})
    return lines, problems


@dataclass(frozen=True)
class Need:
    """A product a location keeps between ``min_qty`` and ``max_qty``, and where it stands: ``available`` there
    (sellable less reserved: click & collect orders reserved there count) and ``incoming`` (on replenishment
    transfers to it, not yet received)."""

    location: str
    sku: str
    min_qty: int
    max_qty: int
    available: int
    incoming: int

    @property
    def projected(self) -> int:
        return self.available + self.incoming


@dataclass(frozen=True)
class Suggestion:
    """Send ``qty`` of ``sku`` from ``source`` to ``location`` (``source`` None, ``qty`` 0: no location has any)."""

    location: str
    sku: str
    source: str | None
    qty: int
    projected: int
    min_qty: int
    max_qty: int


def suggest(needs: Iterable[Need], sources: dict[str, list[tuple[str, int]]]) -> list[Suggestion]:
    """What to send where: for every need whose projected stock is below its min, enough to reach its max, from
    the first source (``sources[sku]``: [(location, available)], in the order to ask them, warehouses first) that
    has any, at most what it has; what one suggestion takes from a source, the next cannot. Needs in the order
    given (the most short first is the caller's to choose)."""
    left = {sku: [[loc, units] for loc, units in rows] for sku, rows in sources.items()}
    out: list[Suggestion] = []
    for need in needs:
        if need.projected >= need.min_qty:
            continue
        want = need.max_qty - need.projected
        source, qty = None, 0
        for row in left.get(need.sku, []):
            loc, units = row
            if loc == need.location or units <= 0:
                continue
            source, qty = loc, min(want, units)
            row[1] -= qty
            break
        out.append(Suggestion(need.location, need.sku, source, qty, need.projected, need.min_qty, need.max_qty))
    return out
