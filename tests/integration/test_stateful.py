"""Property-based: random receipts, moves, adjustments, orders and cancels, and after every step the books
balance and availability is what DESIGN.md says it is.

The machine keeps its own model of what is physically where (bin, sku, lot, status -> units), changed only by
the operations that succeeded, and after every step checks:

- the stored quants equal the model, and ``check_stock()`` is clean (levels equal the ledger);
- no quant or level is negative and reserved never exceeds on-hand sellable;
- availability at a location, computed here from quants (sellable, in pick/bulk bins) minus open reservation
  rows, equals ``on_hand_sellable - reserved``; a channel's figure is the sum over its ship-from locations minus
  its buffer, floored at 0, and the availability service (``wms.channels.availability``) answers the same;
- an order is refused (409) exactly when a sku is short over its candidate locations, a move or adjustment
  exactly when the bin holds too little or sellable stock would drop below what is reserved; a refused
  operation changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from tests.conftest import _clean
from tests.factories import make_bin, make_channel, make_location, make_product, order_body
from wms.catalog.models import Product
from wms.channels.models import Channel
from wms.errors import InsufficientStock
from wms.extensions import db
from wms.locations.models import SELLABLE_BIN_KINDS, Bin, Location
from wms.orders.models import Order
from wms.orders.service import cancel_order, place_order
from wms.stock.models import Reservation, StockLevel, StockMovement, StockQuant
from wms.stock.service import adjust, check_stock, move, receive

try:  # written by another helper at the same time: compared against when it is there
    from wms.channels.availability import availability as channel_availability
except ImportError:  # pragma: no cover
    channel_availability = None

#: location -> (kind, ships, pickup, priority, {bin: kind})
LOCATIONS: dict[str, tuple[str, bool, bool, int, dict[str, str]]] = {
    "WH1": ("warehouse", True, False, 10, {"A-01": "pick", "B-01": "bulk", "STAGE": "staging", "DOCK": "dock"}),
    "WH2": ("warehouse", True, False, 20, {"A-01": "pick", "Q-01": "quarantine"}),
    "ST1": ("store", False, True, 100, {"S-01": "pick", "PU-01": "pickup"}),
    "ST2": ("store", True, True, 100, {"S-01": "pick", "R-01": "returns"}),
}
SKUS = ("A", "B", "L")  # L is tracked by lot
LOTS = ("L1", "L2")
#: channel -> (explicit ship-from or None for "every location that ships", buffer)
CHANNELS: dict[str, tuple[list[str] | None, int]] = {
    "WEB": (["WH1", "WH2", "ST2"], 2),
    "MKT": (["WH2"], 0),
    "ALL": (None, 1),
}
BINS = [(loc, b) for loc, spec in LOCATIONS.items() for b in spec[4]]
BIN_PAIRS = [(loc, a, b) for loc, spec in LOCATIONS.items() for a in spec[4] for b in spec[4] if a != b]
PICKUP_STORES = [loc for loc, spec in LOCATIONS.items() if spec[2]]
#: tables of the fixed world, kept from one example to the next
WORLD_TABLES = {"alembic_version", "location", "bin", "product", "barcode", "channel", "channel_location", "api_token"}

lots = st.sampled_from(LOTS)
qtys = st.integers(min_value=1, max_value=8)
order_lines = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(min_value=1, max_value=5)), min_size=1, max_size=3)


def sellable_bin(loc: str, bin_code: str) -> bool:
    return LOCATIONS[loc][4][bin_code] in SELLABLE_BIN_KINDS


class StockMachine(RuleBasedStateMachine):
    #: set by the test before the machine runs
    app: Any = None
    #: the app whose database holds the fixed world (locations, bins, products, channels) already
    built_for: Any = None

    def __init__(self) -> None:
        super().__init__()
        db.session.remove()
        if StockMachine.built_for is not self.app:
            _clean(self.app)
            self.build_world()
            StockMachine.built_for = self.app
        else:
            # Each example starts from the same world with no stock and no orders: emptying those tables is
            # much cheaper than rebuilding everything.
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    if table.name not in WORLD_TABLES:
                        conn.execute(table.delete())
        session = db.session
        self.channel_ids = dict(session.execute(select(Channel.code, Channel.id)).all())
        self.location_ids = dict(session.execute(select(Location.code, Location.id)).all())
        self.product_ids = dict(session.execute(select(Product.sku, Product.id)).all())
        session.rollback()
        self.codes = {v: k for k, v in self.location_ids.items()}
        # The machine's own books, changed only by operations that succeeded: a refused operation that wrote
        # anything shows up as a difference in the invariant.
        #: (location, bin, sku, lot, status) -> units
        self.quants: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
        #: open orders: id -> [(sku, qty)]
        self.open_orders: dict[int, list[tuple[str, int]]] = {}
        self.ledger_rows = 0
        self.receipts: list[tuple[str, str, str]] = []  # (location, bin, reference)
        self.orders: list[tuple[int, int, dict[str, Any]]] = []  # (order id, channel id, body)
        self.counter = 0

    @staticmethod
    def build_world() -> None:
        for loc, (kind, ships, pickup, priority, bins) in LOCATIONS.items():
            make_location(loc, kind, ships=ships, pickup=pickup, priority=priority)
            for code, bin_kind in bins.items():
                make_bin(loc, code, bin_kind)
        for sku in SKUS:
            make_product(sku, track_lots=sku == "L")
        for code, (ship_from, buffer) in CHANNELS.items():
            make_channel(code, ship_from=ship_from, buffer=buffer)

    # --- helpers -------------------------------------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    @staticmethod
    def lot_for(sku: str, lot: str) -> str:
        return lot if sku == "L" else ""

    @staticmethod
    def available() -> dict[tuple[str, str], int]:
        """(sku, location) -> sellable quants in pick/bulk bins minus open reservations, from the tables."""
        session = db.session
        result: dict[tuple[str, str], int] = defaultdict(int)
        rows = session.execute(
            select(Product.sku, Location.code, func.sum(StockQuant.qty))
            .join(Product, Product.id == StockQuant.product_id)
            .join(Location, Location.id == StockQuant.location_id)
            .join(Bin, Bin.id == StockQuant.bin_id)
            .where(StockQuant.status == "sellable", Bin.kind.in_(SELLABLE_BIN_KINDS))
            .group_by(Product.sku, Location.code)
        )
        for sku, loc, qty in rows:
            result[(sku, loc)] += qty
        rows = session.execute(
            select(Product.sku, Location.code, func.sum(Reservation.open_qty))
            .join(Product, Product.id == Reservation.product_id)
            .join(Location, Location.id == Reservation.location_id)
            .group_by(Product.sku, Location.code)
        )
        for sku, loc, qty in rows:
            result[(sku, loc)] -= qty
        return result

    @staticmethod
    def ship_from(channel: str) -> list[str]:
        explicit = CHANNELS[channel][0]
        return explicit if explicit is not None else [loc for loc, spec in LOCATIONS.items() if spec[1]]

    # --- rules ---------------------------------------------------------------------------------------------

    @initialize(data=st.data())
    def stock_up(self, data):
        """Some stock on every sellable shelf to start with, so that orders are taken as well as refused."""
        for loc, bin_code in BINS:
            if not sellable_bin(loc, bin_code):
                continue
            lines = [(sku, data.draw(st.integers(min_value=0, max_value=5)), "L1") for sku in SKUS]
            lines = [line for line in lines if line[1]]
            if lines:
                self.receive((loc, bin_code), lines)

    @rule(
        # sellable bins twice as likely: orders need stock there
        where=st.sampled_from(BINS + [b for b in BINS if sellable_bin(*b)]),
        lines=st.lists(
            st.tuples(st.sampled_from(SKUS), st.integers(min_value=1, max_value=12), lots), min_size=1, max_size=3
        ),
    )
    def receive(self, where, lines):
        loc, bin_code = where
        reference = self.next_id("DEL")
        payload = [{"sku": sku, "qty": qty, "lot": self.lot_for(sku, lot) or None} for sku, qty, lot in lines]
        _result, created = receive(loc, bin_code, reference, payload)
        assert created
        for sku, qty, lot in lines:
            self.quants[(loc, bin_code, sku, self.lot_for(sku, lot), "sellable")] += qty
        self.ledger_rows += len(lines)
        self.receipts.append((loc, bin_code, reference))

    @precondition(lambda self: self.receipts)
    @rule(data=st.data())
    def replay_receipt(self, data):
        loc, bin_code, reference = data.draw(st.sampled_from(self.receipts))
        _result, created = receive(loc, bin_code, reference, [{"sku": "A", "qty": 99}])
        assert not created

    @rule(
        pair=st.sampled_from(BIN_PAIRS),
        sku=st.sampled_from(SKUS),
        qty=qtys,
        lot=lots,
        status=st.sampled_from(["sellable", "sellable", "damaged"]),
    )
    def move(self, pair, sku, qty, lot, status):
        loc, source, target = pair
        lot = self.lot_for(sku, lot)
        held = self.quants[(loc, source, sku, lot, status)]
        leaves_sellable = status == "sellable" and sellable_bin(loc, source) and not sellable_bin(loc, target)
        free = self.available()[(sku, loc)]
        should_refuse = held < qty or (leaves_sellable and free < qty)
        try:
            move(loc, source, target, sku, qty, lot=lot, status=status)
        except InsufficientStock:
            assert should_refuse, f"move of {qty} {sku} refused with {held} in the bin and {free} free"
            return
        assert not should_refuse, f"move of {qty} {sku} allowed with {held} in the bin and {free} free"
        self.quants[(loc, source, sku, lot, status)] -= qty
        self.quants[(loc, target, sku, lot, status)] += qty
        self.ledger_rows += 1

    def stocked(self) -> list[tuple[str, str, str, str, str]]:
        return sorted(key for key, qty in self.quants.items() if qty > 0)

    @precondition(lambda self: self.stocked())
    @rule(data=st.data())
    def move_stock(self, data):
        """Move units that are there (some or all, or one too many) to another bin of their location."""
        loc, source, sku, lot, status = data.draw(st.sampled_from(self.stocked()))
        target = data.draw(st.sampled_from([b for b in LOCATIONS[loc][4] if b != source]))
        qty = data.draw(st.integers(min_value=1, max_value=self.quants[(loc, source, sku, lot, status)] + 1))
        self.move((loc, source, target), sku, qty, lot or "L1", status)

    @precondition(lambda self: self.stocked())
    @rule(data=st.data())
    def take_stock(self, data):
        """Write off units that are there (some or all, or one too many)."""
        loc, bin_code, sku, lot, status = data.draw(st.sampled_from(self.stocked()))
        delta = -data.draw(st.integers(min_value=1, max_value=self.quants[(loc, bin_code, sku, lot, status)] + 1))
        self.adjust((loc, bin_code), sku, delta, lot or "L1", status)

    @rule(
        where=st.sampled_from(BINS),
        sku=st.sampled_from(SKUS),
        delta=st.integers(min_value=-6, max_value=6).filter(bool),
        lot=lots,
        status=st.sampled_from(["sellable", "sellable", "damaged"]),
    )
    def adjust(self, where, sku, delta, lot, status):
        loc, bin_code = where
        lot = self.lot_for(sku, lot)
        held = self.quants[(loc, bin_code, sku, lot, status)]
        counts_as_sellable = status == "sellable" and sellable_bin(loc, bin_code)
        free = self.available()[(sku, loc)]
        should_refuse = delta < 0 and (held < -delta or (counts_as_sellable and free < -delta))
        try:
            adjust(loc, bin_code, sku, delta, "count", lot=lot, status=status)
        except InsufficientStock:
            assert should_refuse, f"adjustment {delta} of {sku} refused with {held} in the bin, {free} free"
            return
        assert not should_refuse, f"adjustment {delta} of {sku} allowed with {held} in the bin, {free} free"
        self.quants[(loc, bin_code, sku, lot, status)] += delta
        self.ledger_rows += 1

    @rule(
        channel=st.sampled_from(sorted(CHANNELS)),
        lines=order_lines,
        pickup=st.one_of(st.none(), st.sampled_from(PICKUP_STORES)),
    )
    def order(self, channel, lines, pickup):
        external_id = self.next_id("ORD")
        extra = {"fulfilment": "pickup", "pickup_location": pickup, "ship_to": None} if pickup else {}
        body = order_body(external_id, lines=lines, **extra)
        if pickup:
            candidates = [pickup] + [loc for loc, spec in LOCATIONS.items() if spec[0] == "warehouse"]
        else:
            candidates = self.ship_from(channel)
        free = self.available()
        wanted: dict[str, int] = defaultdict(int)
        for sku, qty in lines:
            wanted[sku] += qty
        # a delivery order may take what the channel's availability shows: its buffer is held back
        kept_back = 0 if pickup else CHANNELS[channel][1]
        there = {sku: max(0, sum(max(0, free[(sku, loc)]) for loc in candidates) - kept_back) for sku in wanted}
        short = [
            {"sku": sku, "requested": qty, "available": there[sku]} for sku, qty in lines if wanted[sku] > there[sku]
        ]
        try:
            order, created = place_order(self.channel_ids[channel], body)
        except InsufficientStock as exc:
            assert short, f"order {lines} via {candidates} refused though {there} is free"
            assert exc.details == short
            return
        assert created and not short, f"order {lines} accepted though short: {short}"
        for line, (_sku, qty) in zip(order.lines, lines, strict=True):
            assert sum(r.qty for r in line.reservations) == qty
            for r in line.reservations:
                code = self.codes[r.location_id]
                assert code in candidates
                assert r.needs_transfer == (pickup is not None and code != pickup)
        self.orders.append((order.id, self.channel_ids[channel], body))
        self.open_orders[order.id] = list(lines)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel(self, data):
        order_id, channel_id, _body = data.draw(st.sampled_from(self.orders))
        order = cancel_order(order_id, channel_id=channel_id)
        assert order.status == "cancelled"
        self.open_orders.pop(order_id, None)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def replay_order(self, data):
        order_id, channel_id, body = data.draw(st.sampled_from(self.orders))
        order, created = place_order(channel_id, body)
        assert not created and order.id == order_id

    # --- invariants ----------------------------------------------------------------------------------------

    @invariant()
    def books_balance(self):
        session = db.session
        session.rollback()  # one fresh read transaction for every check below
        try:
            free = self.available()
            self.quants_match_the_model()
            self.reservations_match_the_model()
            self.ledger_balances()
            self.levels_are_whole_and_match_availability(free)
        finally:
            session.rollback()
        self.channel_availability_is_the_designed_formula(free)

    def quants_match_the_model(self):
        rows = db.session.execute(
            select(Location.code, Bin.code, Product.sku, StockQuant.lot, StockQuant.status, StockQuant.qty)
            .join(Location, Location.id == StockQuant.location_id)
            .join(Bin, Bin.id == StockQuant.bin_id)
            .join(Product, Product.id == StockQuant.product_id)
        ).all()
        stored = {(loc, b, sku, lot, status): qty for loc, b, sku, lot, status, qty in rows if qty}
        expected = {key: qty for key, qty in self.quants.items() if qty}
        assert stored == expected
        assert all(qty >= 0 for *_key, qty in rows)
        ledger_rows = db.session.execute(select(func.count()).select_from(StockMovement)).scalar_one()
        assert ledger_rows == self.ledger_rows

    def reservations_match_the_model(self):
        """Open reservation rows per sku are exactly the open orders' lines; refused orders left none."""
        rows = db.session.execute(
            select(Product.sku, func.sum(Reservation.open_qty))
            .join(Product, Product.id == Reservation.product_id)
            .group_by(Product.sku)
        ).all()
        expected: dict[str, int] = defaultdict(int)
        for lines in self.open_orders.values():
            for sku, qty in lines:
                expected[sku] += qty
        assert {sku: qty for sku, qty in rows if qty} == {sku: qty for sku, qty in expected.items() if qty}
        orders = db.session.execute(select(func.count()).select_from(Order)).scalar_one()
        assert orders == len(self.orders)

    def ledger_balances(self):
        assert check_stock() == []

    def levels_are_whole_and_match_availability(self, free: dict[tuple[str, str], int]):
        levels = {
            (sku, loc): (on_hand, reserved)
            for sku, loc, on_hand, reserved in db.session.execute(
                select(Product.sku, Location.code, StockLevel.on_hand_sellable, StockLevel.reserved)
                .join(Product, Product.id == StockLevel.product_id)
                .join(Location, Location.id == StockLevel.location_id)
            )
        }
        for key, (on_hand, reserved) in levels.items():
            assert 0 <= reserved <= on_hand, (key, on_hand, reserved)
        for key in set(levels) | {k for k, v in free.items() if v}:
            on_hand, reserved = levels.get(key, (0, 0))
            assert on_hand - reserved == free[key], (key, levels.get(key), free[key])

    def channel_availability_is_the_designed_formula(self, free: dict[tuple[str, str], int]):
        if channel_availability is None:
            return
        for channel, (_ship_from, buffer) in CHANNELS.items():
            expected = {sku: max(0, sum(free[(sku, loc)] for loc in self.ship_from(channel)) - buffer) for sku in SKUS}
            items = channel_availability(self.channel_ids[channel], buffer, list(SKUS))
            assert {item["sku"]: item["available"] for item in items} == expected, channel
            for item in items:
                per_location = {entry["location"]: entry["available"] for entry in item["locations"]}
                assert per_location == {loc: free[(item["sku"], loc)] for loc in per_location}, item
                assert all(entry["pickup"] == LOCATIONS[entry["location"]][2] for entry in item["locations"])


def _run(app, max_examples: int) -> None:
    StockMachine.app = app
    StockMachine.built_for = None  # the fixture emptied the database
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_stock_stays_whole_on_sqlite(app):
    _run(app, 25)


def test_stock_stays_whole_on_postgres(pg_app):
    _run(pg_app, 25)


def test_the_machine_can_fail(app):
    """The invariants are not tautologies: a level changed behind the services' back breaks two of them."""
    machine = StockMachine.__new__(StockMachine)
    StockMachine.app, StockMachine.built_for = app, None
    StockMachine.__init__(machine)
    machine.receive(("WH1", "A-01"), [("A", 5, "L1")])
    machine.books_balance()
    machine.order("WEB", [("A", 2)], None)
    machine.books_balance()
    db.session.execute(
        StockLevel.__table__.update()
        .where(StockLevel.product_id == machine.product_ids["A"])
        .values(on_hand_sellable=StockLevel.on_hand_sellable + 1)
    )
    db.session.commit()
    with pytest.raises(AssertionError):
        machine.levels_are_whole_and_match_availability(machine.available())
    with pytest.raises(AssertionError):
        machine.ledger_balances()
    machine.quants[("WH1", "A-01", "A", "", "sellable")] += 1
    with pytest.raises(AssertionError):
        machine.quants_match_the_model()
    machine.open_orders.clear()  # as if the order had been refused but left its reservation behind
    with pytest.raises(AssertionError):
        machine.reservations_match_the_model()
