"""Request schemas of API v1. They validate every request body and generate the OpenAPI document."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from wms.catalog.rules import validate_gtin


class Schema(BaseModel):
    # Unknown keys are ignored (integrators send extra fields); types are strict: "2" is not a quantity.
    model_config = ConfigDict(extra="ignore", strict=True, str_strip_whitespace=True)


def _gtin(value: str) -> str:
    validate_gtin(value)
    return value


Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Sku = Annotated[str, Field(min_length=1, max_length=64)]
Qty = Annotated[int, Field(ge=1, le=1_000_000)]
Gtin = Annotated[str, AfterValidator(_gtin)]


class LocationIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["warehouse", "store"]
    ships: bool = False
    pickup: bool = False
    pickup_hold_days: Annotated[int, Field(ge=0, le=365)] = 7
    #: routing order among locations of the same kind: lower first
    priority: Annotated[int, Field(ge=0, le=10_000)] = 100

    @model_validator(mode="after")
    def _pickup_is_a_store(self):
        if self.pickup and self.kind != "store":
            raise ValueError("pickup: only a store can be a pickup location")
        return self


class BinIn(Schema):
    kind: Literal["pick", "bulk", "dock", "staging", "pickup", "returns", "quarantine"]
    sequence: Annotated[int, Field(ge=0, le=10_000_000)] = 0


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
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    lot: Annotated[str, Field(max_length=64)] | None = None
    status: Literal["sellable", "damaged", "quarantine"] = "sellable"

    @model_validator(mode="after")
    def _not_zero(self):
        if self.delta == 0:
            raise ValueError("delta: must not be 0")
        return self


class MoveIn(Schema):
    location: Code
    from_bin: Code
    to_bin: Code
    sku: Sku
    qty: Qty
    lot: Annotated[str, Field(max_length=64)] | None = None


class CustomerIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
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


class OrderIn(Schema):
    external_id: Annotated[str, Field(min_length=1, max_length=128)]
    fulfilment: Literal["ship", "pickup"]
    customer: CustomerIn
    ship_to: AddressIn | None = None
    pickup_location: Code | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _destination(self):
        if self.fulfilment == "ship" and self.ship_to is None:
            raise ValueError("ship_to: is required when fulfilment is ship")
        if self.fulfilment == "pickup" and not self.pickup_location:
            raise ValueError("pickup_location: is required when fulfilment is pickup")
        return self


class AvailabilityQueryIn(Schema):
    skus: Annotated[list[Sku], Field(min_length=1, max_length=1000)]


class WebhookIn(Schema):
    url: Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://")]
    events: Annotated[
        list[Literal["availability.changed", "order.updated", "return.updated"]], Field(min_length=1, max_length=3)
    ]
    secret: Annotated[str, Field(min_length=8, max_length=200)]


#: every request body schema, by the name the OpenAPI document uses
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
    )
}
