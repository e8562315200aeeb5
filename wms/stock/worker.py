"""The stock stage ``wms worker`` runs (:mod:`wms.stages`): the stock check on a schedule."""

from __future__ import annotations

from wms.stages import Stage
from wms.stock.checks import check_due

# Last in a round: it reads everything, and nothing else waits for it.
STAGES = [Stage("stock.check", check_due, order=90)]
