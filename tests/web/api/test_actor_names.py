"""How each kind of caller is named on the ledger and the order history (``wms.api.actors``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import g

from wms.api.actors import DEVICE_MAX, api_actor, api_device
from wms.channels.service import Principal


def principal(scope: str, **fields) -> Principal:
    return Principal(token_id=7, scope=scope, channel_id=None, channel_code=None, channel_buffer=0, **fields)


@pytest.mark.parametrize(
    ("caller", "agent", "actor", "device"),
    [
        (Principal(7, "channel", 1, "WEB", 0), "shop/1", "channel:WEB", "shop/1"),
        (principal("integration"), "ERP/2", "integration:7", "ERP/2"),
        (principal("station", station_id=3, station_code="KRK-1"), "agent/1", "station:KRK-1", "KRK-1"),
        (principal("staff", user_id=2, username="piotr", device="TC52 #7"), "Android", "piotr", "TC52 #7"),
        (principal("staff", user_id=2, username="piotr"), "Android", "piotr", "Android"),
        (principal("integration"), "", "integration:7", None),
    ],
)
def test_each_caller_is_named_one_way(app, caller, agent, actor, device):
    with app.test_request_context(headers={"User-Agent": agent}):
        g.principal = caller
        assert (api_actor(), api_device()) == (actor, device)


def test_a_signed_in_page_calling_the_staff_api_is_its_user(app):
    with app.test_request_context(headers={"User-Agent": "Mozilla/5.0 " + "x" * 500}):
        g.user = SimpleNamespace(username="kasia")
        assert api_actor() == "kasia"
        assert len(api_device()) == DEVICE_MAX
