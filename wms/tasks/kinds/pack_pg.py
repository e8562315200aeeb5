"""PostgreSQL: an order's pack task opened by the scan of its last unit, in one statement (data-modifying CTEs).

What :func:`wms.tasks.kinds.pack.fully_picked` and :func:`wms.tasks.kinds.pack.open_pack_task` do in four
statements (is anything left to pick here, the picked units and whether a pack task exists, the task, its lines)
runs here as one: the last scan of a pick task is the slowest scan a picker makes (a tenth of all scans when tasks
have four lines), and its round trips were its time. The same rules: nothing is opened while a reservation of the
order here is open or an active pick line of it has units left, nor when a pack task of the order here exists (open
or done); one line per (order line, product, lot) picked, in that order, in the staging bin.

The statement sees what the transaction wrote before it (the caller flushes first), so the scan's own pick counts.
On a scan the same CTEs ride on the statement that stores the scan's answer (``wms.tasks.kinds.base.Closing``): the
order's last unit then costs no round trip more than any other.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from wms.orders.models import Order
from wms.tasks.models import TaskKind, TaskStatus
from wms.timeutil import utcnow

# The CTEs (their names and bind parameters start with ``pack_``: they also ride on a scan's closing statement).
PACK_CTES = """
pack_picked AS (
    SELECT tl.order_line_id, tl.product_id, coalesce(tl.lot, '') AS lot, sum(tl.done) AS qty
    FROM task_line tl JOIN task t ON t.id = tl.task_id
    WHERE tl.order_id = :pack_order_id AND t.location_id = :pack_location_id AND t.kind = :pack_pick
      AND t.status <> :pack_cancelled AND tl.done > 0
    GROUP BY tl.order_line_id, tl.product_id, coalesce(tl.lot, '')
), pack_go AS (
    SELECT 1 WHERE EXISTS (SELECT 1 FROM pack_picked)
    AND NOT EXISTS (
        SELECT 1 FROM reservation r JOIN order_line ol ON ol.id = r.order_line_id
        WHERE ol.order_id = :pack_order_id AND r.location_id = :pack_location_id AND r.needs_transfer IS false
          AND r.open_qty > 0)
    AND NOT EXISTS (
        SELECT 1 FROM task_line tl JOIN task t ON t.id = tl.task_id
        WHERE tl.order_id = :pack_order_id AND t.location_id = :pack_location_id AND t.kind = :pack_pick
          AND t.status IN (:pack_open, :pack_in_progress) AND tl.done + tl.short < tl.qty)
    AND NOT EXISTS (
        SELECT 1 FROM task p JOIN task_line pl ON pl.task_id = p.id
        WHERE pl.order_id = :pack_order_id AND p.kind = :pack_pack AND p.location_id = :pack_location_id
          AND p.status <> :pack_cancelled)
), pack_task AS (
    INSERT INTO task (kind, status, location_id, reference, tote, created_at, updated_at)
    SELECT :pack_pack, :pack_open, :pack_location_id, CAST(:pack_reference AS JSON), :pack_tote, :pack_now, :pack_now
    FROM pack_go
    RETURNING id
), pack_lines AS (
    INSERT INTO task_line (task_id, line_no, product_id, qty, done, bin_id, lot, order_id, order_line_id,
                           item_scanned, bin_scanned, short)
    SELECT pack_task.id,
           row_number() OVER (ORDER BY coalesce(p.order_line_id, 0), p.product_id, p.lot),
           p.product_id, p.qty, 0, :pack_staging_id, p.lot, :pack_order_id, p.order_line_id, false, false, 0
    FROM pack_task CROSS JOIN pack_picked p
    RETURNING 1
)"""

_OPEN_PACK_TASK = text("WITH" + PACK_CTES + "\nSELECT id FROM pack_task")


def pack_task_params(order: Order, location_id: int, staging_id: int) -> dict[str, Any]:
    """The bind values of :data:`PACK_CTES` for ``order`` picked at ``location_id`` into ``staging_id``."""
    return {
        "pack_order_id": order.id,
        "pack_location_id": location_id,
        "pack_staging_id": staging_id,
        "pack_tote": order.tote,
        "pack_reference": json.dumps({"order": order.id}),
        "pack_now": utcnow(),
        "pack_pick": TaskKind.PICK.value,
        "pack_pack": TaskKind.PACK.value,
        "pack_open": TaskStatus.OPEN.value,
        "pack_in_progress": TaskStatus.IN_PROGRESS.value,
        "pack_cancelled": TaskStatus.CANCELLED.value,
    }


def open_pack_task_if_picked(session: Session, order: Order, location_id: int, staging_id: int) -> int | None:
    """Open the order's pack task at the location when nothing of it is left to pick there and it has none yet;
    its id, else None. Runs in the caller's unit of work, the order row locked; flushes first."""
    session.flush()
    return (
        session.connection()
        .execute(_OPEN_PACK_TASK, pack_task_params(order, location_id, staging_id))
        .scalar_one_or_none()
    )
