"""What a ``wms worker`` stage is. Each domain offers its stages as a ``STAGES`` list; ``wms.worker`` runs them.

This module imports nothing of the domains, so every domain can import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One kind of after-commit work: ``run()`` does what is due now, in transactions of its own, and returns how
    much it did (0: nothing due, so the worker may sleep). ``order`` sorts the stages of a round."""

    name: str
    run: Callable[[], int]
    order: int = 100
