"""Shipping: the packed units of an order leave stock with a carrier and a tracking number.

:func:`create_shipment` is one unit of work: it locks the order, takes the units of the order's done pack tasks
at one location out of stock (ledger reason ``ship``, reference ``shipment:<id>``), books the carrier
(:mod:`wms.shipping.carriers`), records the shipment with its parcels, and queues the labels on the station's
printer. The order goes ``shipped`` once nothing packed is left to ship (an ``order.updated`` webhook either way:
its shipments changed).

Labels: one WMS ``shipping`` label per parcel (its SSCC, the carrier's tracking number, both addresses), in the
printer's own format, and a ``packing_slip`` when the printer prints PDF. A carrier that makes its own label (the
``test`` carrier's ZPL) is given the same SSCCs, so its label and the WMS's carry the same codes; its bytes are not
printed as they are (the print queue renders jobs from their data, which keeps reprints and PDF printers working).

A carrier's refusal (:class:`wms.shipping.carriers.CarrierError`) becomes a 422 ``validation_error`` on the field
it names in one place, :func:`_field_error`; nothing is written then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from labels.kinds import read as read_label
from wms.auth.models import MANAGER_ROLES, User
from wms.catalog.models import Product
from wms.channels.outbox import emit
from wms.errors import InvalidState, NotFound, ValidationError
from wms.locations.models import Bin, Location
from wms.orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment
from wms.printing.models import Printer
from wms.printing.service import queue_label
from wms.shipping.carriers import Carrier, CarrierError, Parcel, carrier, clean_tracking, gs1_check_digit
from wms.stock.models import Reservation
from wms.stock.service import LedgerEntry, post_entries
from wms.tasks.kinds.transfer_receive import open_receive_task
from wms.tasks.models import Task, TaskKind, TaskStatus
from wms.timeutil import isoformat
from wms.transfers.models import Transfer
from wms.transfers.service import get_transfer, send, shipping_transfer
from wms.uow import unit_of_work

#: order ids are 32-bit integers in the database
MAX_ORDER_ID = 2**31 - 1
#: parcels one shipment may have (each parcel's SSCC carries its index in two digits)
MAX_PARCELS = 99
#: the largest weight (g) and dimension (mm) a parcel may be given: a pallet, not a typo
MAX_WEIGHT_G = 2_000_000
MAX_DIMENSION_MM = 10_000
#: GS1 company prefix of the SSCCs the WMS makes (extension digit 0): 0000000 is no real company's; a retailer with
#: its own prefix sets ``SSCC_PREFIX``
DEFAULT_SSCC_PREFIX = "0000000"
PARCEL_DIMENSIONS = ("length_mm", "width_mm", "height_mm")


def create_shipment(
    order_id: int,
    carrier_code: str,
    tracking: str | None,
    parcels: Sequence[Mapping[str, Any]],
    printer: str | None = None,
    user: User | None = None,
    device: str | None = None,
    transfer_id: int | None = None,
) -> dict[str, Any]:
    """Ship the packed units of an order from one location; returns the shipment as the API shows it.

    ``transfer_id`` instead of ``order_id``: ship a transfer (the order its units were packed under). An order's
    units that are a transfer's (a pickup order's from a warehouse, an internal transfer order) always travel as
    that transfer: into the destination's in-transit bin (``wms.transfers.service.send``), not out of stock, and
    the destination's ``transfer_receive`` task opens.

    ``parcels``: ``[{"weight_g", "length_mm"?, "width_mm"?, "height_mm"?}]``; ``printer``: the name of the printer
    the labels go to (at the shipping location). ``user`` None: a system caller (every location). The units of the
    order's done, not yet shipped pack tasks at one location leave stock (a picker: their home location; a manager:
    the first such location by code, the next one on the next call).

    Locks the order row, then (through the ledger) the quants. Raises NotFound (no such order, or a picker's order
    of another location), InvalidState (not ``packed``: already shipped, still picking...; nothing packed left here),
    ValidationError (unknown carrier, a tracking number the carrier does not take or another shipment has, bad
    parcels, unknown printer or one of another location; every field at once where they are checked together).
    Nothing changes on failure."""
    if transfer_id is not None:
        order_id = get_transfer(transfer_id, user).order_id
    if isinstance(order_id, bool) or not isinstance(order_id, int) or not 0 < order_id <= MAX_ORDER_ID:
        raise NotFound(f"no order {order_id}", {"order_id": order_id})
    actor = user.username if user is not None else None
    with unit_of_work() as session:
        order = session.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one_or_none()
        if order is None or not _may_see(session, order, user):
            raise NotFound(f"no order {order_id}", {"order_id": order_id})
        if order.status != OrderStatus.PACKED:
            raise InvalidState(
                f"order {order.external_id} is {order.status}: only a packed order can be shipped",
                {"order_id": order.id, "status": order.status},
            )
        tasks = _unshipped_pack_tasks(session, order.id, user)
        if not tasks:
            raise InvalidState(
                f"nothing of order {order.external_id} is packed and waiting here", {"order_id": order.id}
            )
        location = session.get(Location, tasks[0].location_id)
        transfer = shipping_transfer(session, order.id, location.id)
        if transfer_id is not None and (transfer is None or transfer.id != transfer_id):
            raise InvalidState(
                f"transfer {transfer_id} has nothing packed and waiting at {location.code}",
                {"transfer_id": transfer_id},
            )

        plugin, cleaned, parcels_in, target = _checked_input(
            session, carrier_code, tracking, parcels, printer, location
        )
        shipment = Shipment(
            order_id=order.id,
            carrier=plugin.code,
            tracking=None,
            location_id=location.id,
            actor=actor,
            device=device,
        )
        session.add(shipment)
        session.flush()  # the id names the parcels' SSCCs and the ledger rows
        prefix = str(current_app.config.get("SSCC_PREFIX") or DEFAULT_SSCC_PREFIX)
        booked_parcels = [Parcel(sscc=sscc(prefix, shipment.id, i), **parcel) for i, parcel in enumerate(parcels_in)]
        ship_from = ship_from_address(location)
        ship_to = _ship_to(order) if transfer is None else _transfer_address(session, transfer)
        title = order.external_id if transfer is None else f"TRANSFER {transfer.id}"
        try:
            booked = plugin.create_shipment(title, ship_to, ship_from, booked_parcels, tracking=cleaned)
        except CarrierError as exc:
            raise ValidationError([_field_error(exc)]) from None
        _refuse_used_tracking(session, plugin.code, booked.tracking, shipment.id)
        shipment.tracking = booked.tracking
        shipment.tracking_url = plugin.tracking_url(booked.tracking)
        shipment.parcels = [_parcel_record(parcel) for parcel in booked_parcels]

        reference = f"shipment:{shipment.id}"
        if transfer is None:
            shipped = _take_out_of_stock(session, tasks, reference, actor, device)
        else:
            shipped = _send_transfer(session, transfer, tasks, shipment, reference, actor, device)
        lines = {
            line.id: line for line in session.execute(select(OrderLine).where(OrderLine.order_id == order.id)).scalars()
        }
        if transfer is None:
            for order_line_id, units in shipped.items():
                lines[order_line_id].shipped += units
        for task in tasks:
            task.reference = {**(task.reference or {}), "shipment": shipment.id}
        session.flush()
        if not _unshipped_pack_tasks(session, order.id, None):
            # A pickup order's units are on their way to its store; an internal transfer order is done.
            status = OrderStatus.IN_TRANSIT if transfer is not None and transfer.for_order_id else OrderStatus.SHIPPED
            order.status = status
            order.tote = None  # the tote is free again
            session.add(OrderEvent(order_id=order.id, status=status, actor=actor, device=device))
        emit(session, "order.updated", order.id, order.channel_id)

        jobs: dict[str, Any] = {}
        if target is not None:
            slip = [(lines[line_id], units) for line_id, units in sorted(shipped.items())]
            jobs = _queue_labels(
                session, target, order, shipment, plugin, ship_to, ship_from, slip, user, reference, title
            )
        session.flush()
        view = shipment_view(shipment, location.code, jobs)
        if transfer is not None:
            view["transfer_id"] = transfer.id
        return view


# --- who may ship what ------------------------------------------------------------------------------------------


def _may_see(session: Session, order: Order, user: User | None) -> bool:
    """A manager, admin or system caller sees every order; a picker the orders picked or packed at, or reserved
    at, their home location."""
    if user is None or user.role in MANAGER_ROLES:
        return True
    here = user.location_id
    if here is None:
        return False
    packed_here = session.execute(
        select(Task.id).where(
            Task.kind == TaskKind.PACK, Task.location_id == here, Task.reference["order"].as_integer() == order.id
        )
    ).first()
    if packed_here is not None:
        return True
    reserved_here = session.execute(
        select(Reservation.id)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .where(OrderLine.order_id == order.id, Reservation.location_id == here)
    ).first()
    return reserved_here is not None


def _unshipped_pack_tasks(session: Session, order_id: int, user: User | None) -> list[Task]:
    """The order's done pack tasks not shipped yet, at the first location (by code) the user may ship from."""
    query = (
        select(Task, Location.code)
        .join(Location, Location.id == Task.location_id)
        .where(
            Task.kind == TaskKind.PACK,
            Task.status == TaskStatus.DONE,
            Task.reference["order"].as_integer() == order_id,
        )
        .order_by(Location.code, Task.id)
    )
    if user is not None and user.role not in MANAGER_ROLES:
        query = query.where(Task.location_id == user.location_id)
    found = [(task, code) for task, code in session.execute(query) if "shipment" not in (task.reference or {})]
    if not found:
        return []
    first = found[0][1]
    return [task for task, code in found if code == first]


# --- input ------------------------------------------------------------------------------------------------------


def _checked_input(
    session: Session,
    carrier_code: str,
    tracking: str | None,
    parcels: Sequence[Mapping[str, Any]],
    printer: str | None,
    location: Location,
) -> tuple[Carrier, str | None, list[dict[str, int | None]], Printer | None]:
    """The carrier, the cleaned tracking number, the parcels and the printer; ValidationError listing every field
    that is wrong (what the carrier itself refuses comes later, from the carrier)."""
    errors: list[dict[str, str]] = []
    plugin: Carrier | None = None
    try:
        plugin = carrier(carrier_code)
    except CarrierError as exc:
        errors.append(_field_error(exc, "carrier"))
    cleaned = None
    try:
        cleaned = clean_tracking(tracking)
    except CarrierError as exc:
        errors.append(_field_error(exc, "tracking"))
    parcels_in, parcel_errors = _checked_parcels(parcels)
    errors += parcel_errors
    target = None
    if printer is not None:
        target = session.execute(select(Printer).where(Printer.name == printer)).scalar_one_or_none()
        if target is None:
            errors.append({"field": "printer", "message": f"unknown printer {printer!r}"})
        elif target.location_id != location.id:
            errors.append({"field": "printer", "message": f"printer {printer} is not at {location.code}"})
        elif not target.active:
            errors.append({"field": "printer", "message": f"printer {printer} is disabled"})
    if errors:
        raise ValidationError(errors)
    assert plugin is not None
    return plugin, cleaned, parcels_in, target


def _checked_parcels(parcels: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, int | None]], list[dict[str, str]]]:
    if isinstance(parcels, str | bytes | Mapping) or not isinstance(parcels, Sequence):
        return [], [{"field": "parcels", "message": "must be a list of parcels"}]
    if not parcels:
        return [], [{"field": "parcels", "message": "a shipment needs at least one parcel"}]
    if len(parcels) > MAX_PARCELS:
        return [], [{"field": "parcels", "message": f"at most {MAX_PARCELS} parcels a shipment"}]
    out: list[dict[str, int | None]] = []
    errors: list[dict[str, str]] = []
    for i, parcel in enumerate(parcels):
        if not isinstance(parcel, Mapping):
            errors.append({"field": f"parcels[{i}]", "message": "must be an object"})
            continue
        clean: dict[str, int | None] = {}
        for name, largest in (("weight_g", MAX_WEIGHT_G), *((dim, MAX_DIMENSION_MM) for dim in PARCEL_DIMENSIONS)):
            value = parcel.get(name)
            if value is None and name != "weight_g":
                clean[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= largest:
                errors.append({"field": f"parcels[{i}].{name}", "message": f"must be a whole number 1-{largest}"})
                continue
            clean[name] = value
        out.append(clean)
    return out, errors


def _field_error(exc: CarrierError, default: str = "carrier") -> dict[str, str]:
    """A carrier's refusal as a 422 detail: the one place CarrierError meets the API's errors (``parcels.0.x``
    becomes ``parcels[0].x``, as the API names fields)."""
    field = exc.field or default
    head, *rest = field.split(".")
    if head == "parcels" and rest and rest[0].isdigit():
        field = f"parcels[{rest[0]}]" + "".join(f".{part}" for part in rest[1:])
    return {"field": field, "message": exc.message}


def _refuse_used_tracking(session: Session, carrier_code: str, tracking: str, shipment_id: int) -> None:
    used = session.execute(
        select(Shipment.id, Shipment.order_id).where(
            Shipment.carrier == carrier_code, Shipment.tracking == tracking, Shipment.id != shipment_id
        )
    ).first()
    if used is not None:
        raise ValidationError.one(
            "tracking", f"tracking {tracking} is on shipment {used.id} of order {used.order_id} already"
        )


# --- parcels and addresses --------------------------------------------------------------------------------------


def sscc(prefix: str, shipment_id: int, index: int) -> str:
    """The SSCC of parcel ``index`` of a shipment: extension digit 0, the GS1 company ``prefix`` (7-10 digits),
    a serial made of the shipment id and the parcel's index (two digits), and the check digit."""
    if not (prefix.isascii() and prefix.isdigit() and 7 <= len(prefix) <= 10):
        raise ValueError(f"an SSCC company prefix is 7-10 digits, not {prefix!r}")
    room = 16 - len(prefix) - 2  # 17 digits before the check digit: 0, prefix, shipment digits, index
    body = f"0{prefix}{shipment_id % 10**room:0{room}d}{index % 100:02d}"
    return body + str(gs1_check_digit(body))


def _parcel_record(parcel: Parcel) -> dict[str, Any]:
    return {
        "weight_g": parcel.weight_g,
        "length_mm": parcel.length_mm,
        "width_mm": parcel.width_mm,
        "height_mm": parcel.height_mm,
        "sscc": parcel.sscc,
    }


def _ship_to(order: Order) -> dict[str, Any]:
    """The order's address as labels and carriers take it, named after the customer when it has no name."""
    if not order.ship_to:
        raise InvalidState(f"order {order.external_id} has no address to ship to", {"order_id": order.id})
    address = {key: value for key, value in order.ship_to.items() if value is not None}
    address["name"] = address.get("name") or (order.customer or {}).get("name") or order.external_id
    return address


def ship_from_address(location: Location) -> dict[str, Any]:
    """The sender's address of a location: ``SHIP_FROM[<location code>]`` of the app's config when set (an address
    mapping), else the location's name and code (locations keep no postal address yet)."""
    configured = (current_app.config.get("SHIP_FROM") or {}).get(location.code)
    if configured:
        return dict(configured)
    return {"name": location.name, "line1": location.name, "city": location.code, "postcode": "-", "country": "-"}


# --- stock --------------------------------------------------------------------------------------------------------


def _take_out_of_stock(
    session: Session, tasks: list[Task], reference: str, actor: str | None, device: str | None
) -> dict[int, int]:
    """Ledger rows (reason ``ship``) for every unit of the pack tasks, out of the staging bins they sit in;
    returns the units shipped per order line."""
    product_ids = {line.product_id for task in tasks for line in task.lines}
    skus = dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(product_ids))).all())
    bins: dict[int, Bin] = {}
    entries: list[LedgerEntry] = []
    shipped: dict[int, int] = defaultdict(int)
    for task in tasks:
        for line in task.lines:
            if line.qty <= 0:
                continue
            if line.bin_id is None:
                raise InvalidState(
                    f"pack task {task.id} line {line.line_no} names no bin its units sit in", {"task": task.id}
                )
            bin_ = bins.get(line.bin_id) or session.get(Bin, line.bin_id)
            bins[line.bin_id] = bin_
            entries.append(
                LedgerEntry(
                    product_id=line.product_id,
                    sku=skus.get(line.product_id, ""),
                    qty=line.qty,
                    lot=line.lot or "",
                    reason="ship",
                    from_bin=bin_,
                    from_status="sellable",
                    reference=reference,
                    actor=actor,
                    device=device,
                )
            )
            if line.order_line_id is not None:
                shipped[line.order_line_id] += line.qty
    post_entries(session, entries)
    return shipped


def _send_transfer(
    session: Session,
    transfer: Transfer,
    tasks: list[Task],
    shipment: Shipment,
    reference: str,
    actor: str | None,
    device: str | None,
) -> dict[int, int]:
    """The pack tasks' units leave for the transfer's destination, in transit there, and its receiving task
    opens; returns the units sent per order line."""
    bins = {
        b.id: b
        for b in session.execute(select(Bin).where(Bin.id.in_({ln.bin_id for t in tasks for ln in t.lines}))).scalars()
    }
    units = [
        (line.product_id, line.lot or "", line.qty, bins[line.bin_id], line.order_line_id)
        for task in tasks
        for line in task.lines
        if line.qty > 0 and line.bin_id is not None
    ]
    in_transit = send(session, transfer, units, reference, actor, device)
    parcels = [p["sscc"] for p in shipment.parcels or []] + ([shipment.tracking] if shipment.tracking else [])
    open_receive_task(
        session, transfer, [(pid, lot, qty, line_id) for pid, lot, qty, _bin, line_id in units], in_transit, parcels
    )
    sent: dict[int, int] = defaultdict(int)
    for _pid, _lot, qty, _bin, line_id in units:
        if line_id is not None:
            sent[line_id] += qty
    return sent


def _transfer_address(session: Session, transfer: Transfer) -> dict[str, Any]:
    """Where a transfer goes, as labels and carriers take it: the destination's address."""
    return ship_from_address(session.get(Location, transfer.to_location_id))


# --- labels -------------------------------------------------------------------------------------------------------


def _queue_labels(
    session: Session,
    target: Printer,
    order: Order,
    shipment: Shipment,
    plugin: Carrier,
    ship_to: dict[str, Any],
    ship_from: dict[str, Any],
    lines: list[tuple[OrderLine, int]],
    user: User | None,
    reference: str,
    title: str,
) -> dict[str, Any]:
    """A ``shipping`` label per parcel (``title``: what it names as the order: the order's reference, or the
    transfer) and, on a PDF printer, the ``packing_slip`` of the (order line, units)
    ``lines`` of this shipment; their job ids."""
    requested_by = user.id if user is not None else None
    label_jobs = []
    for parcel in shipment.parcels or []:
        data = {
            "order": title,
            "sscc": parcel["sscc"],
            "carrier": plugin.name,
            "tracking": shipment.tracking,
            "ship_to": ship_to,
            "ship_from": ship_from,
        }
        _check_label("shipping", data)
        job = queue_label(session, target, "shipping", data, reference=reference, requested_by_id=requested_by)
        label_jobs.append(job.id)
    jobs: dict[str, Any] = {"label_job": label_jobs[0], "label_jobs": label_jobs}
    if target.fmt == "pdf":
        products = {
            product.id: product
            for product in session.execute(
                select(Product).where(Product.id.in_({line.product_id for line, _units in lines}))
            ).scalars()
        }
        slip_lines = [
            {
                "sku": products[line.product_id].sku,
                "name": products[line.product_id].name or products[line.product_id].sku,
                "qty": units,
            }
            for line, units in lines
        ]
        data = {
            "order": title,
            "order_id": str(order.id),
            "customer": (order.customer or {}).get("name") or ship_to["name"],
            "ship_to": ship_to,
            "lines": slip_lines,
        }
        _check_label("packing_slip", data)
        slip = queue_label(session, target, "packing_slip", data, reference=reference, requested_by_id=requested_by)
        jobs["packing_slip_job"] = slip.id
    return jobs


def _check_label(kind: str, data: dict[str, Any]) -> None:
    # The worker renders the job later: data a label cannot be made from must fail now, not on the printer.
    try:
        read_label(kind, data)
    except ValueError as exc:
        raise InvalidState(f"the {kind} label cannot be made: {exc}", {"label": kind}) from None


# --- views --------------------------------------------------------------------------------------------------------


def shipment_view(shipment: Shipment, location_code: str | None, jobs: Mapping[str, Any] | None = None) -> dict:
    """The API's shipment: ``{id, order_id, carrier, tracking, tracking_url, location, parcels, created_at}`` and,
    when labels were queued, ``label_job`` (the first parcel's label job id), ``label_jobs``, ``packing_slip_job``."""
    view: dict[str, Any] = {
        "id": shipment.id,
        "order_id": shipment.order_id,
        "carrier": shipment.carrier,
        "tracking": shipment.tracking,
        "tracking_url": shipment.tracking_url,
        "location": location_code,
        "parcels": [dict(parcel) for parcel in shipment.parcels or []],
        "created_at": isoformat(shipment.created_at),
    }
    view.update(jobs or {})
    return view
