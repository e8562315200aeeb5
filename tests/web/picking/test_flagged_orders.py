"""The waves page lists the open orders at the location that wait for a manager (a short pick with nothing to
pick instead, a count that took reserved units), with why; "Settled" takes the flag off. Managers only."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.factories import make_channel, order_body
from tests.web.staff import (  # noqa: F401 (fixtures)
    cheap_hashes_fixture,
    client_fixture,
    flashes,
    shop_fixture,
    sign_in,
)
from wms.channels.models import Channel
from wms.extensions import db
from wms.orders.models import Order
from wms.orders.service import place_order

REASON = "Short pick: 2 x KT-1 missing in A-01 and no other bin at this location has them (task 7)."


@pytest.fixture
def flagged(shop) -> int:
    make_channel("WEB", ship_from=["WH1"])
    channel_id = db.session.execute(select(Channel.id).where(Channel.code == "WEB")).scalar_one()
    order_id = place_order(channel_id, order_body("WEB-9", lines=[("KT-1", 1)]))[0].id
    db.session.execute(update(Order).where(Order.id == order_id).values(attention=REASON))
    db.session.commit()
    return order_id


def test_a_flagged_order_is_listed_with_why_and_settled_by_a_manager(client, flagged):
    sign_in(client, "boss")
    page = client.get("/waves?location=WH1").get_data(as_text=True)
    assert 'id="flagged-heading"' in page and "WEB-9" in page and REASON in page
    r = client.post(f"/waves/orders/{flagged}/settled", data={"location": "WH1"})
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "WEB-9 no longer waits for a manager" in " ".join(flashes(page))
    assert 'id="flagged-heading"' not in page
    db.session.expire_all()
    assert db.session.get(Order, flagged).attention is None


def test_another_locations_flags_are_not_listed_and_pickers_cannot_settle(client, flagged):
    sign_in(client, "boss")
    assert "WEB-9" not in client.get("/waves?location=ST1").get_data(as_text=True)
    client.post("/logout")
    sign_in(client, "piotr")
    assert client.post(f"/waves/orders/{flagged}/settled", data={"location": "WH1"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Order, flagged).attention == REASON
