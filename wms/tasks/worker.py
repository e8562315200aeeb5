"""The task stages ``wms worker`` runs (:mod:`wms.stages`): pickup orders a store can prepare get their stage
task, so that the store's clerks find them on their handhelds."""

from __future__ import annotations

from wms.stages import Stage
from wms.tasks.kinds.stage import stage_tasks_due

# First in a round: a clerk sees a new pickup to prepare as soon as the worker wakes.
STAGES = [Stage("pickups.stage", stage_tasks_due, order=5)]
