"""Request schemas of API v1. They validate every request body and generate the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wms.catalog.rules import validate_gtin
from wms.channels.models import WEBHOOK_EVENTS
from wms.locations.models import BIN_KINDS, LOCATION_KINDS
from wms.orders.models import FULFILMENTS
from wms.pickups.service import CONDITIONS as HANDOVER_CONDITIONS
from wms.printing.models import JOB_OUTCOMES
from wms.returns.models import DISPOSITIONS, GRADES, RETURN_METHODS
from wms.stock.models import ADJUSTABLE_STATUSES
from wms.timeutil import ZONE_NAME_MAX, time_zone


class Schema(BaseModel):
    # Unknown keys are ignored (integrators send extra fields); types are strict: "2" is not a quantity.
    # Rules that tie two fields together are field validators on the later field (they see the earlier, valid
    # fields in ``info.data``), not model validators: a model validator runs only when every field is valid, so
    # its error would be missing from a 422 that lists the other invalid fields.
    model_config = ConfigDict(extra="ignore", strict=True, str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text: refused here as invalid input rather than failing in the database.
        if (
            isinstance(value, str)
            and "\x00" in value
            or isinstance(value, list)
            and any(isinstance(v, str) and "\x00" in v for v in value)
        ):
            raise ValueError("must not contain the NUL character")
        return value


def _whole_number(value: Any) -> Any:
    # JSON has one kind of number, and JSON Schema counts 2.0 as an integer: the OpenAPI document cannot refuse
    # it, so an integer field takes it (2.5 and "2" stay invalid). Only on integer fields: a "before" validator
    # hands its field the value as Python, where strict mode would refuse a date given as text.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: last in the Annotated of every integer field (after its bounds, so that the document states them): 2 or 2.0
WHOLE_NUMBER = BeforeValidator(_whole_number)


def _gtin(value: str) -> str:
    validate_gtin(value)
    return value


Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Sku = Annotated[str, Field(min_length=1, max_length=64)]
Qty = Annotated[int, Field(ge=1, le=1_000_000), WHOLE_NUMBER]
Gtin = Annotated[
    str,
    AfterValidator(_gtin),
    # Stated in the document; checked by _gtin, whose messages say what is wrong (the check digit cannot be stated).
    Field(
        json_schema_extra={"pattern": r"^([0-9]{8}|[0-9]{12,14})$", "description": "a GTIN with a valid check digit"}
    ),
]


def _known_zone(name: str) -> str:
    time_zone(name)  # ValueError: "... is not an IANA time zone name such as Europe/Warsaw"
    return name


ZoneName = Annotated[str, Field(min_length=1, max_length=ZONE_NAME_MAX), AfterValidator(_known_zone)]


class LocationIn(Schema):
    # What _pickup_is_a_store checks, stated in the document.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"properties": {"kind": {"const": "store"}}}, {"properties": {"pickup": {"const": False}}}]
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal[LOCATION_KINDS]
    ships: bool = False
    pickup: bool = False
    pickup_hold_days: Annotated[int, Field(ge=0, le=365), WHOLE_NUMBER] = 7
    #: routing order among locations of the same kind: lower first
    priority: Annotated[int, Field(ge=0, le=10_000), WHOLE_NUMBER] = 100
    timezone: ZoneName | None = Field(
        None,
        description="IANA time zone the location's times are shown in on pages (Europe/Warsaw); absent or null: "
        "unchanged (a new location follows the server's WMS_TIMEZONE). The API's times stay UTC.",
    )

    @field_validator("pickup")
    @classmethod
    def _pickup_is_a_store(cls, pickup: bool, info: ValidationInfo) -> bool:
        if pickup and info.data.get("kind", "store") != "store":
            raise ValueError("only a store can be a pickup location")
        return pickup


class BinIn(Schema):
    kind: Literal[BIN_KINDS]
    sequence: Annotated[int, Field(ge=0, le=10_000_000), WHOLE_NUMBER] = 0


class ProductIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    barcodes: Annotated[list[Gtin], Field(max_length=50)] = []
    track_lots: bool = False


class ReceiptLineIn(Schema):
    sku: Sku
    qty: Qty
    lot: Annotated[str, Field(max_length=64)] | None = None
    expiry: date | None = None


class ReceiptIn(Schema):
    reference: Annotated[str, Field(min_length=1, max_length=128)]
    location: Code
    bin: Code
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=1000)]


class AdjustmentIn(Schema):
    location: Code
    bin: Code
    sku: Sku
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000, json_schema_extra={"not": {"const": 0}}), WHOLE_NUMBER]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    lot: Annotated[str, Field(max_length=64)] | None = None
    status: Literal[ADJUSTABLE_STATUSES] = "sellable"

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, delta: int) -> int:
        if delta == 0:
            raise ValueError("must not be 0")
        return delta


class MoveIn(Schema):
    location: Code
    from_bin: Code
    to_bin: Code
    sku: Sku
    qty: Qty
    lot: Annotated[str, Field(max_length=64)] | None = None


class CustomerIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")] | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None


class AddressIn(Schema):
    name: Annotated[str, Field(max_length=200)] | None = None
    line1: Annotated[str, Field(min_length=1, max_length=200)]
    line2: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    postcode: Annotated[str, Field(min_length=1, max_length=20)]
    country: Annotated[str, Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")]


class OrderLineIn(Schema):
    sku: Sku
    qty: Qty


def _fulfilment_needs(schema: dict[str, Any]) -> None:
    # What the two validators below check, stated in the document: a ship order has an address, a pickup order
    # a store.
    properties = schema["properties"]
    address = next(s for s in properties["ship_to"]["anyOf"] if s.get("type") != "null")
    store = next(s for s in properties["pickup_location"]["anyOf"] if s.get("type") != "null")
    schema["oneOf"] = [
        {
            "properties": {"fulfilment": {"const": "ship"}, "ship_to": address},
            "required": ["fulfilment", "ship_to"],
        },
        {
            "properties": {"fulfilment": {"const": "pickup"}, "pickup_location": store},
            "required": ["fulfilment", "pickup_location"],
        },
    ]


class OrderIn(Schema):
    model_config = ConfigDict(json_schema_extra=_fulfilment_needs)

    external_id: Annotated[str, Field(min_length=1, max_length=128)]
    fulfilment: Literal[FULFILMENTS]
    customer: CustomerIn
    ship_to: Annotated[AddressIn | None, Field(validate_default=True)] = None
    pickup_location: Annotated[Code | None, Field(validate_default=True)] = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]

    @field_validator("ship_to")
    @classmethod
    def _ship_needs_address(cls, ship_to: AddressIn | None, info: ValidationInfo) -> AddressIn | None:
        if ship_to is None and info.data.get("fulfilment") == "ship":
            raise ValueError("is required when fulfilment is ship")
        return ship_to

    @field_validator("pickup_location")
    @classmethod
    def _pickup_needs_store(cls, code: str | None, info: ValidationInfo) -> str | None:
        if not code and info.data.get("fulfilment") == "pickup":
            raise ValueError("is required when fulfilment is pickup")
        return code


class AvailabilityQueryIn(Schema):
    skus: Annotated[list[Sku], Field(min_length=1, max_length=1000)]


_WEBHOOK_URL = (
    r"^https?://[A-Za-z0-9._~%!$&'()*+,;=-]+"
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
    r"([/?#][^\s\x00]*)?$"
)


class WebhookIn(Schema):
    #: http(s), a host, no user name or password; a port from 0 to 65535
    url: Annotated[str, Field(min_length=8, max_length=2000, pattern=_WEBHOOK_URL)]
    events: Annotated[list[Literal[WEBHOOK_EVENTS]], Field(min_length=1, max_length=len(WEBHOOK_EVENTS))]
    secret: Annotated[str, Field(min_length=8, max_length=200)]


class StationScanIn(Schema):
    #: the agent's id of the scan (a uuid): an upload retried after a lost answer stores it once
    client_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
    #: the code as the scanner sent it (longest: the station_scan.raw column)
    code: Annotated[str, Field(min_length=1, max_length=2000)]
    #: when it was scanned, by the station's clock (ISO 8601; without a zone: UTC); default: when it arrives
    scanned_at: datetime | None = None


class StationScansIn(Schema):
    scans: Annotated[list[StationScanIn], Field(min_length=1, max_length=500)]


class JobOutcomeIn(Schema):
    outcome: Literal[JOB_OUTCOMES]
    #: not_ready: the printer's state ("paper out", "unreachable: ..."); failed: what went wrong
    reason: Annotated[str, Field(max_length=500)] | None = None
    #: the ``attempt`` the job was handed out with: an outcome of an older claim is refused (409)
    attempt: Annotated[int, Field(ge=1, le=1_000_000_000), WHOLE_NUMBER] | None = None


class StaffTokenIn(Schema):
    # Passwords are taken as typed: blanks around one are part of it.
    model_config = ConfigDict(extra="ignore", strict=True, str_strip_whitespace=False)

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    #: what the token is for, shown in `wms tokens` ("TC52 #7")
    device: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class TaskScanIn(Schema):
    #: the client's scan id: a retry with the same id is answered the first answer and applied once
    id: Annotated[str, Field(min_length=1, max_length=64)]
    #: the raw scan, as the scanner typed it (GTIN, GS1, a WMS code, a plain code)
    code: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    #: a typed quantity for the line the scan names
    qty: Qty | None = None
    #: a transfer's receiving: the scanned units arrived ``damaged`` (default ``sellable``)
    condition: Literal["sellable", "damaged"] | None = None


class TaskShortIn(Schema):
    #: the client's request id: a retry is answered the first answer and applied once
    id: Annotated[str, Field(min_length=1, max_length=64)]
    #: units the bin really holds of what ``next`` asks (0: none)
    qty_found: Annotated[int, Field(ge=0, le=1_000_000), WHOLE_NUMBER]


class TaskCompleteIn(Schema):
    #: the client's request id (a retry of a completion that went through answers 409 invalid_state: done)
    id: Annotated[str, Field(min_length=1, max_length=64)]


class WaveIn(Schema):
    #: the location whose due lines are released
    location: Code
    #: only these orders (all due orders there when absent)
    orders: (
        Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1), WHOLE_NUMBER]], Field(min_length=1, max_length=1000)]
        | None
    ) = None
    #: orders (totes) per pick task, the cluster size (default 8)
    max_orders: Annotated[int, Field(ge=1, le=50), WHOLE_NUMBER] | None = None


class ParcelIn(Schema):
    #: weight in grams
    weight_g: Annotated[int, Field(ge=1, le=2_000_000), WHOLE_NUMBER]
    #: outer dimensions in millimetres, when measured
    length_mm: Annotated[int, Field(ge=1, le=10_000), WHOLE_NUMBER] | None = None
    width_mm: Annotated[int, Field(ge=1, le=10_000), WHOLE_NUMBER] | None = None
    height_mm: Annotated[int, Field(ge=1, le=10_000), WHOLE_NUMBER] | None = None


def _order_or_transfer_needed(schema: dict[str, Any]) -> None:
    # One of the two, as a number: the document says so (pydantic's model validator is not in the schema).
    schema["oneOf"] = [
        {"required": [name], "properties": {name: {"type": "integer"}}} for name in ("order_id", "transfer_id")
    ]


class ShipmentIn(Schema):
    model_config = ConfigDict(json_schema_extra=_order_or_transfer_needed)

    order_id: Annotated[int, Field(ge=1, le=2**31 - 1), WHOLE_NUMBER] | None = None
    #: a transfer to ship instead of an order (its units go in transit to the destination)
    transfer_id: Annotated[int, Field(ge=1, le=2**31 - 1), WHOLE_NUMBER] | None = None
    #: a carrier's code: ``manual`` (give ``tracking``), ``test`` (issues one), or a plug-in's
    carrier: Annotated[str, Field(min_length=1, max_length=32)]
    #: the tracking number, typed or scanned (carrier ``manual``)
    tracking: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    parcels: Annotated[list[ParcelIn], Field(min_length=1, max_length=99)]
    #: the name of the printer the shipping label (and, on a PDF printer, the packing slip) goes to
    printer: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _order_or_transfer(self) -> ShipmentIn:
        if (self.order_id is None) == (self.transfer_id is None):
            raise ValueError("order_id: give order_id or transfer_id (one of them)")
        return self


class CountsIn(Schema):
    #: the location of the bins
    location: Code
    #: bins to count: one count task each (a bin with a count still open keeps that one)
    bins: Annotated[list[Code], Field(min_length=1, max_length=1000)]


#: every request body schema, by the name the OpenAPI document uses
class ReturnLineIn(Schema):
    sku: Sku
    qty: Qty
    #: why the customer sends it back, in their words or a channel's reason code
    reason: Annotated[str, Field(max_length=500)] | None = None


class ReturnIn(Schema):
    order_id: Annotated[int, Field(ge=1, le=2**31 - 1), WHOLE_NUMBER]
    #: ``ship``: the customer sends it back (to where the order left from); ``store``: hands it in at a store
    method: Literal[RETURN_METHODS]
    #: the store where it will be handed in (method ``store``; any store takes it)
    store: Code | None = None
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=200)]


class ReturnIntakeLineIn(Schema):
    sku: Sku
    qty: Qty
    grade: Literal[GRADES]
    disposition: Literal[DISPOSITIONS]


class ReturnIntakeIn(Schema):
    #: the client's request id: a retry is answered with the return and applied once
    id: Annotated[str, Field(min_length=1, max_length=64)]
    #: where the units are taken in
    location: Code
    lines: Annotated[list[ReturnIntakeLineIn], Field(min_length=1, max_length=200)]


class HandoverLineIn(Schema):
    sku: Sku
    collected: Annotated[int, Field(ge=0, le=1_000_000), WHOLE_NUMBER] = 0
    declined: Annotated[int, Field(ge=0, le=1_000_000), WHOLE_NUMBER] = 0
    #: why the customer declined (their words or a reason code)
    reason: Annotated[str, Field(max_length=500)] | None = None
    #: the declined units' state: sellable ones go back on the shelf, opened or damaged ones to the returns bin
    condition: Literal[HANDOVER_CONDITIONS] | None = None


class HandoverIn(Schema):
    #: the client's request id: a retry of the handover that went through answers the order again
    id: Annotated[str, Field(min_length=1, max_length=64)]
    lines: Annotated[list[HandoverLineIn], Field(min_length=1, max_length=200)]


class TransferLineIn(Schema):
    sku: Sku
    qty: Qty


class TransferIn(Schema):
    model_config = ConfigDict(populate_by_name=True)

    #: the location the units leave from (reserved there at once)
    from_: Annotated[Code, Field(alias="from")]
    #: the location they go to
    to: Code
    lines: Annotated[list[TransferLineIn], Field(min_length=1, max_length=500)]


class MinMaxIn(Schema):
    #: keep at least this many (a transfer is suggested below it)
    min: Annotated[int, Field(ge=0, le=1_000_000), WHOLE_NUMBER]
    #: ... and bring it up to this many
    max: Annotated[int, Field(ge=1, le=1_000_000), WHOLE_NUMBER]


REQUEST_SCHEMAS: dict[str, type[Schema]] = {
    m.__name__: m
    for m in (
        LocationIn,
        BinIn,
        ProductIn,
        ReceiptIn,
        AdjustmentIn,
        MoveIn,
        OrderIn,
        AvailabilityQueryIn,
        WebhookIn,
        StationScansIn,
        JobOutcomeIn,
        StaffTokenIn,
        TaskScanIn,
        TaskShortIn,
        TaskCompleteIn,
        CountsIn,
        WaveIn,
        ShipmentIn,
        ReturnIn,
        ReturnIntakeIn,
        HandoverIn,
        TransferIn,
        MinMaxIn,
    )
}
