"""Station endpoints (station token, reaching only its own station): the agent's jobs, their outcomes, its scans.

See ``docs/printing.md`` ("Station API"). The jobs endpoint long-polls: it holds the request up to ``wait``
seconds (at most 25) until a job is due, so an agent gets a label about half a second after it is queued. Only a
few requests per process may wait at once (:mod:`wms.longpoll`); the others answer at once with ``retry_after``.
"""

from __future__ import annotations

from flask import g

from wms import longpoll
from wms.api import bp, parse_body, require
from wms.api.schemas import JobOutcomeIn, StationScansIn
from wms.params import query_int
from wms.printing.service import job_view
from wms.printing.stations import MAX_WAIT, record_scans, report_job, wait_for_jobs


@bp.get("/stations/<code>/jobs")
@require("station")
def get_station_jobs(code: str):
    wait = query_int("wait", minimum=0, maximum=MAX_WAIT, default=0)
    with longpoll.hold(wait) as grant:
        jobs = wait_for_jobs(g.principal.station_id, grant.seconds)
    # An agent that got jobs may come back at once: labels come in runs (a clerk prints several in a row).
    return {"jobs": jobs, "retry_after": 0 if jobs else grant.retry_after()}


@bp.post("/stations/<code>/jobs/<bigint:job_id>")
@require("station")
def post_station_job_outcome(code: str, job_id: int):
    body = parse_body(JobOutcomeIn)
    job = report_job(g.principal.station_id, job_id, body.outcome, body.reason, body.attempt)
    return job_view(job)


@bp.post("/stations/<code>/scans")
@require("station")
def post_station_scans(code: str):
    body = parse_body(StationScansIn)
    return record_scans(code, [scan.model_dump() for scan in body.scans])
