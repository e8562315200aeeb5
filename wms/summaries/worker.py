"""The summaries' stages ``wms worker`` runs (:mod:`wms.stages`): the ledger folded into each product's last
movement per location, and the locations' stock totals refreshed on a schedule."""

from __future__ import annotations

from wms.stages import Stage
from wms.summaries.last_movement import catch_up
from wms.summaries.stock_totals import refresh_due

# After the domains' own work, before the stock check (90): nothing waits for them but the managers' pages.
STAGES = [
    Stage("summaries.last_movement", catch_up, order=80),
    Stage("summaries.stock_totals", refresh_due, order=85),
]
