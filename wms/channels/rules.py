"""What a channel may sell of a product: pure arithmetic, no database.

Routing (``wms.orders.rules``) and every availability read fold figures with :func:`sellable`; the full feed,
which builds its lines inside the database, uses the SQL form of the same rule, ``wms.channels.availability.
sellable_sql``, and a test holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable


def sellable(free_by_location: Iterable[int], buffer: int) -> int:
    """Units a channel may sell: what its ship-from locations have free (a level reserved beyond its on hand
    counts as 0), less the channel's safety ``buffer``, never below 0."""
    return max(0, sum(max(0, free) for free in free_by_location) - buffer)
