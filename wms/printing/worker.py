"""The ``print_due`` stage of ``wms worker``: prints the due jobs of server printers (printers without a station).

One round: claim due jobs (leased and committed before any I/O, ``SKIP LOCKED`` on PostgreSQL), then per printer,
in a thread of its own so that a printer that does not answer holds up no other printer: one status check; not
ready -> every claimed job of it back to ``queued`` with the printer's state; ready -> for each job: render,
commit ``sending_at``, send, record the outcome. Every wait is bounded by the printer URL's timeout.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

from devices.printers import PrinterError, PrinterNotReady, open_printer
from wms.errors import InvalidState, NotFound, ValidationError
from wms.extensions import db
from wms.printing import rules
from wms.printing.service import (
    CLAIM_BATCH,
    JobClaim,
    claim_jobs,
    has_due_jobs,
    printer_url_policy,
    record_outcome,
    render_job,
)
from wms.stages import Stage

log = logging.getLogger(__name__)


def print_due(limit: int = CLAIM_BATCH, *, job_ids: Iterable[int] | None = None, ignore_schedule: bool = False) -> int:
    """Claim and print up to ``limit`` due jobs of server printers; returns how many were claimed (0: nothing due).

    ``job_ids`` / ``ignore_schedule``: see :func:`wms.printing.service.claim_jobs` (``wms printer test`` prints its
    own job through the same claim, so a running worker never prints it as well).
    """
    if job_ids is None and not ignore_schedule and not has_due_jobs():
        return 0  # an idle round costs one read, not a write transaction
    claims = claim_jobs(limit=limit, job_ids=job_ids, ignore_schedule=ignore_schedule)
    if not claims:
        return 0
    by_printer: dict[int, list[JobClaim]] = {}
    for claim in claims:
        by_printer.setdefault(claim.printer_id, []).append(claim)
    app = current_app._get_current_object()
    groups = list(by_printer.values())
    if len(groups) == 1:
        _print_group_in_context(app, groups[0])
        return len(claims)
    threads = max(1, int(app.config.get("PRINT_THREADS", 8)))
    with ThreadPoolExecutor(max_workers=min(threads, len(groups)), thread_name_prefix="print") as pool:
        for future in [pool.submit(_print_group_in_context, app, group) for group in groups]:
            future.result()
    return len(claims)


def _print_group_in_context(app: Flask, claims: list[JobClaim]) -> None:
    # A context (and so a database session) of its own: the printers of a round are printed side by side.
    with app.app_context():
        try:
            print_claims(claims)
        except Exception:
            # Jobs left claimed are taken again (or become unknown) when their lease runs out.
            log.exception("printing on %s failed", claims[0].printer_name)
        finally:
            db.session.remove()


def _record(claim: JobClaim, outcome: str, reason: str | None = None) -> bool:
    try:
        record_outcome(claim.id, outcome, reason, attempt=claim.attempt)
        return True
    except (InvalidState, NotFound) as exc:
        log.info("print job %s: %s not recorded: %s", claim.id, outcome, exc.message)
        return False


def print_claims(claims: list[JobClaim]) -> None:
    """Print the claimed jobs of one printer, in order: one status check, then per job render, ``sending``, send,
    outcome. A printer that is not ready (then or during a send) sends every remaining job back to the queue."""
    first = claims[0]
    refused = url_refused(first.url)
    if refused:
        # A URL stored before the rules (or under looser settings) is not followed: nothing is opened or written.
        log.warning("printer %s: %s", first.printer_name, refused)
        for claim in claims:
            _record(claim, "failed", refused)
        return
    printer = open_printer(first.url)
    status = printer.status()
    if not status.ready:
        state = rules.state_text(status)
        log.info("printer %s not ready: %s", first.printer_name, state)
        for claim in claims:
            _record(claim, "not_ready", state)
        return
    for index, claim in enumerate(claims):
        try:
            data = render_job(claim.kind, claim.data, claim.fmt, claim.printer_name)
        except (ValueError, KeyError, TypeError) as exc:
            _record(claim, "failed", f"cannot make the label: {exc}")
            continue
        if not _record(claim, "sending"):
            continue  # the lease was lost: someone else has the job now
        try:
            printer.send(data, claim.copies, title=claim.reference or f"job {claim.id}")
        except PrinterNotReady as exc:
            state = rules.state_text(exc.status)
            log.info("printer %s not ready: %s", claim.printer_name, state)
            for rest in claims[index:]:
                _record(rest, "not_ready", state)
            return
        except PrinterError as exc:
            _record(claim, "failed", str(exc))
            continue
        except ValueError as exc:
            _record(claim, "failed", f"the printer cannot take this label: {exc}")
            continue
        _record(claim, "printed")


def url_refused(url: str) -> str:
    """Why the worker will not print to ``url`` now ("" when it will): the URL rules under the current settings
    (:func:`wms.printing.rules.check_printer_url`), and for a network printer what its name resolves to (a name
    that resolves to a metadata or link-local address is refused as the address itself would be)."""
    policy = printer_url_policy()
    try:
        rules.check_printer_url(url, policy)
        hosts = rules.tcp_hosts(url)
    except ValidationError as exc:
        return f"the printer's URL is not allowed: {exc.details[0]['message'] if exc.details else exc.message}"
    except ValueError as exc:
        return f"the printer's URL is not allowed: {exc}"
    for host in hosts:
        if rules.host_address(host) is not None:
            continue  # judged as written already
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
        except (OSError, UnicodeError):
            continue  # unresolvable: the send reports it unreachable, as before
        problem = rules.forbidden_resolution(addresses, policy.allow_link_local)
        if problem:
            return f"the printer's URL is not allowed: {host} resolves to {problem}"
    return ""


#: this domain's stage of ``wms worker`` (see ``wms.worker``)
STAGES = [Stage("print_jobs", print_due, order=40)]
