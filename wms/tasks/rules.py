"""Pure rules of tasks (no database): what a task asks for next, what a scan means for it, where to put away.

A rule gets plain values (a task's lines as :class:`LineState`, a resolved scan as :class:`ScanFacts`) and
answers with an :class:`Effect` the service applies, or raises the typed error of the contract (``wrong_bin``,
``wrong_product``, ``wrong_lot``, ``over_quantity``...) whose message says what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from wms.errors import InvalidState, OverQuantity, WrongBin, WrongLot, WrongProduct

#: bin kinds stock is put away into (sellable stock on the shelves)
PUTAWAY_BIN_KINDS = ("pick", "bulk")


@dataclass(frozen=True)
class LineState:
    line_no: int
    product_id: int
    sku: str
    qty: int
    done: int
    bin: str | None = None
    lot: str = ""
    #: put-away: the item was scanned and ``bin`` named; the next scan confirms the bin
    item_scanned: bool = False
    #: pick: the bin was confirmed by scan; the next scans are the item
    bin_scanned: bool = False
    #: pick: units the bin did not hold (closed by a short pick)
    short: int = 0
    #: the order (and order line) the units are for
    order: int | None = None
    order_line: int | None = None
    #: pick, pack: the tote the line's order goes into; None until one is scanned for it
    tote: str | None = None

    @property
    def remaining(self) -> int:
        return self.qty - self.done - self.short


@dataclass(frozen=True)
class ScanFacts:
    """What a scan named (from :class:`wms.scanning.service.Resolved`): ``kind`` ``product``, ``bin``, ...;
    ``value``: what to show ("A-01-2", the sku)."""

    kind: str
    value: str
    product_id: int | None = None
    sku: str | None = None
    bin: str | None = None
    lot: str | None = None
    order_id: int | None = None
    expiry: date | None = None


@dataclass(frozen=True)
class Effect:
    """What a scan does. ``action``: ``item`` (put-away: the item of ``line_no`` was scanned, name its bin),
    ``place`` (put-away: move ``qty`` units of ``line_no`` into its bin)."""

    action: str
    line_no: int
    qty: int = 0
    message: str = ""


@dataclass(frozen=True)
class BinCandidate:
    code: str
    kind: str
    sequence: int
    #: units of the product in the bin
    holds_product: bool = False
    #: the bin holds no units of anything
    empty: bool = False


def current_line(lines: Sequence[LineState]) -> LineState | None:
    """The line being worked: one whose item was scanned, else the first line with units left."""
    for line in lines:
        if line.item_scanned and line.remaining > 0:
            return line
    return next((line for line in lines if line.remaining > 0), None)


def nothing_left() -> dict[str, Any]:
    """The ``next`` of a task with nothing more to scan."""
    return {"expect": "nothing", "prompt": "All done", "bin": None, "sku": None, "qty": None}


def next_step(kind: str, lines: Sequence[LineState]) -> dict[str, Any]:
    """The API's ``next`` of a put-away: ``{expect, prompt, bin, sku, qty}`` (``expect`` ``nothing`` when all is
    done)."""
    line = current_line(lines)
    if line is None:
        return nothing_left()
    if kind == "putaway" and line.item_scanned:
        return {
            "expect": "bin",
            "prompt": f"Put {line.remaining} x {line.sku} in bin {line.bin}: scan bin {line.bin}",
            "bin": line.bin,
            "sku": line.sku,
            "qty": line.remaining,
        }
    if kind == "putaway":
        return {
            "expect": "product",
            "prompt": f"Scan item {line.sku}",
            "bin": None,
            "sku": line.sku,
            "qty": line.remaining,
        }
    # A kind whose rules are not built yet still shows (lists must not fail on it); scans on it are refused.
    return {
        "expect": "nothing",
        "prompt": f"A {kind} task cannot be worked here yet",
        "bin": None,
        "sku": None,
        "qty": None,
    }


def this_is(scan: ScanFacts) -> str:
    """What a refused scan was, in the words its message starts with: "This is bin A-01-2." (every kind's rules
    say it the same way)."""
    if scan.kind == "bin":
        return f"This is bin {scan.bin or scan.value}."
    if scan.kind == "product":
        return f"This is item {scan.sku or scan.value}" + (f", lot {scan.lot}." if scan.lot else ".")
    if scan.kind in ("order", "pickup") and getattr(scan, "order_id", None) is not None:
        return f"This is order {scan.order_id}."
    return f"This is {scan.kind} {scan.value}."


def scanned(scan: ScanFacts) -> str:
    """What a refused scan was, for ``details.scanned``: the bin's code, the product's sku, else the code."""
    return (scan.bin if scan.kind == "bin" else scan.sku if scan.kind == "product" else None) or scan.value


def putaway_scan(lines: Sequence[LineState], scan: ScanFacts, qty: int | None = None) -> Effect:
    """What ``scan`` (with a typed ``qty``, or None: every unit left) does to a put-away task.

    Expecting the item: any line with units left whose product (and lot, where the line has one) it is. Expecting
    the bin: the named bin. Raises WrongProduct, WrongLot, WrongBin, OverQuantity (nothing changes then)."""
    line = current_line(lines)
    if line is None:
        raise InvalidState("this task is done: nothing more to scan")
    if line.item_scanned:
        if scan.kind != "bin" or scan.bin != line.bin:
            raise WrongBin(f"{this_is(scan)} Scan bin {line.bin}.", {"expected": line.bin, "scanned": scanned(scan)})
        units = line.remaining if qty is None else qty
        if units > line.remaining:
            raise OverQuantity(
                f"Only {line.remaining} x {line.sku} left to put away, not {units}.",
                {"expected": line.remaining, "scanned": units},
            )
        return Effect("place", line.line_no, units, f"{units} x {line.sku} put in {line.bin}")
    open_lines = [candidate for candidate in lines if candidate.remaining > 0]
    same_product = [candidate for candidate in open_lines if candidate.product_id == scan.product_id]
    if scan.kind != "product" or not same_product:
        skus = ", ".join(dict.fromkeys(candidate.sku for candidate in open_lines))
        raise WrongProduct(
            f"{this_is(scan)} Scan an item of this delivery: {skus}.",
            {"expected": line.sku, "scanned": scanned(scan)},
        )
    if scan.lot:
        with_lot = [candidate for candidate in same_product if not candidate.lot or candidate.lot == scan.lot]
        if not with_lot:
            lots = ", ".join(candidate.lot for candidate in same_product)
            raise WrongLot(
                f"This is lot {scan.lot} of {scan.sku}. Scan lot {lots}.",
                {"expected": same_product[0].lot, "scanned": scan.lot},
            )
        same_product = with_lot
    chosen = same_product[0]
    return Effect("item", chosen.line_no, chosen.remaining, f"Scanned {chosen.sku}")


def suggest_bin(candidates: Iterable[BinCandidate]) -> str | None:
    """Where to put a product away: the pick or bulk bin that already holds it (lowest walk sequence; pick before
    bulk at the same sequence), else the first empty pick bin in walk order; None when there is neither."""
    ordered = sorted(
        (c for c in candidates if c.kind in PUTAWAY_BIN_KINDS), key=lambda c: (c.sequence, c.kind != "pick", c.code)
    )
    for candidate in ordered:
        if candidate.holds_product:
            return candidate.code
    for candidate in ordered:
        if candidate.kind == "pick" and candidate.empty:
            return candidate.code
    return None
