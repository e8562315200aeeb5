from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.factories import make_product, make_world, order_body
from wms.channels.models import Channel
from wms.extensions import db
from wms.locations.models import Location
from wms.orders.models import Shipment
from wms.orders.service import place_order
from wms.uow import unit_of_work

EAN = "5901234123457"
TRACKING = "1Z999AA10123456784"
DIGIT_TRACKING = "620123456789012345"  # 18 digits that are no SSCC (wrong check digit): a carrier's number


@dataclass(frozen=True)
class Site:
    """``make_world`` (WH1 bins A-01, A-02, B-01, DOCK, STAGE; ST1 bins S-01, PU-01; products A, B) plus product
    MILK (EAN), a delivery order WEB-1 shipped with two parcels, and a pickup order WEB-2 at ST1."""

    wh1: int
    st1: int
    shipped: int
    pickup: int
    pickup_code: str


def add_shipment(order_id: int, tracking: str, carrier: str = "test") -> None:
    with unit_of_work() as session:
        session.add(Shipment(order_id=order_id, carrier=carrier, tracking=tracking))


@pytest.fixture
def site(any_app) -> Site:
    make_world()
    make_product("MILK", "Mleko 1L", barcodes=[EAN])
    channel = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    shipped, _ = place_order(channel, order_body("WEB-1"))
    pickup, _ = place_order(channel, order_body("WEB-2", fulfilment="pickup", pickup_location="ST1", ship_to=None))
    add_shipment(shipped.id, TRACKING)
    add_shipment(shipped.id, DIGIT_TRACKING)
    ids = dict(db.session.execute(select(Location.code, Location.id)).all())
    result = Site(ids["WH1"], ids["ST1"], shipped.id, pickup.id, pickup.pickup_code)
    db.session.rollback()
    return result
