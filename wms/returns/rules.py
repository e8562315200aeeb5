"""Pure rules of returns (no database): what may be asked back, what an intake may take in, the status after it.

Raises ValidationError (422) with every bad line at once, field paths as the request names them (``lines[1].qty``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from wms.errors import ValidationError
from wms.returns.models import Disposition, Grade, ReturnStatus


@dataclass(frozen=True)
class Bought:
    """An order line as a return sees it: units sold (shipped or collected) and units on returns already."""

    order_line_id: int
    product_id: int
    sku: str
    sold: int
    on_returns: int

    @property
    def returnable(self) -> int:
        return max(0, self.sold - self.on_returns)


@dataclass(frozen=True)
class Asked:
    sku: str
    qty: int
    reason: str = ""


@dataclass(frozen=True)
class PlannedLine:
    order_line_id: int
    product_id: int
    sku: str
    qty: int
    reason: str


def plan_request(order_id: int, bought: list[Bought], asked: list[Asked]) -> list[PlannedLine]:
    """The return's lines: each asked sku taken from the order's lines that sold it, first line first. Refuses a
    sku the order never sold, and more units than were sold and are not on a return yet."""
    by_sku: dict[str, list[Bought]] = defaultdict(list)
    for line in bought:
        by_sku[line.sku].append(line)
    left = {line.order_line_id: line.returnable for line in bought}
    errors: list[dict[str, str]] = []
    planned: list[PlannedLine] = []
    for i, want in enumerate(asked):
        lines = by_sku.get(want.sku)
        if not lines:
            errors.append({"field": f"lines[{i}].sku", "message": f"{want.sku} was not bought on order {order_id}"})
            continue
        can = sum(left[line.order_line_id] for line in lines)
        if want.qty > can:
            errors.append(
                {
                    "field": f"lines[{i}].qty",
                    "message": f"only {can} unit(s) of {want.sku} were sold on order {order_id} and are not on a "
                    f"return yet",
                }
            )
            continue
        for line_id, take in _spread(want.qty, [line.order_line_id for line in lines], left):
            product_id = next(line.product_id for line in lines if line.order_line_id == line_id)
            planned.append(PlannedLine(line_id, product_id, want.sku, take, want.reason))
    if errors:
        raise ValidationError(errors)
    return planned


@dataclass(frozen=True)
class LineState:
    """A return line as intake sees it: units expected, units taken in so far."""

    return_line_id: int
    sku: str
    qty: int
    received: int

    @property
    def expected(self) -> int:
        return max(0, self.qty - self.received)


@dataclass(frozen=True)
class Intake:
    sku: str
    qty: int
    grade: str
    disposition: str


@dataclass(frozen=True)
class IntakeItem:
    return_line_id: int
    qty: int
    grade: str
    disposition: str


def plan_intake(rma: str, lines: list[LineState], intake: list[Intake]) -> list[IntakeItem]:
    """The items an intake records, spread over the return's lines of each sku. Refuses a sku not on the return,
    more units than are still expected, and restocking a damaged unit."""
    by_sku: dict[str, list[LineState]] = defaultdict(list)
    for line in lines:
        by_sku[line.sku].append(line)
    left = {line.return_line_id: line.expected for line in lines}
    errors: list[dict[str, str]] = []
    items: list[IntakeItem] = []
    for i, got in enumerate(intake):
        on_return = by_sku.get(got.sku)
        if not on_return:
            errors.append({"field": f"lines[{i}].sku", "message": f"{got.sku} is not on return {rma}"})
            continue
        if got.grade == Grade.DAMAGED and got.disposition == Disposition.RESTOCK:
            errors.append(
                {
                    "field": f"lines[{i}].disposition",
                    "message": "a damaged unit cannot be restocked: quarantine or scrap it",
                }
            )
            continue
        can = sum(left[line.return_line_id] for line in on_return)
        if got.qty > can:
            errors.append(
                {"field": f"lines[{i}].qty", "message": f"return {rma} expects {can} more unit(s) of {got.sku}"}
            )
            continue
        for line_id, take in _spread(got.qty, [line.return_line_id for line in on_return], left):
            items.append(IntakeItem(line_id, take, got.grade, got.disposition))
    if errors:
        raise ValidationError(errors)
    return items


def _spread(units: int, line_ids: list[int], left: dict[int, int]) -> list[tuple[int, int]]:
    """``units`` taken from the lines in order, each as far as ``left`` (units still free per line) goes; lowers
    ``left``. The caller checked that they add up."""
    taken = []
    for line_id in line_ids:
        take = min(units, left[line_id])
        if take:
            taken.append((line_id, take))
            left[line_id] -= take
            units -= take
    return taken


def status_after(expected: int, received: int, waiting_in_quarantine: int) -> ReturnStatus:
    """``requested`` until units come in; ``received`` while more are expected; once all are in, ``inspected``
    while some wait in quarantine for a manager, else ``closed``."""
    if received == 0:
        return ReturnStatus.REQUESTED
    if received < expected:
        return ReturnStatus.RECEIVED
    return ReturnStatus.INSPECTED if waiting_in_quarantine else ReturnStatus.CLOSED
