"""Pure rules of packing (no database): a pack task checks, at the pack station, that the tote holds exactly the
units of its order.

First the packer names what is on the bench: the task's tote, or its order (the order label's barcode, or the
order number typed). Then every unit is scanned once (or scanned once with a typed quantity): an item the order
does not hold is ``wrong_product``, a lot other than the one picked is ``wrong_lot``, one unit more than was picked
is ``over_quantity`` (an extra item). The task is done when every unit is checked; completing it earlier is
refused, naming what is missing.

A pack line (:class:`wms.tasks.rules.LineState`) is one (order line, lot) picked into the tote: ``qty`` units sit
in the tote, ``done`` of them are checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wms.errors import InvalidState, OverQuantity, WrongLot, WrongProduct, WrongTote
from wms.tasks.rules import LineState, ScanFacts, nothing_left, this_is

#: scan kinds that name an order (an order label, an order number typed, a pickup code)
ORDER_KINDS = ("order", "pickup")


@dataclass(frozen=True)
class Bench:
    """What the pack task is about: its order, the tote the order's units are in (None: none was used), and
    whether the packer has confirmed it by scan."""

    order_id: int
    tote: str | None = None
    confirmed: bool = False


@dataclass(frozen=True)
class Check:
    """What a product scan checks: ``(line_no, units)`` per line (several when one scan's units span lines of one
    product, e.g. two lots), and the message for the packer."""

    units: tuple[tuple[int, int], ...]
    message: str


def first_step(bench: Bench) -> dict[str, Any]:
    """The ``next`` of a pack task whose tote or order is not confirmed yet.

    ``expect`` is ``tote`` when the order has one (a plain code that names nothing else is then taken as a tote,
    and an order number or label still names the order), else ``order``."""
    if bench.tote:
        return {
            "expect": "tote",
            "prompt": f"Scan tote {bench.tote} or order {bench.order_id}",
            "bin": None,
            "sku": None,
            "qty": None,
        }
    return {"expect": "order", "prompt": f"Scan order {bench.order_id}", "bin": None, "sku": None, "qty": None}


def next_step(bench: Bench, lines: Sequence[LineState]) -> dict[str, Any]:
    """The API's ``next`` of a pack task: the tote or order first, then the items, line by line ("Check 2 x A
    (1 of 3)": 2 units of A left to check, 1 of the line's 3 checked); ``nothing`` when every unit is checked."""
    line = next((candidate for candidate in lines if candidate.remaining > 0), None)
    if line is None:
        return nothing_left()
    if not bench.confirmed:
        return first_step(bench)
    return {
        "expect": "product",
        "prompt": f"Check {line.remaining} x {line.sku} ({line.done} of {line.qty})",
        "bin": None,
        "sku": line.sku,
        "qty": line.remaining,
    }


def _what(bench: Bench) -> str:
    return f"tote {bench.tote} or order {bench.order_id}" if bench.tote else f"order {bench.order_id}"


def _shown(scan: ScanFacts) -> str:
    if scan.kind in ORDER_KINDS and scan.order_id is not None:
        return str(scan.order_id)
    if scan.kind == "product":
        return scan.sku or scan.value
    if scan.kind == "bin":
        return scan.bin or scan.value
    return scan.value


def confirm(bench: Bench, scan: ScanFacts) -> str:
    """The packer names the tote or the order on the bench: the task's tote, or its order (by label, number or
    pickup code). Anything else is ``wrong_tote`` (details: expected the task's tote, else its order id)."""
    if scan.kind == "tote" and bench.tote and scan.value == bench.tote:
        return f"Tote {bench.tote}: order {bench.order_id}"
    if scan.kind in ORDER_KINDS and scan.order_id == bench.order_id:
        return f"Order {bench.order_id}" + (f" (tote {bench.tote})" if bench.tote else "")
    expected = bench.tote or str(bench.order_id)
    if scan.kind == "tote":
        this = f"This is tote {scan.value}."
    elif scan.kind in ORDER_KINDS and scan.order_id is not None:
        this = f"This is order {scan.order_id}."
    elif scan.kind == "product":
        this = f"This is item {scan.sku or scan.value}."
    elif scan.kind == "bin":
        this = f"This is bin {scan.bin or scan.value}."
    else:
        this = f"This is {scan.kind} {scan.value}."
    raise WrongTote(f"{this} Scan {_what(bench)}.", {"expected": expected, "scanned": _shown(scan)})


def check(bench: Bench, lines: Sequence[LineState], scan: ScanFacts, qty: int | None = None) -> Check:
    """What a scan of an item (with a typed ``qty``, else 1 unit) checks.

    The item must be one of the order's (else ``wrong_product``); a GS1 lot must be a lot picked for it (a line
    without a lot takes any; else ``wrong_lot``); the units must not be more than are left to check of it (else
    ``over_quantity``: an extra item). Units go to the item's lines in line order."""
    left = [line for line in lines if line.remaining > 0]
    if not left:
        raise InvalidState("every item is checked: nothing more to scan")
    if scan.kind != "product" or scan.product_id is None:
        raise WrongProduct(
            f"{this_is(scan)} Scan the items of order {bench.order_id}: next {left[0].sku}.",
            {"expected": left[0].sku, "scanned": _shown(scan)},
        )
    same = [line for line in lines if line.product_id == scan.product_id]
    if not same:
        raise WrongProduct(
            f"Item {scan.sku or scan.value} is not in order {bench.order_id}: put it aside.",
            {"expected": left[0].sku, "scanned": _shown(scan)},
        )
    if scan.lot:
        with_lot = [line for line in same if not line.lot or line.lot == scan.lot]
        if not with_lot:
            lots = ", ".join(dict.fromkeys(line.lot for line in same))
            raise WrongLot(
                f"This is lot {scan.lot} of {scan.sku}. Order {bench.order_id} has lot {lots}.",
                {"expected": same[0].lot, "scanned": scan.lot},
            )
        same = with_lot
    units = 1 if qty is None else qty
    remaining = sum(line.remaining for line in same)
    sku = scan.sku or same[0].sku
    if units > remaining:
        if remaining == 0:
            message = f"Every {sku} of order {bench.order_id} is checked: this one is extra. Put it aside."
        else:
            message = f"Only {remaining} x {sku} left to check in order {bench.order_id}, not {units}: extra items?"
        raise OverQuantity(message, {"expected": remaining, "scanned": units})
    taken: list[tuple[int, int]] = []
    rest = units
    for line in same:
        if rest == 0:
            break
        share = min(rest, line.remaining)
        if share:
            taken.append((line.line_no, share))
            rest -= share
    checked = sum(line.qty - line.remaining for line in same) + units
    total = sum(line.qty for line in same)
    return Check(tuple(taken), f"{units} x {sku} checked ({checked} of {total})")


def missing(lines: Sequence[LineState]) -> list[dict[str, Any]]:
    """The units not checked yet, per line: ``[{"line", "sku", "lot", "missing"}]`` (empty: all checked)."""
    return [
        {"line": line.line_no, "sku": line.sku, "lot": line.lot or None, "missing": line.remaining}
        for line in lines
        if line.remaining > 0
    ]


def missing_message(order_id: int, gaps: Sequence[dict[str, Any]]) -> str:
    """What a packer reads when completing a task with units not checked."""
    listed = ", ".join(f"{gap['missing']} x {gap['sku']}" for gap in gaps)
    return f"Order {order_id} is not complete: not checked yet {listed}. Scan them, or put the order aside."
