"""Staff pages of stations: the list, and one station's live scans, printers and recent jobs.

The live feed is a server-sent event stream read from the database (``station_scan`` rows after an id), so any
app server can serve it and nothing is kept in memory between requests. A stream that gets one of the process's
long-poll slots (:mod:`wms.longpoll`) stays open for about ``STATION_EVENTS_SECONDS`` (25); one that gets none
sends what is new and ends at once, telling the browser to come back in a few seconds: many open pages then cost
short requests instead of every server thread. Every stream starts with ``retry:`` and ends with an ``end`` event
that carries the last id and the reconnection delay; the browser's EventSource reconnects by itself with
``Last-Event-ID`` and misses nothing.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, g, render_template, request, stream_with_context

from wms import longpoll
from wms.auth.access import roles_required
from wms.auth.current import current_staff
from wms.auth.models import ROLES
from wms.errors import NotFound
from wms.params import MAX_BIG_ID, InvalidParameter, parse_int
from wms.printing.stations import last_scan_id, scans_after, station_list, station_page, visible_station

bp = Blueprint("stations", __name__, template_folder="templates")

#: every staff role: clerks and pickers see the stations of their own location, managers and admins all
STAFF = ROLES
#: defaults of the live feed (app config keys of the same names override them)
STATION_EVENTS_SECONDS = 25.0
STATION_EVENTS_POLL = 0.5
STATION_EVENTS_KEEPALIVE = 10.0
#: scans read per poll
BATCH = 100


@bp.get("/stations")
@roles_required(*STAFF)
def index():
    return render_template("stations/list.html", stations=station_list(current_staff()))


@bp.get("/stations/<code>")
@roles_required(*STAFF)
def detail(code: str):
    view = station_page(code, current_staff())
    return render_template("stations/detail.html", view=view)


@bp.get("/stations/<code>/events")
@roles_required(*STAFF)
def events(code: str):
    """Server-sent events: one ``scan`` event per scan after ``Last-Event-ID`` (or ``?after=``; without either,
    only scans from now on), ``: keep-alive`` comments, and the end of the response after a while."""
    station = visible_station(code, current_staff())
    after = _after_id(request.headers.get("Last-Event-ID"), request.args.get("after"))
    if after is None:
        after = last_scan_id(station.id)
    config = current_app.config
    stream = _stream(
        station.code,
        after,
        float(config.get("STATION_EVENTS_SECONDS", STATION_EVENTS_SECONDS)),
        float(config.get("STATION_EVENTS_POLL", STATION_EVENTS_POLL)),
        float(config.get("STATION_EVENTS_KEEPALIVE", STATION_EVENTS_KEEPALIVE)),
    )
    response = Response(stream_with_context(stream), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _after_id(*candidates: str | None) -> int | None:
    # The browser sends Last-Event-ID back as it got it; a value that is not a scan id counts as none given.
    for value in candidates:
        try:
            after = parse_int(value, "after", maximum=MAX_BIG_ID)
        except InvalidParameter:
            continue
        if after is not None:
            return after
    return None


def _stream(code: str, after: int, duration: float, poll: float, keepalive: float) -> Iterator[str]:
    # The slot is taken when the stream starts and given back when it ends or the client goes away (the generator
    # is closed); taken here rather than in the view, a response that never starts holds none.
    with longpoll.hold(duration) as grant:
        # The delay is sent first, on every stream: a full stream after a short one must undo the longer delay.
        retry = grant.reconnect_ms()
        yield f"retry: {retry}\n\n"
        deadline = time.monotonic() + grant.seconds
        last_sent = time.monotonic()
        while True:
            try:
                scans = scans_after(code, after, BATCH)
            except NotFound:
                return  # the station was removed
            for scan in scans:
                after = scan["id"]
                data = json.dumps(scan, separators=(",", ":"), ensure_ascii=False)
                yield f"id: {scan['id']}\nevent: scan\ndata: {data}\n\n"
            now = time.monotonic()
            if scans:
                last_sent = now
            if now >= deadline:
                break
            if len(scans) >= BATCH:
                continue  # more are waiting: read on before sleeping
            if now - last_sent >= keepalive:
                last_sent = now
                yield ": keep-alive\n\n"
            time.sleep(min(poll, max(0.0, deadline - now)))
        # The id makes the browser resume after the last scan seen even when this stream sent none (a page opened
        # without ?after=); the event tells the page that the end is planned, so it keeps showing "live".
        end = json.dumps({"retry": retry, "short": grant.cut_short})
        yield f"id: {after}\nretry: {retry}\nevent: end\ndata: {end}\n\n"


@bp.context_processor
def _nonce() -> dict[str, str]:
    # The station page's one inline script and style block run by this nonce; nothing else inline does.
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return {"csp_nonce": g.csp_nonce}


@bp.after_request
def _headers(response: Response) -> Response:
    # Scans and jobs of a signed-in user: not for the browser cache of a shared counter PC after sign-out.
    response.headers["Cache-Control"] = "no-store"
    if response.mimetype == "text/html":
        nonce = g.get("csp_nonce", "none")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            "connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'"
        )
    return response
