"""The pickup stages ``wms worker`` runs (:mod:`wms.stages`): reminders a day before a hold ends, then expiry."""

from __future__ import annotations

from wms.pickups.expiry import expire_due, remind_due
from wms.stages import Stage

# Before the webhook stages (10+): the order.updated rows they write go out in the same round.
STAGES = [Stage("pickups.remind", remind_due, order=6), Stage("pickups.expire", expire_due, order=7)]
