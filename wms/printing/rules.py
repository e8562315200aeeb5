"""Pure rules of the print queue: printer URLs, what a printer's answer means for a job, retry backoff, give-up,
idempotency keys, and the test label. No database, no I/O."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from devices.printers import PrinterState, PrinterStatus, open_printer
from wms.errors import ValidationError

#: printer URL scheme -> what the printer takes
SCHEME_FORMATS: Mapping[str, str] = {
    "zpl+tcp": "zpl",
    "zpl+serial": "zpl",
    "zpl+file": "zpl",
    "cups": "zpl",
    "pdf+cups": "pdf",
    "pdf+dir": "pdf",
}
URL_FORMS = (
    "zpl+tcp://HOST:9100, zpl+serial:///dev/ttyUSB0?baud=9600, zpl+file:///dev/usb/lp0, cups://QUEUE, "
    "pdf+cups://QUEUE or pdf+dir:///path"
)

#: states in which the printer answered and only needs a person (paper, head, ribbon, pause): a job waits for
#: them as long as it takes and never fails
WAITING_STATES = ("paper out", "head open", "ribbon out", "paused")

#: ``last_state`` of a printer that is ready
READY_STATE = "ready"

#: the label kind of ``wms printer test``
TEST_KIND = "test"
#: a valid EAN-13 for the test label's barcode
TEST_GTIN = "5901234123457"

MAX_COPIES = 999
MAX_KEY_LENGTH = 200


def printer_format(url: str) -> str:
    """``"zpl"`` or ``"pdf"`` for a printer URL of API.md; raises ValidationError naming ``url`` for anything
    else (unknown scheme, no host, relative path, bad port or option). Does no I/O."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError.one("url", f"a printer URL is needed: {URL_FORMS}")
    url = url.strip()
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme not in SCHEME_FORMATS:
        raise ValidationError.one("url", f"{url!r} is not a printer URL; use {URL_FORMS}")
    try:
        printer = open_printer(url)
    except ValueError as exc:
        raise ValidationError.one("url", str(exc)) from None
    return printer.format


def state_text(status: PrinterStatus) -> str:
    """A printer's status as stored in ``Printer.last_state`` and shown to people: ``ready``, ``paper out``,
    ``head open, paper out``, ``paused``, ``unreachable: connection refused``, ``unreachable: no answer ...``."""
    if status.state is PrinterState.NO_ANSWER:
        return f"unreachable: {status.reason}"
    return status.reason


def is_waiting_state(state: str | None) -> bool:
    """Whether ``state`` (a ``state_text``, or a reason a station agent reported) is one a job waits out forever:
    the printer answered and needs paper, ribbon, a closed head or to be resumed."""
    text = (state or "").strip().lower()
    return any(text.startswith(s) for s in WAITING_STATES)


def retry_delay(failures: int, max_delay: float, base: float = 1.0, jitter: bool = True) -> float:
    """Seconds until the next try after ``failures`` consecutive not-ready answers (1, 2, ...): ``base`` doubled
    each time, capped at ``max_delay``; with ``jitter``, 80-100 % of that so printers coming back do not get every
    worker at once."""
    failures = max(1, failures)
    delay = min(float(max_delay), float(base) * 2 ** min(failures - 1, 30))
    if jitter:
        delay *= random.uniform(0.8, 1.0)  # noqa: S311 (not cryptography)
    return max(0.0, delay)


def unreachable_since(state: str, previous: datetime | None, now: datetime) -> datetime | None:
    """The new start of the give-up clock after a not-ready answer: kept (or started now) while the printer is
    unreachable; stopped (None) while it answers with a waiting state (paper out never counts towards giving up)."""
    if is_waiting_state(state):
        return None
    return previous or now


def should_give_up(state: str, since: datetime | None, now: datetime, give_up_seconds: float) -> bool:
    """Whether a job whose printer answered ``state`` gives up: only for an unreachable printer, and only once it
    has been unreachable for more than ``give_up_seconds`` since ``since``. 0 or less: never give up."""
    if give_up_seconds <= 0 or since is None or is_waiting_state(state):
        return False
    return now - since > timedelta(seconds=give_up_seconds)


def lease_seconds(jobs: int, printer_timeout: float, margin: float) -> float:
    """How long a claim of ``jobs`` jobs of one printer is held: for each job a status check and a send (each up
    to the printer's timeout, plus the transfer), the jobs one after the other, plus ``margin``."""
    return max(1, jobs) * (2 * printer_timeout + 1.0) + printer_timeout + margin


def idempotency_key(*parts: Any) -> str:
    """A stable key from what makes a print request the same request, e.g.
    ``idempotency_key("pickup", order_id, "ready")`` or a client's request id. Long keys are hashed to fit."""
    if not parts:
        raise ValueError("an idempotency key needs at least one part")
    text = ":".join(str(p) for p in parts)
    if len(text) <= MAX_KEY_LENGTH:
        return text
    return text[:100] + ":" + hashlib.sha256(text.encode()).hexdigest()


def content_key(printer_id: int, kind: str, data: Mapping[str, Any], copies: int) -> str:
    """A key made from the content of a request (same printer, kind, data and copies): for callers that have no
    natural key but must not print twice when a request is retried."""
    body = json.dumps([printer_id, kind, data, copies], sort_keys=True, separators=(",", ":"), default=str)
    return "content:" + hashlib.sha256(body.encode()).hexdigest()


def check_copies(copies: Any) -> int:
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise ValidationError.one("copies", f"must be a whole number 1-{MAX_COPIES}")
    return copies


def check_kind(kind: str, fmt: str, kinds: Mapping[str, tuple[str, ...]]) -> None:
    """``kind`` must be a labels kind the printer's format has (or ``test``); raises ValidationError."""
    if kind == TEST_KIND:
        return
    if kind not in kinds:
        raise ValidationError.one("kind", f"unknown label kind {kind!r}; kinds: {', '.join([*kinds, TEST_KIND])}")
    if fmt not in kinds[kind]:
        raise ValidationError.one("kind", f"a {kind} label is {'/'.join(kinds[kind])} only; this printer takes {fmt}")


def test_label(printer_name: str, requested_at: str) -> tuple[str, dict[str, Any]]:
    """The labels kind and data of the test label: a product label naming the printer and the time."""
    return "product", {"sku": "TEST", "name": f"WMS test label: {printer_name} {requested_at}", "gtin": TEST_GTIN}
