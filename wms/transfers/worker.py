"""The transfer stage ``wms worker`` runs (:mod:`wms.stages`): pickup orders waiting for a warehouse's stock get
their transfer, so that the warehouse's next wave picks it and a manager sees it coming."""

from __future__ import annotations

from wms.stages import Stage
from wms.transfers.service import pickup_transfers_due

# Before staging (5): a transfer opened now is picked by the warehouse's next wave.
STAGES = [Stage("transfers.pickup", pickup_transfers_due, order=4)]
