"""Pure rules of counts (no database): what a blind count of a bin asks for next, what a scan does to it, which
variances wait for a manager, and whose reservations give way when a count finds fewer units than are reserved.

A count is blind: the counter is told which bin to count, never how many units the books expect in it. Every
product scan adds units to the line of that product (and lot); what was not scanned was not found (0 units).

The variance threshold (settings ``WMS_COUNT_VARIANCE_UNITS``, default 5, and ``WMS_COUNT_VARIANCE_PERCENT``,
default 10) reads "5 units or 10 %, whichever is larger": a line's variance waits for approval when it is more
than ``units`` units AND more than ``percent`` % of the expected quantity. So a bin expected to hold 3 that holds 0
is fixed at once (3 units are within 5 units), one expected to hold 1,000 that holds 960 too (40 units are within
10 %), one expected to hold 20 that holds 12 waits (8 units are more than 5 units and more than 2), and units found
where the books say none wait once they are more than ``units``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wms.errors import InvalidState, ValidationError, WrongBin, WrongLot, WrongProduct
from wms.tasks.rules import ScanFacts, scanned, this_is


@dataclass(frozen=True)
class Threshold:
    """A variance over both ``units`` and ``percent`` % of the expected quantity waits for approval."""

    units: int = 5
    percent: float = 10.0


@dataclass(frozen=True)
class CountEffect:
    """What a scan does to a count: ``bin`` (the bin is confirmed: counting starts) or ``add`` (``qty`` units of
    ``product_id`` and ``lot`` counted)."""

    action: str
    product_id: int | None = None
    sku: str | None = None
    lot: str = ""
    qty: int = 0


@dataclass(frozen=True)
class Variance:
    """One product (and lot) of a counted bin: what was counted against what the books say."""

    product_id: int
    lot: str
    counted: int
    expected: int

    @property
    def units(self) -> int:
        """Counted minus expected: above 0 the count found more, below 0 fewer."""
        return self.counted - self.expected

    @property
    def percent(self) -> float | None:
        """The variance as a percentage of the expected quantity; None when nothing was expected."""
        return None if self.expected == 0 else 100.0 * self.units / self.expected


@dataclass(frozen=True)
class Held:
    """An open reservation of the product at the count's location (what a loss may take away)."""

    reservation_id: int
    order_id: int
    #: when the order came in: the newest orders give way first
    ordered_at: datetime
    open_qty: int


@dataclass(frozen=True)
class Release:
    reservation_id: int
    order_id: int
    qty: int


# --- the scans ------------------------------------------------------------------------------------------------


def next_step(bin_code: str | None, bin_scanned: bool, waiting: bool = False) -> dict[str, Any]:
    """The API's ``next`` of a count: the bin first, then its items. ``qty`` is always None: the count is blind."""
    if waiting:
        return _step("nothing", "Counted: waiting for a manager's approval", bin_code)
    if not bin_code:
        return _step("nothing", "This count names no bin", None)
    if not bin_scanned:
        return _step("bin", f"Scan bin {bin_code}", bin_code)
    return _step("product", f"Scan each item in {bin_code}, then finish", bin_code)


def _step(expect: str, prompt: str, bin_code: str | None) -> dict[str, Any]:
    return {"expect": expect, "prompt": prompt, "bin": bin_code, "sku": None, "qty": None}


def count_scan(
    bin_code: str | None, bin_scanned: bool, scan: ScanFacts | None, qty: int | None, track_lots: bool = False
) -> CountEffect:
    """What ``scan`` does to a count of ``bin_code``. Before the bin is confirmed only that bin is taken; then each
    product scan counts ``qty`` units (None: 1) more of it, and scanning the bin again changes nothing.

    A product tracked by lot (``track_lots``) needs a code with its lot (GS1); the lot of another product's code is
    ignored (its units are stored without a lot). Raises WrongBin (another bin, or an item before the bin),
    WrongProduct (anything but an item or the bin), WrongLot (a lot-tracked item without its lot), ValidationError
    (no code), InvalidState (a count without a bin)."""
    if not bin_code:
        raise InvalidState("this count names no bin: nothing to scan")
    if scan is None:
        raise ValidationError.one("code", f"scan a code: {next_step(bin_code, bin_scanned)['prompt']}")
    if scan.kind == "bin":
        if scan.bin != bin_code:
            raise WrongBin(f"{this_is(scan)} Scan bin {bin_code}.", {"expected": bin_code, "scanned": scanned(scan)})
        return CountEffect("bin")
    if not bin_scanned:
        raise WrongBin(f"{this_is(scan)} Scan bin {bin_code} first.", {"expected": bin_code, "scanned": scanned(scan)})
    if scan.kind != "product" or scan.product_id is None:
        raise WrongProduct(
            f"{this_is(scan)} Scan the items in bin {bin_code}.", {"expected": "product", "scanned": scanned(scan)}
        )
    lot = (scan.lot or "") if track_lots else ""
    if track_lots and not lot:
        raise WrongLot(
            f"{scan.sku} is tracked by lot: scan the code with its lot (GS1).",
            {"expected": "lot", "scanned": scanned(scan)},
        )
    return CountEffect("add", scan.product_id, scan.sku, lot, 1 if qty is None else qty)


# --- variances ------------------------------------------------------------------------------------------------


def variances(counted: Mapping[tuple[int, str], int], expected: Mapping[tuple[int, str], int]) -> list[Variance]:
    """Every (product id, lot) counted or expected in the bin, in (product, lot) order: what was expected and not
    counted was not found (0 counted)."""
    keys = sorted(set(counted) | set(expected))
    return [Variance(p, lot, counted.get((p, lot), 0), expected.get((p, lot), 0)) for p, lot in keys]


def over_threshold(variance: Variance, threshold: Threshold) -> bool:
    """More than ``threshold.units`` units and more than ``threshold.percent`` % of what was expected (when nothing
    was expected, more than ``units``): "5 units or 10 %, whichever is larger"."""
    off = abs(variance.units)
    return off > threshold.units and off * 100 > threshold.percent * variance.expected


def needs_approval(found: Iterable[Variance], threshold: Threshold) -> bool:
    """A count waits for a manager when any of its lines is over the threshold."""
    return any(over_threshold(v, threshold) for v in found)


def applied_units(units: int, in_bin: int) -> int:
    """The change a variance makes to a quant holding ``in_bin`` units: a loss takes at most what is there."""
    return max(units, -in_bin)


def shortfall(on_hand: int, reserved: int, change: int) -> int:
    """Units of reservations that no longer have stock once on-hand sellable changes by ``change`` (0 if none)."""
    return max(0, reserved - (on_hand + change))


def release_plan(short: int, held: Sequence[Held]) -> list[Release]:
    """Which reservations give up ``short`` units: the newest orders' first (the oldest orders keep their stock),
    each at most its open quantity. When they hold fewer than ``short`` units, all of them (the caller refuses
    that: the stored reserved quantity and the reservations disagree, which ``wms check`` reports)."""
    plan: list[Release] = []
    left = short
    for h in sorted(held, key=lambda h: (h.ordered_at, h.order_id, h.reservation_id), reverse=True):
        if left <= 0:
            break
        take = min(left, h.open_qty)
        if take > 0:
            plan.append(Release(h.reservation_id, h.order_id, take))
            left -= take
    return plan


def attention_note(bin_label: str, released: Mapping[str, int]) -> str:
    """What an order hit by a count says to a manager (``Order.attention``)."""
    units = ", ".join(f"{qty} x {sku}" for sku, qty in sorted(released.items()))
    return f"Count of {bin_label} found fewer units: {units} no longer reserved"


def joined_attention(existing: str | None, note: str, longest: int = 500) -> str:
    """``note`` after what the order already says (once), cut to the column's length."""
    if existing and note in existing:
        return existing[:longest]
    text = f"{existing}; {note}" if existing else note
    return text[:longest]
