"""Task kinds: each module registers the rules of one kind (:mod:`wms.tasks.kinds.base`)."""

from wms.tasks.kinds import count, pack, pick, putaway, stage, transfer_receive  # noqa: F401  (they register themselves)
from wms.tasks.kinds.base import HANDLERS, KindRules, Work, handler_for, register

__all__ = ["HANDLERS", "KindRules", "Work", "handler_for", "register"]
