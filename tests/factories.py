"""Factories: build locations, bins, products, stock, channels and tokens through the services themselves."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from wms.auth import models as auth_models
from wms.catalog.rules import with_check_digit
from wms.catalog.service import upsert_product
from wms.channels.service import create_channel, create_token
from wms.extensions import db
from wms.locations.service import upsert_location
from wms.stock.bins import upsert_bin
from wms.stock.models import Reservation, StockLevel, StockMovement, StockQuant
from wms.stock.service import receive

_counter = itertools.count(1)


def gtin13(n: int) -> str:
    """A valid EAN-13 for test number ``n``."""
    return with_check_digit(f"590{n:09d}")


def make_location(code: str, kind: str = "warehouse", **fields: Any):
    defaults = {"name": code, "kind": kind, "ships": kind == "warehouse", "pickup": kind == "store"}
    return upsert_location(code, defaults | fields)[0]


def make_bin(location: str, code: str, kind: str = "pick", sequence: int = 0):
    return upsert_bin(location, code, {"kind": kind, "sequence": sequence})[0]


def make_product(sku: str, name: str | None = None, barcodes: list[str] | None = None, track_lots: bool = False):
    if barcodes is None:
        barcodes = [gtin13(next(_counter))]
    return upsert_product(sku, {"name": name or f"Product {sku}", "barcodes": barcodes, "track_lots": track_lots})[0]


def add_stock(location: str, bin_code: str, sku: str, qty: int, lot: str | None = None) -> dict:
    result, _ = receive(location, bin_code, f"T-{next(_counter)}", [{"sku": sku, "qty": qty, "lot": lot}])
    return result


def make_channel(code: str = "WEB", ship_from: list[str] | None = None, buffer: int = 0) -> str:
    """Create a channel; returns its bearer token."""
    return create_channel(code, ship_from=ship_from, buffer=buffer)[1]


def integration_token() -> str:
    return create_token("integration", "test integration")


@dataclass
class World:
    """A small retailer: warehouse WH1, stores ST1 (pickup) and ST2 (pickup, ships), products A and B."""

    integration: str
    web: str


def make_world(stock_a: int = 10, stock_b: int = 5) -> World:
    make_location("WH1", "warehouse", priority=10)
    make_location("WH2", "warehouse", priority=20)
    make_location("ST1", "store")
    make_location("ST2", "store", ships=True)
    for loc, bins in {
        "WH1": [
            ("A-01", "pick", 1),
            ("A-02", "pick", 2),
            ("B-01", "bulk", 10),
            ("DOCK", "dock", 0),
            ("STAGE", "staging", 99),
        ],
        "WH2": [("A-01", "pick", 1)],
        "ST1": [("S-01", "pick", 1), ("PU-01", "pickup", 50)],
        "ST2": [("S-01", "pick", 1)],
    }.items():
        for code, kind, seq in bins:
            make_bin(loc, code, kind, seq)
    make_product("A")
    make_product("B")
    if stock_a:
        add_stock("WH1", "A-01", "A", stock_a)
    if stock_b:
        add_stock("WH1", "A-02", "B", stock_b)
    return World(integration=integration_token(), web=make_channel("WEB", ship_from=["WH1", "WH2", "ST2"]))


class Api:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self._headers(), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(), **kwargs)

    def put(self, path: str, json: Any = None, **kwargs):
        return self.client.put(path, json=json, headers=self._headers(), **kwargs)


def order_body(external_id: str = "WEB-1", lines: list[tuple[str, int]] | None = None, **extra: Any) -> dict:
    body = {
        "external_id": external_id,
        "fulfilment": "ship",
        "customer": {"name": "Anna Nowak", "email": "anna@example.com", "phone": "+48600100200"},
        "ship_to": {"line1": "ul. Długa 1", "city": "Kraków", "postcode": "31-001", "country": "PL"},
        "lines": [{"sku": s, "qty": q} for s, q in (lines or [("A", 1)])],
    }
    body.update(extra)
    return body


def stock_snapshot() -> dict[str, Any]:
    """Everything a failed request must leave untouched: ledger, quants, levels, reservations."""
    session = db.session
    session.expire_all()
    snap = {
        "movements": session.execute(select(db.func.count()).select_from(StockMovement)).scalar_one(),
        "quants": sorted(session.execute(select(StockQuant.bin_id, StockQuant.product_id, StockQuant.qty)).all()),
        "levels": sorted(
            session.execute(
                select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand_sellable, StockLevel.reserved)
            ).all()
        ),
        "reservations": sorted(session.execute(select(Reservation.id, Reservation.open_qty)).all()),
    }
    session.rollback()
    return snap


def level(sku: str, location: str) -> tuple[int, int]:
    """(on hand sellable, reserved) of ``sku`` at ``location``; (0, 0) without a level row."""
    from wms.catalog.models import Product
    from wms.locations.models import Location

    row = db.session.execute(
        select(StockLevel.on_hand_sellable, StockLevel.reserved)
        .join(Location, Location.id == StockLevel.location_id)
        .join(Product, Product.id == StockLevel.product_id)
        .where(Product.sku == sku, Location.code == location)
    ).first()
    db.session.rollback()
    return tuple(row) if row else (0, 0)


def fast_password_hashing(monkeypatch) -> None:
    """Hash passwords cheaply in a test (the real work factor costs ~0.3 s a user); checks still hash for real."""
    monkeypatch.setattr(
        auth_models, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000")
    )


def bin_contents(location: str, bin_code: str) -> dict[tuple[str, str], int]:
    """(sku, stock status) -> units of one bin, read afresh (other sessions may have changed it)."""
    from wms.catalog.models import Product
    from wms.locations.models import Bin, Location

    db.session.rollback()
    rows = db.session.execute(
        select(Product.sku, StockQuant.status, StockQuant.qty)
        .join(Product, Product.id == StockQuant.product_id)
        .join(Bin, Bin.id == StockQuant.bin_id)
        .join(Location, Location.id == Bin.location_id)
        .where(Location.code == location, Bin.code == bin_code, StockQuant.qty != 0)
    ).all()
    db.session.rollback()
    return {(sku, status): qty for sku, status, qty in rows}
