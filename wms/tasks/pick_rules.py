"""Pure rules of a pick task (no database): what it asks for next, and what a scan does to it.

A pick task walks bins in the order of its lines. For each line: a tote for the line's order (scanned once per
order: every later line of that order goes into the same tote), then the line's bin, then its item. A line of one
unit is done by its item scan (no tap); a line of more units takes one scan per unit, or a typed number of units
(``qty`` on the scan, or alone once ``next.expect`` is ``qty``). Lot-tracked lines take the lot the wave chose (the
oldest expiry in the bin): the scan must carry it (GS1-128 with AI 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wms.errors import InvalidState, OverQuantity, ValidationError, WrongBin, WrongLot, WrongProduct, WrongTote
from wms.tasks.rules import LineState, ScanFacts, nothing_left, scanned, this_is


@dataclass(frozen=True)
class PickEffect:
    """What a pick scan does. ``action``: ``tote`` (``tote`` is now the tote of ``line``'s order), ``bin`` (the
    line's bin is confirmed), ``pick`` (``qty`` units of ``line`` go into its order's tote)."""

    action: str
    line_no: int
    qty: int = 0
    tote: str | None = None


def current_pick_line(lines: Sequence[LineState]) -> LineState | None:
    """The line being worked: one whose bin was scanned and still has units left, else the first with units left."""
    for line in lines:
        if line.bin_scanned and line.remaining > 0:
            return line
    return next((line for line in lines if line.remaining > 0), None)


def _step(expect: str, prompt: str, line: LineState, **extra: Any) -> dict[str, Any]:
    return {"expect": expect, "prompt": prompt, "bin": line.bin, "sku": line.sku, "qty": line.remaining} | extra


def pick_next(lines: Sequence[LineState]) -> dict[str, Any]:
    """The API's ``next`` of a pick task (``order`` is added: the order the tote is for)."""
    line = current_pick_line(lines)
    if line is None:
        return nothing_left()
    if line.tote is None:
        return _step("tote", f"Scan a tote for order {line.order}", line, order=line.order)
    if not line.bin_scanned:
        return _step("bin", f"Scan bin {line.bin}", line, order=line.order, tote=line.tote)
    if line.done > 0:
        return _step(
            "qty",
            f"{line.remaining} more x {line.sku} into tote {line.tote}: scan each or type how many",
            line,
            order=line.order,
            tote=line.tote,
        )
    units = f"{line.remaining} x " if line.remaining > 1 else ""
    return _step("product", f"Scan item {units}{line.sku}", line, order=line.order, tote=line.tote)


def pick_scan(
    lines: Sequence[LineState], scan: ScanFacts | None, qty: int | None, totes_in_use: dict[str, int]
) -> PickEffect:
    """What ``scan`` (None: a typed ``qty`` alone) does to a pick task. ``totes_in_use``: tote code -> the open
    order that holds it (a tote is free while no open order uses it).

    Raises WrongTote, WrongBin, WrongProduct, WrongLot, OverQuantity, ValidationError (a typed qty where a scan is
    needed), InvalidState (nothing left); nothing changes then."""
    line = current_pick_line(lines)
    if line is None:
        raise InvalidState("this pick is done: nothing more to scan")
    step = pick_next(lines)
    if scan is None:
        if step["expect"] != "qty" or qty is None:
            raise ValidationError.one("code", f"scan a code: {step['prompt']}")
        return _units(line, qty)
    if step["expect"] == "tote":
        if scan.kind != "tote":
            raise WrongTote(
                f"{this_is(scan)} Scan a free tote for order {line.order}.",
                {"expected": "tote", "scanned": scanned(scan)},
            )
        holder = totes_in_use.get(scan.value)
        if holder is not None and holder != line.order:
            raise WrongTote(
                f"Tote {scan.value} holds order {holder}. Scan a free tote for order {line.order}.",
                {"expected": "a free tote", "scanned": scan.value},
            )
        return PickEffect("tote", line.line_no, tote=scan.value)
    if step["expect"] == "bin":
        if scan.kind != "bin" or scan.bin != line.bin:
            raise WrongBin(f"{this_is(scan)} Scan bin {line.bin}.", {"expected": line.bin, "scanned": scanned(scan)})
        return PickEffect("bin", line.line_no)
    # expecting the item (or, on a line of several units, more of it or a typed number)
    if scan.kind != "product" or scan.product_id != line.product_id:
        raise WrongProduct(f"{this_is(scan)} Scan item {line.sku}.", {"expected": line.sku, "scanned": scanned(scan)})
    if line.lot and scan.lot != line.lot:
        message = (
            f"This is lot {scan.lot} of {line.sku}. Pick lot {line.lot} (the oldest in {line.bin})."
            if scan.lot
            else f"{line.sku} is picked by lot: scan the GS1 code with lot {line.lot}."
        )
        raise WrongLot(message, {"expected": line.lot, "scanned": scan.lot or scanned(scan)})
    return _units(line, 1 if qty is None else qty)


def _units(line: LineState, qty: int) -> PickEffect:
    if qty > line.remaining:
        raise OverQuantity(
            f"Only {line.remaining} x {line.sku} left to pick on this line, not {qty}.",
            {"expected": line.remaining, "scanned": qty},
        )
    return PickEffect("pick", line.line_no, qty)


def short_effect(lines: Sequence[LineState], qty_found: int) -> tuple[LineState, int, int]:
    """A short pick of the current line: ``(line, units to pick now, units missing)``. Raises InvalidState when
    nothing is left or no tote was scanned yet for units that were found, ValidationError when ``qty_found`` is
    not below what is left."""
    line = current_pick_line(lines)
    if line is None:
        raise InvalidState("this pick is done: nothing is short")
    if qty_found >= line.remaining:
        raise ValidationError.one(
            "qty_found", f"{qty_found} is not short of the {line.remaining} asked: scan the items instead"
        )
    if qty_found > 0 and line.tote is None:
        raise InvalidState(f"scan a tote for order {line.order} first", {"expected": "tote"})
    return line, qty_found, line.remaining - qty_found
