"""Put-away: scan an item of the delivery, be told its bin (:func:`wms.tasks.rules.suggest_bin`), scan the bin to
confirm; the units move from the dock bin into it (ledger reason ``move``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from wms.catalog.models import Product
from wms.errors import InvalidState
from wms.locations.models import Bin, Location
from wms.stock import service as stock
from wms.stock.models import StockQuant
from wms.tasks import rules
from wms.tasks.kinds.base import KindRules, Work, register
from wms.tasks.models import Task, TaskLine


@register
class PutawayRules(KindRules):
    kind = "putaway"

    def next_step(self, task: Task, states: list[rules.LineState]) -> dict[str, Any]:
        return rules.next_step(self.kind, states)

    def scan(self, work: Work, scan: rules.ScanFacts | None, qty: int | None) -> str:
        effect = rules.putaway_scan(work.states, scan or rules.ScanFacts("qty", str(qty)), qty)
        line = work.line(effect.line_no)
        if effect.action == "item":
            _name_bin(work, line)
            return ""  # the answer's message is the new prompt ("Put 3 x A in bin A-01: scan bin A-01")
        _place(work, line, effect.qty)
        return effect.message


def _name_bin(work: Work, line: TaskLine) -> None:
    session, task = work.session, work.task
    bins = session.execute(
        select(Bin.id, Bin.code, Bin.kind, Bin.sequence).where(
            Bin.location_id == task.location_id, Bin.kind.in_(rules.PUTAWAY_BIN_KINDS)
        )
    ).all()
    held = session.execute(
        select(StockQuant.bin_id, StockQuant.product_id).where(
            StockQuant.location_id == task.location_id, StockQuant.qty > 0
        )
    ).all()
    holding = {bin_id for bin_id, product_id in held if product_id == line.product_id}
    occupied = {bin_id for bin_id, _ in held}
    code = rules.suggest_bin(
        rules.BinCandidate(b.code, b.kind, b.sequence, b.id in holding, b.id not in occupied) for b in bins
    )
    if code is None:
        location = session.get(Location, task.location_id)
        raise InvalidState(
            f"no pick bin at {location.code} holds this product and none is empty: put it away by hand",
            {"location": location.code},
        )
    line.bin_id = next(b.id for b in bins if b.code == code)
    line.item_scanned = True


def _place(work: Work, line: TaskLine, qty: int) -> None:
    session, task = work.session, work.task
    location = session.get(Location, task.location_id)
    product = session.get(Product, line.product_id)
    target = session.get(Bin, line.bin_id)
    stock.move(
        location.code,
        task.reference["dock"],
        target.code,
        product.sku,
        qty,
        lot=line.lot or "",
        actor=work.actor,
        device=work.device,
    )
    line.done += qty
    line.item_scanned = False
