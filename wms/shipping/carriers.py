"""Carriers as plug-ins: what the WMS needs of a carrier, two built in, and a registry (no Flask, no database).

A carrier is any object with a ``code``, ``create_shipment(...)`` and ``tracking_url(...)`` (:class:`Carrier`).
The shipping service looks one up by the code the client sent (``carrier("manual")``) and stores what
``create_shipment`` answers: the tracking number, and label bytes to print when the carrier makes its own label.

Built in:

- ``manual``: the packer types or scans the tracking number of a label made elsewhere; without one it refuses
  (:class:`TrackingRequired`, ``field == "tracking"``). No label: the WMS prints its own ``shipping`` label.
- ``test``: issues a tracking number ``TEST`` + 11 digits + a GS1 mod-10 check digit and a 4x6 ZPL label per
  parcel (``labels.render_many("shipping", ...)``), for demos and tests; nothing leaves the machine.

A real carrier plugs in with :func:`register_carrier`, or, from an installed package, through the entry point group
``wms.carriers`` (the entry point names a Carrier instance, or a class/factory called with no arguments); it is
loaded the first time an unknown code is looked up. Errors are :class:`CarrierError` (a ``ValueError`` with a
stable ``code`` and the ``field`` at fault) for the service to map to the API's error answer.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal, Protocol, runtime_checkable

import labels

__all__ = [
    "ENTRY_POINT_GROUP",
    "Carrier",
    "CarrierError",
    "CarrierShipment",
    "ManualCarrier",
    "Parcel",
    "TestCarrier",
    "TrackingRequired",
    "UnknownCarrier",
    "carrier",
    "carrier_codes",
    "register_carrier",
]

ENTRY_POINT_GROUP = "wms.carriers"
log = logging.getLogger(__name__)
LabelFormat = Literal["zpl", "pdf"]
Address = Mapping[str, Any]  # {"name", "line1", "line2"?, "city", "postcode", "country"}, as labels take it

# Printable, no spaces, the length real carriers use (DHL, InPost, DPD, UPS: 10-35 characters).
_TRACKING = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_.]{3,63}")
_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")


class CarrierError(ValueError):
    """A shipment a carrier refuses. ``code`` is stable (API error code), ``field`` names the input at fault."""

    code = "carrier_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class TrackingRequired(CarrierError):
    code = "validation_error"


class UnknownCarrier(CarrierError):
    code = "unknown_carrier"


@dataclass(frozen=True, slots=True)
class Parcel:
    """One parcel: weight in grams, optional outer dimensions in mm, optional SSCC (18 digits) of its label."""

    weight_g: int
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    sscc: str | None = None


@dataclass(frozen=True, slots=True)
class CarrierShipment:
    """What a carrier answers: the tracking number and, when it makes the label, its bytes and format."""

    tracking: str
    label: bytes | None = None
    label_format: LabelFormat | None = None

    def __post_init__(self) -> None:
        if (self.label is None) != (self.label_format is None):
            raise ValueError("a carrier shipment has both a label and its format, or neither")


@runtime_checkable
class Carrier(Protocol):
    """The plug-in interface. ``code`` is what clients send (``"manual"``), ``name`` what people read."""

    code: str
    name: str

    def create_shipment(
        self,
        order_ref: str,
        ship_to: Address,
        ship_from: Address,
        parcels: Sequence[Parcel],
        tracking: str | None = None,
    ) -> CarrierShipment:
        """Book the shipment; ``CarrierError`` when the carrier refuses it (nothing is booked then)."""
        ...

    def tracking_url(self, tracking: str) -> str | None:
        """Where a customer follows the parcel, or None when the carrier has no such page."""
        ...


def clean_tracking(tracking: str | None) -> str | None:
    """A typed or scanned tracking number without surrounding blanks; None when blank. ``CarrierError`` if odd."""
    if tracking is None:
        return None
    if not isinstance(tracking, str):
        raise CarrierError("tracking must be text", field="tracking", code="validation_error")
    tracking = tracking.strip()
    if not tracking:
        return None
    if not _TRACKING.fullmatch(tracking):
        raise CarrierError(
            "tracking must be 4-64 letters, digits, '-', '_' or '.', starting with a letter or digit",
            field="tracking",
            code="validation_error",
        )
    return tracking


def _check_parcels(parcels: Sequence[Parcel]) -> None:
    if not parcels:
        raise CarrierError("a shipment needs at least one parcel", field="parcels", code="validation_error")
    for i, parcel in enumerate(parcels):
        for name in ("weight_g", "length_mm", "width_mm", "height_mm"):
            value = getattr(parcel, name)
            if value is None and name != "weight_g":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CarrierError(
                    f"parcels[{i}].{name} must be a whole number of at least 1", field=f"parcels.{i}.{name}"
                )
        sscc = parcel.sscc
        if sscc is not None and not (
            isinstance(sscc, str) and len(sscc) == 18 and sscc.isdigit() and gs1_check_digit(sscc[:-1]) == int(sscc[-1])
        ):
            raise CarrierError(
                f"parcels[{i}].sscc must be 18 digits with a valid check digit", field=f"parcels.{i}.sscc"
            )


class ManualCarrier:
    """Tracking typed or scanned by the packer; no label of its own (the WMS prints its ``shipping`` label)."""

    code = "manual"
    name = "Manual"

    def create_shipment(
        self,
        order_ref: str,
        ship_to: Address,
        ship_from: Address,
        parcels: Sequence[Parcel],
        tracking: str | None = None,
    ) -> CarrierShipment:
        _check_parcels(parcels)
        cleaned = clean_tracking(tracking)
        if cleaned is None:
            raise TrackingRequired("carrier manual needs the tracking number", field="tracking")
        return CarrierShipment(tracking=cleaned)

    def tracking_url(self, tracking: str) -> str | None:
        return None


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of a digit string (weights 3, 1, ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


class TestCarrier:
    """Issues ``TEST`` + 11 digits + check digit and a ZPL label per parcel; books nothing anywhere.

    ``serials`` (for tests) yields the 11-digit serials; by default they are random, so numbers stay unique across
    processes and restarts as far as the demo cares (the shipments table is the one that must refuse a repeat).
    A parcel without an SSCC gets one built from the tracking digits under GS1 company prefix 0000000 (not a real
    company's), so the label's SSCC barcode is valid.
    """

    __test__ = False  # not a pytest test class, despite the name

    code = "test"
    name = "Test carrier"

    def __init__(self, serials: Callable[[], int] | None = None):
        self._serials = serials or (lambda: secrets.randbelow(10**11))
        self._lock = threading.Lock()

    def new_tracking(self) -> str:
        with self._lock:
            serial = self._serials()
        if not 0 <= serial < 10**11:
            raise ValueError(f"a test carrier serial has at most 11 digits, not {serial!r}")
        body = f"{serial:011d}"
        return f"TEST{body}{gs1_check_digit(body)}"

    def create_shipment(
        self,
        order_ref: str,
        ship_to: Address,
        ship_from: Address,
        parcels: Sequence[Parcel],
        tracking: str | None = None,
    ) -> CarrierShipment:
        _check_parcels(parcels)
        if clean_tracking(tracking) is not None:
            raise CarrierError("carrier test issues its own tracking number: send none", field="tracking")
        number = self.new_tracking()
        items = []
        for i, parcel in enumerate(parcels):
            sscc = parcel.sscc or self._sscc(number, i)
            items.append(
                {
                    "order": order_ref,
                    "sscc": sscc,
                    "carrier": self.name,
                    "tracking": number,
                    "ship_to": ship_to,
                    "ship_from": ship_from,
                }
            )
        try:
            label = labels.render_many("shipping", items, "zpl")
        except ValueError as exc:
            raise CarrierError(f"shipping label: {exc}", field=_label_field(str(exc))) from exc
        return CarrierShipment(tracking=number, label=label, label_format="zpl")

    def tracking_url(self, tracking: str) -> str | None:
        return None

    @staticmethod
    def _sscc(tracking: str, index: int) -> str:
        # extension digit 0, company prefix 0000000, serial: the tracking's digits and the parcel's index
        serial = f"{tracking[4:-1][-7:]}{index % 100:02d}"
        body = f"00000000{serial}"
        return body + str(gs1_check_digit(body))


def _label_field(message: str) -> str | None:
    for name in ("ship_to", "ship_from", "order", "sscc"):
        if repr(name) in message or f"'{name}." in message:
            return name
    return None


# --- registry -----------------------------------------------------------------------------------------------

_registry: dict[str, Carrier] = {}
_registry_lock = threading.Lock()
_entry_points_loaded = False


def register_carrier(plugin: Carrier, *, replace: bool = False) -> Carrier:
    """Make ``plugin`` available as ``carrier(plugin.code)``. A taken code is a ``ValueError`` unless ``replace``."""
    if not isinstance(plugin, Carrier):
        raise TypeError(f"{plugin!r} is not a Carrier (code, name, create_shipment, tracking_url)")
    if not isinstance(plugin.code, str) or not _CODE.fullmatch(plugin.code):
        raise ValueError(f"carrier code {plugin.code!r}: 2-32 lowercase letters, digits or '_', starting with a letter")
    with _registry_lock:
        if plugin.code in _registry and not replace and _registry[plugin.code] is not plugin:
            raise ValueError(f"carrier {plugin.code!r} is registered already")
        _registry[plugin.code] = plugin
    return plugin


def unregister_carrier(code: str) -> None:
    """Forget a carrier (tests; a built-in one comes back only by registering it again)."""
    with _registry_lock:
        _registry.pop(code, None)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        # A broken plug-in is logged and left out: the other carriers must keep working (a shipment asking for it
        # gets unknown_carrier, and the log says why).
        try:
            loaded = entry.load()
            # A class passes the protocol check too (it has the attributes): call classes and factories.
            plugin = loaded if isinstance(loaded, Carrier) and not isinstance(loaded, type) else loaded()
            if getattr(plugin, "code", None) != entry.name:
                raise ValueError(f"entry point {entry.name!r} gives carrier {getattr(plugin, 'code', None)!r}")
            if plugin.code not in _registry:
                register_carrier(plugin)
        except Exception:
            log.exception("carrier plug-in %r of %s not loaded", entry.name, ENTRY_POINT_GROUP)


def carrier(code: str) -> Carrier:
    """The carrier registered as ``code``; :class:`UnknownCarrier` (``field == "carrier"``) when there is none."""
    found = _registry.get(code) if isinstance(code, str) else None
    if found is None and isinstance(code, str):
        _load_entry_points()
        found = _registry.get(code)
    if found is None:
        raise UnknownCarrier(f"unknown carrier {code!r}; carriers: {', '.join(carrier_codes())}", field="carrier")
    return found


def carrier_codes() -> list[str]:
    """The codes of the registered carriers, sorted (entry points included)."""
    _load_entry_points()
    return sorted(_registry)


register_carrier(ManualCarrier())
register_carrier(TestCarrier())
