"""The handheld pages (``/hh``): thin pages that hand the work to ``wms/static/hh/hh.js``, which drives the staff
API (``/api/v1/tasks``, ``/shipments``, ``/moves``) with the session cookie and the CSRF token in a header.

Two small JSON endpoints of their own, for the receive screen (session and CSRF, like the API from these pages):
``POST /hh/api/resolve`` says what a scan is (GTIN, GS1 with lot and expiry, a bin...), ``POST /hh/api/receive``
books the delivery through :func:`wms.tasks.service.receive` (a dock bin opens a put-away).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from pydantic import Field

from wms.api import parse_body
from wms.api.schemas import Code, ReceiptLineIn, Schema
from wms.auth.current import current_staff
from wms.catalog.models import Product
from wms.errors import Forbidden, Unauthorized, ValidationError
from wms.extensions import csrf, db
from wms.handheld import queries
from wms.printing.stations import visible_station
from wms.scanning.service import resolve_scan
from wms.tasks.service import get_task, receive

bp = Blueprint("handheld", __name__, url_prefix="/hh", template_folder="templates")


# --- pages -----------------------------------------------------------------------------------------------------


@bp.get("")
@login_required
def home():
    user = current_staff()
    return render_template("handheld/home.html", counts=queries.open_counts(user), data=_data())


@bp.get("/tasks")
@login_required
def task_list():
    kind = request.args.get("kind", "")
    if kind not in queries.FLOOR_KINDS:
        abort(404)
    rows = queries.task_rows(current_staff(), kind)
    station = _station()
    return render_template(
        "handheld/tasks.html", kind=kind, rows=rows, station=station.get("station"), data=_data(**station)
    )


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    user = current_staff()
    view = get_task(task_id, user)  # NotFound (404) for another location's task
    printers = queries.printer_names(user, view["location"]) if view["kind"] == "pack" else []
    data = _data(task=view, list=url_for("handheld.task_list", kind=view["kind"]), **_station())
    return render_template("handheld/task.html", task=view, printers=printers, data=data)


@bp.get("/receive")
@login_required
def receive_page():
    user = current_staff()
    locations = queries.floor_locations(user)
    return render_template("handheld/receive.html", locations=locations, data=_data(locations=locations))


@bp.get("/move")
@login_required
def move_page():
    user = current_staff()
    locations = queries.floor_locations(user)
    return render_template("handheld/move.html", locations=locations, data=_data(locations=locations))


@bp.get("/counter")
@login_required
def counter_page():
    """The pickup counter: scan the customer's code (or find the order by number and surname), hand it over."""
    if current_staff().role not in ("clerk", "manager", "admin"):
        abort(403)
    return render_template("handheld/counter.html", data=_data(**_station()))


@bp.get("/returns")
@login_required
def returns_page():
    """Returns intake: scan the return's label (or type the order number of a walk-in return), scan the items,
    grade them and choose where they go, take them in. A store's clerks, and a warehouse's pickers (returns sent
    back by parcel arrive there)."""
    user = current_staff()
    if user.role not in ("clerk", "picker", "manager", "admin") or user.location is None:
        abort(403)
    return render_template("handheld/returns.html", data=_data(here=user.location.code, **_station()))


def _station() -> dict[str, Any]:
    """``?station=CODE`` (a counter or pack-station PC): the station whose agent's scans the screen takes as its
    own (``station``, and ``station_events``: the live feed of its scans). Raises NotFound / Forbidden for a
    station the user may not see."""
    code = request.args.get("station")
    if not code:
        return {}
    station = visible_station(code, current_staff())
    return {"station": station.code, "station_events": url_for("stations.events", code=station.code)}


def _data(**extra: Any) -> dict[str, Any]:
    """What the script of a screen reads (a JSON block in the page): its words, where things are, and ``extra``."""
    return {
        "text": js_text(),
        "home": url_for("handheld.home"),
        "resolve": url_for("handheld.api_resolve"),
        "receive": url_for("handheld.api_receive"),
        "api": "/api/v1",
        **extra,
    }


# --- JSON for the receive screen ---------------------------------------------------------------------------------


class ResolveIn(Schema):
    code: Annotated[str, Field(min_length=1, max_length=2000)]
    location: Code | None = None


class HandheldReceiptIn(Schema):
    reference: Annotated[str, Field(min_length=1, max_length=128)]
    location: Code | None = None
    #: the dock bin; None: the location's first dock bin by sequence
    bin: Code | None = None
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=1000)]


@bp.post("/api/resolve")
@csrf.exempt  # checked below, answering JSON rather than the form-expired page
def api_resolve():
    """What a scan names at the caller's location: the fields of :class:`wms.scanning.service.Resolved`
    (``kind``, ``sku``, ``lot``, ``expiry``, ``bin``, ``bin_kind``...) and, for a product, ``track_lots``.
    422 ``unknown_code`` for a code that names nothing here."""
    _check_csrf()
    body = parse_body(ResolveIn)
    location = _location(body.location)
    resolved = resolve_scan(body.code, location["id"])
    out = resolved.to_dict()
    if resolved.product_id is not None:
        out["track_lots"] = bool(db.session.get(Product, resolved.product_id).track_lots)
    return jsonify(out)


@bp.post("/api/receive")
@csrf.exempt  # checked below, answering JSON rather than the form-expired page
def api_receive():
    """Book a delivery scanned on the handheld into a dock bin: ``{"receipt", "created", "task", "task_url"}``
    (``task``: the put-away it opened). The reference makes it idempotent (a second tap answers the first)."""
    _check_csrf()
    body = parse_body(HandheldReceiptIn)
    location = _location(body.location)
    bin_code = body.bin or (location["docks"][0] if location["docks"] else None)
    if bin_code is None:
        raise ValidationError.one("bin", f"{location['code']} has no dock bin: scan the bin to receive into")
    if bin_code not in location["docks"]:
        raise ValidationError.one("bin", f"{bin_code} is not a dock bin of {location['code']}")
    user = current_staff()
    lines = [_receipt_line(line) for line in body.lines]
    result, created = receive(location["code"], bin_code, body.reference, lines, actor=user.username)
    task_id = queries.putaway_of_receipt(result["id"], location["code"])
    return jsonify(
        {
            "receipt": result,
            "created": created,
            "task": task_id,
            "task_url": url_for("handheld.task", task_id=task_id) if task_id else None,
        }
    ), (201 if created else 200)


def _receipt_line(line: ReceiptLineIn) -> dict[str, Any]:
    out: dict[str, Any] = {"sku": line.sku, "qty": line.qty}
    if line.lot:
        out["lot"] = line.lot
    if isinstance(line.expiry, date):
        out["expiry"] = line.expiry
    return out


def _check_csrf() -> None:
    """Signed in (401 JSON, not the sign-in page: a script reads the answer) and the CSRF header (403)."""
    if not current_user.is_authenticated:
        raise Unauthorized("signed out: sign in again")
    try:
        csrf.protect()
    except CSRFError as exc:
        raise Forbidden(f"CSRF check failed: {exc.description}") from None


def _location(code: str | None) -> dict[str, Any]:
    """The location a handheld request is about: the one named (among those the caller may see), else the
    caller's only one. Raises ValidationError when none or several fit."""
    locations = queries.floor_locations(current_staff())
    if code:
        found = next((loc for loc in locations if loc["code"] == code), None)
        if found is None:
            raise ValidationError.one("location", f"no location {code} you may work at")
        return found
    if len(locations) != 1:
        raise ValidationError.one("location", "choose the location")
    return locations[0]


# --- text of the script -------------------------------------------------------------------------------------


def js_text() -> dict[str, str]:
    """The words hh.js shows, in the page's language (``{name}`` placeholders are filled in by the script).
    The API speaks English to integrators; the floor reads these."""
    return {
        "expect_bin": _("Scan bin {bin}"),
        "expect_bin_put": _("Put {qty} × {sku} in {bin}: scan the bin"),
        "expect_bin_pick": _("Go to bin {bin}: scan it"),
        "expect_product": _("Scan item {sku}"),
        "expect_product_qty": _("Scan item {sku} ({qty} left)"),
        "expect_tote": _("Scan a tote"),
        "expect_tote_order": _("Scan a tote for order {order}"),
        "expect_order": _("Scan the order label"),
        "expect_order_id": _("Scan order {order}"),
        "expect_shelf": _("Scan shelf {bin}"),
        "expect_qty": _("Type the quantity of {sku}"),
        "expect_qty_count": _("Count {sku}: type how many"),
        "expect_qty_pick": _("{qty} more × {sku} into tote {tote}: scan each or type how many"),
        "expect_check": _("Check {qty} × {sku}"),
        "expect_count_items": _("Scan each item in {bin}, then tap Finish"),
        "expect_pack_tote": _("Scan tote {tote} or order {order}"),
        "expect_done": _("All done: tap Finish"),
        "station_live": _("Scanner of station {station} connected"),
        "station_lost": _("Scanner of station {station}: reconnecting…"),
        "expect_transfer_label": _("Scan the label of transfer {transfer}"),
        "expect_transfer_items": _("Scan the items of transfer {transfer}: {left} left"),
        "task_done": _("Task done"),
        "task_waiting": _("Waiting for a manager's approval"),
        "err_wrong_bin": _("This is bin {scanned}. Scan bin {expected}."),
        "err_wrong_product": _("This is {scanned}. Scan item {expected}."),
        "err_wrong_lot": _("This is lot {scanned}. Scan lot {expected}."),
        "err_wrong_tote": _("Tote {scanned} does not fit. Scan {expected}."),
        "err_over_quantity": _("Too many: only {expected} left, not {scanned}."),
        "err_unknown_code": _("Unknown code: {scanned}"),
        "err_invalid_state": _("This task cannot take that now."),
        "err_not_found": _("Not found here."),
        "err_unauthorized": _("Signed out: sign in again."),
        "err_forbidden": _("Not allowed, or the page is too old: reload it."),
        "err_network": _("No connection. Try again."),
        "err_not_dock": _("{bin} is not a dock bin."),
        "err_needs_lot": _("{sku} is tracked by lot: scan the label with the lot."),
        "err_no_reference": _("Scan or type the delivery reference first."),
        "err_no_lines": _("Scan the items first."),
        "err_not_a_bin": _("Scan a bin."),
        "err_not_an_item": _("Scan an item."),
        "err_no_location": _("Choose the location."),
        "err_qty": _("Type a quantity of 1 or more."),
        "unsent": _("{n} unsent"),
        "offline_unsent": _("Offline: {n} unsent"),
        "qty_next": _("Next scan: {qty} pcs"),
        "short_ask": _("How many are there?"),
        "finished": _("Finished"),
        "claim_failed": _("Could not take this task"),
        "shipped": _("Shipped: {tracking}"),
        "ship_prompt": _("Ship order {order}: weigh the parcel"),
        "received": _("Received. Put-away task opened."),
        "received_no_task": _("Received."),
        "move_from": _("Scan the bin to take from"),
        "move_item": _("Scan the item in {bin}"),
        "move_to": _("Move {qty} × {sku} from {from}: scan the bin to put it in"),
        "moved": _("Moved {qty} × {sku} {from} → {to}"),
        "recv_reference": _("Scan or type the delivery reference"),
        "recv_items": _("Scan the items of {reference}"),
        "camera_failed": _("The camera could not be opened."),
        "counter_next": _("Scan the customer's pickup code or QR"),
        "counter_found": _("Order {order} for {customer}: fetch it from shelf {shelf}"),
        "counter_not_ready": _("Order {order} is {status}: it cannot be handed over"),
        "counter_units": _("{n} on the shelf"),
        "counter_declined": _("Declined"),
        "counter_done": _("Order {order}: {status}"),
        "status_collected": _("collected"),
        "status_partially_collected": _("partially collected"),
        "status_ready_for_pickup": _("ready for pickup"),
        "status_expired": _("expired"),
        "status_reserved": _("reserved"),
        "status_picking": _("being prepared"),
        "status_cancelled": _("cancelled"),
        "ret_next": _("Scan the return label, or type the order number"),
        "ret_items": _("Scan the items of {what}"),
        "ret_rma": _("return {rma}"),
        "ret_order": _("order {order}"),
        "ret_not_on": _("{sku} is not on this return"),
        "ret_too_many": _("Only {n} × {sku} are expected"),
        "ret_done": _("Return {rma}: {status}"),
        "ret_status_received": _("received"),
        "ret_status_inspected": _("in quarantine, waiting for a manager"),
        "ret_status_closed": _("closed"),
        "ret_nothing": _("Scan the items first."),
    }
