"""Pure rules of a transfer_receive task (no database): a store (or warehouse) takes in a transfer's parcel.

First the transfer's label (a parcel's SSCC or tracking number, or the order label of the units), so that the clerk
opens the right parcel; then each item, in any order: a scan is one unit, a typed quantity several. Units beyond
what was shipped of a product are taken in as over units (recorded, never refused: they are in the clerk's hand);
a product the transfer never had is refused. The task ends by itself when every shipped unit is in, or by
``complete``, which records the rest as short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wms.errors import InvalidState, ValidationError, WrongLot, WrongProduct, WrongTote
from wms.tasks.rules import LineState, ScanFacts, nothing_left, scanned, this_is


@dataclass(frozen=True)
class Dock:
    """The receiving's own state: the transfer, the order its units were packed under, its parcels' codes
    (SSCCs and tracking numbers), whether its label was scanned."""

    transfer_id: int
    order_id: int
    parcels: tuple[str, ...]
    checked: bool


@dataclass(frozen=True)
class ReceiveEffect:
    """``label``: the label is the transfer's; ``receive``: ``qty`` units of line ``line_no`` arrived, and
    ``over`` more of its product beyond what was shipped."""

    action: str
    line_no: int = 0
    qty: int = 0
    over: int = 0


def units_left(lines: Sequence[LineState]) -> int:
    return sum(max(line.remaining, 0) for line in lines)


def receive_next(dock: Dock, lines: Sequence[LineState]) -> dict[str, Any]:
    """The API's ``next`` of a transfer_receive task."""
    if not dock.checked:
        return {
            "expect": "order",
            "prompt": f"Scan the label of transfer {dock.transfer_id}",
            "bin": None,
            "sku": None,
            "qty": None,
            "order": dock.order_id,
        }
    line = next((line for line in lines if line.remaining > 0), None)
    if line is None:
        return nothing_left()
    left = units_left(lines)
    return {
        "expect": "product",
        "prompt": f"Scan the items of transfer {dock.transfer_id}: {left} left",
        "bin": None,
        "sku": line.sku,
        "qty": line.remaining,
    }


def is_label(dock: Dock, scan: ScanFacts) -> bool:
    """The scan is the transfer's label: its order (``$O:``, or a parcel's tracking number found as the order), or
    one of its parcels' SSCC / tracking number."""
    if scan.kind in ("order", "sscc", "pickup") and scan.order_id == dock.order_id:
        return True
    value = scan.value.removeprefix("00") if scan.kind == "sscc" else scan.value
    return scan.value in dock.parcels or value in dock.parcels


def receive_scan(dock: Dock, lines: Sequence[LineState], scan: ScanFacts | None, qty: int | None) -> ReceiveEffect:
    """What ``scan`` (with a typed ``qty``: that many units) does to a transfer_receive task. Raises WrongTote for
    anything but the transfer's label first; WrongProduct for a product the transfer does not carry; WrongLot
    for a lot it did not ship; ValidationError for a typed quantity without an item; InvalidState when done."""
    step = receive_next(dock, lines)
    if step["expect"] == "nothing":
        raise InvalidState("this transfer is received: nothing more to scan")
    if scan is None:
        raise ValidationError.one("code", f"scan a code: {step['prompt']}")
    if not dock.checked:
        if not is_label(dock, scan):
            raise WrongTote(
                f"{this_is(scan)} Scan the label of transfer {dock.transfer_id} first.",
                {"expected": f"transfer {dock.transfer_id}", "scanned": scanned(scan)},
            )
        return ReceiveEffect("label")
    same = [line for line in lines if scan.kind == "product" and line.product_id == scan.product_id]
    if not same:
        skus = ", ".join(dict.fromkeys(line.sku for line in lines))
        raise WrongProduct(
            f"{this_is(scan)} Transfer {dock.transfer_id} carries {skus}.",
            {"expected": step["sku"], "scanned": scanned(scan)},
        )
    if scan.lot:
        with_lot = [line for line in same if not line.lot or line.lot == scan.lot]
        if not with_lot:
            lots = ", ".join(line.lot for line in same)
            raise WrongLot(
                f"This is lot {scan.lot} of {scan.sku}. Transfer {dock.transfer_id} carries lot {lots}.",
                {"expected": same[0].lot, "scanned": scan.lot},
            )
        same = with_lot
    units = qty or 1
    line = next((line for line in same if line.remaining > 0), same[0])
    taken = min(units, max(line.remaining, 0))
    return ReceiveEffect("receive", line.line_no, taken, units - taken)
