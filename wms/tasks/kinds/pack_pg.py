"""PostgreSQL: an order's pack task opened by the scan of its last unit, in one statement (data-modifying CTEs).

What :func:`wms.tasks.kinds.pack.fully_picked` and :func:`wms.tasks.kinds.pack.open_pack_task` do in four
statements (is anything left to pick here, the picked units and whether a pack task exists, the task, its lines)
runs here as one: the last scan of a pick task is the slowest scan a picker makes (a tenth of all scans when tasks
have four lines), and its round trips were its time. The same rules: nothing is opened while a reservation of the
order here is open or an active pick line of it has units left, nor when a pack task of the order here exists (open
or done); one line per (order line, product, lot) picked, in that order, in the staging bin.

The statement sees what the transaction wrote before it (the caller flushes first), so the scan's own pick counts.
"""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session

from wms.orders.models import Order
from wms.tasks.models import TaskKind, TaskStatus
from wms.timeutil import utcnow

_OPEN_PACK_TASK = text(
    """
WITH picked AS (
    SELECT tl.order_line_id, tl.product_id, coalesce(tl.lot, '') AS lot, sum(tl.done) AS qty
    FROM task_line tl JOIN task t ON t.id = tl.task_id
    WHERE tl.order_id = :order_id AND t.location_id = :location_id AND t.kind = :pick
      AND t.status <> :cancelled AND tl.done > 0
    GROUP BY tl.order_line_id, tl.product_id, coalesce(tl.lot, '')
), go AS (
    SELECT 1 WHERE EXISTS (SELECT 1 FROM picked)
    AND NOT EXISTS (
        SELECT 1 FROM reservation r JOIN order_line ol ON ol.id = r.order_line_id
        WHERE ol.order_id = :order_id AND r.location_id = :location_id AND r.needs_transfer IS false
          AND r.open_qty > 0)
    AND NOT EXISTS (
        SELECT 1 FROM task_line tl JOIN task t ON t.id = tl.task_id
        WHERE tl.order_id = :order_id AND t.location_id = :location_id AND t.kind = :pick
          AND t.status IN (:open, :in_progress) AND tl.done + tl.short < tl.qty)
    AND NOT EXISTS (
        SELECT 1 FROM task p JOIN task_line pl ON pl.task_id = p.id
        WHERE pl.order_id = :order_id AND p.kind = :pack AND p.location_id = :location_id
          AND p.status <> :cancelled)
), new_task AS (
    INSERT INTO task (kind, status, location_id, reference, tote, created_at, updated_at)
    SELECT :pack, :open, :location_id, CAST(:reference AS JSON), :tote, :now, :now FROM go
    RETURNING id
), new_lines AS (
    INSERT INTO task_line (task_id, line_no, product_id, qty, done, bin_id, lot, order_id, order_line_id,
                           item_scanned, bin_scanned, short)
    SELECT new_task.id,
           row_number() OVER (ORDER BY coalesce(p.order_line_id, 0), p.product_id, p.lot),
           p.product_id, p.qty, 0, :staging_id, p.lot, :order_id, p.order_line_id, false, false, 0
    FROM new_task CROSS JOIN picked p
    RETURNING 1
)
SELECT id FROM new_task
"""
)


def open_pack_task_if_picked(session: Session, order: Order, location_id: int, staging_id: int) -> int | None:
    """Open the order's pack task at the location when nothing of it is left to pick there and it has none yet;
    its id, else None. Runs in the caller's unit of work, the order row locked; flushes first."""
    session.flush()
    return (
        session.connection()
        .execute(
            _OPEN_PACK_TASK,
            {
                "order_id": order.id,
                "location_id": location_id,
                "staging_id": staging_id,
                "tote": order.tote,
                "reference": json.dumps({"order": order.id}),
                "now": utcnow(),
                "pick": TaskKind.PICK.value,
                "pack": TaskKind.PACK.value,
                "open": TaskStatus.OPEN.value,
                "in_progress": TaskStatus.IN_PROGRESS.value,
                "cancelled": TaskStatus.CANCELLED.value,
            },
        )
        .scalar_one_or_none()
    )
