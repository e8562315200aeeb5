"""Pure rules of a stage task (no database): a store clerk prepares one pickup order.

First the order's units are taken from the store's shelves line by line, as a pick does (bin, then item; a line
of several units takes a scan each or a typed number), with no tote: the clerk carries one order. Then the order's
pickup label (its pickup code, or its order label), so that the right label goes on the bag; then a pickup-shelf
bin, where the order waits for its customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from wms.errors import InvalidState, ValidationError, WrongBin, WrongTote
from wms.tasks import pick_rules
from wms.tasks.rules import LineState, ScanFacts, nothing_left, scanned, this_is

#: what a stage line's tote is to the pick rules: the clerk's basket (a stage asks for no tote)
BASKET = "basket"


@dataclass(frozen=True)
class Bench:
    """The stage's own state: the order, its pickup code, whether its label was scanned."""

    order_id: int
    pickup_code: str | None
    labelled: bool
    #: the pickup shelf suggested (and printed on the label) once the units are picked
    shelf: str | None = None


@dataclass(frozen=True)
class StageEffect:
    """``bin`` / ``pick`` (as :class:`wms.tasks.pick_rules.PickEffect`), ``label`` (the label is the order's),
    ``shelf`` (stage the order on bin ``shelf``)."""

    action: str
    line_no: int = 0
    qty: int = 0
    shelf: str | None = None


def _picking(lines: Sequence[LineState]) -> list[LineState]:
    return [replace(line, tote=line.tote or BASKET) for line in lines]


def all_picked(lines: Sequence[LineState]) -> bool:
    """Every unit of the stage is in the clerk's basket."""
    return bool(lines) and pick_rules.current_pick_line(_picking(lines)) is None


def stage_next(bench: Bench, lines: Sequence[LineState]) -> dict[str, Any]:
    """The API's ``next`` of a stage task."""
    step = pick_rules.pick_next(_picking(lines))
    if step["expect"] == "qty":
        step["prompt"] = f"{step['qty']} more x {step['sku']}: scan each or type how many"
    if step["expect"] != "nothing":
        step.pop("tote", None)
        return step
    if not lines:
        return nothing_left()
    label = f" {bench.pickup_code}" if bench.pickup_code else ""
    if not bench.labelled:
        return {
            "expect": "order",
            "prompt": f"Put the pickup label{label} on order {bench.order_id}, then scan it",
            "bin": None,
            "sku": None,
            "qty": None,
            "order": bench.order_id,
        }
    where = f"shelf {bench.shelf} (or another pickup shelf)" if bench.shelf else "a pickup shelf"
    return {
        "expect": "shelf",
        "prompt": f"Put order {bench.order_id} on {where} and scan the shelf",
        "bin": bench.shelf,
        "sku": None,
        "qty": None,
        "order": bench.order_id,
    }


def stage_scan(bench: Bench, lines: Sequence[LineState], scan: ScanFacts | None, qty: int | None) -> StageEffect:
    """What ``scan`` (None: a typed ``qty`` alone) does to a stage task. Raises what a pick scan raises while units
    are left; WrongTote for another order's label; WrongBin for anything but a bin where the shelf is asked (the
    caller checks that the bin is a pickup shelf); InvalidState when the task is done."""
    picking = _picking(lines)
    if pick_rules.current_pick_line(picking) is not None:
        effect = pick_rules.pick_scan(picking, scan, qty, {})
        return StageEffect(effect.action, effect.line_no, effect.qty)
    step = stage_next(bench, lines)
    if step["expect"] == "nothing":
        raise InvalidState("this stage is done: nothing more to scan")
    if scan is None:
        raise ValidationError.one("code", f"scan a code: {step['prompt']}")
    if step["expect"] == "order":
        if scan.kind not in ("order", "pickup") or scan.order_id != bench.order_id:
            raise WrongTote(
                f"{this_is(scan)} Scan the pickup label of order {bench.order_id}.",
                {"expected": bench.order_id, "scanned": scanned(scan)},
            )
        return StageEffect("label")
    if scan.kind != "bin" or not scan.bin:
        raise WrongBin(
            f"{this_is(scan)} Scan a pickup shelf.", {"expected": "a pickup shelf", "scanned": scanned(scan)}
        )
    return StageEffect("shelf", shelf=scan.bin)
