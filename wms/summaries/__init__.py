"""Summaries the managers' pages read instead of scanning millions of rows: each product's last movement per
location (kept from the ledger by a cursor) and each location's stock totals (refreshed on a schedule). Both are
kept by ``wms worker`` stages (:mod:`wms.summaries.worker`); see docs/decisions.md, "Summary tables"."""
