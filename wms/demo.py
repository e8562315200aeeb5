"""``wms demo [--reset]``: migrate, then seed a believable Polish omnichannel retailer through the services.

One warehouse (WH1, Łódź) and three stores (Kraków, Warszawa, Gdańsk), bins with a walk sequence, about 200 home,
kitchen, garden and tools products with valid EAN-13 barcodes, stock booked by receipts, four sales channels,
staff users and open orders of every kind. Everything is keyed (location and bin codes, skus, receipt references,
order external ids, usernames, channel codes), so a second run creates nothing twice; only the printed API tokens
are new on every run (tokens are stored hashed, so the old ones cannot be shown again; they keep working).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from wms.api.schemas import OrderIn
from wms.auth.service import create_user, find_user
from wms.catalog.models import Barcode, Product
from wms.catalog.rules import with_check_digit
from wms.catalog.service import import_products
from wms.channels.models import Channel
from wms.channels.service import create_channel, create_token
from wms.errors import NotFound
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.locations.service import upsert_location
from wms.orders.models import Order
from wms.orders.service import place_order
from wms.picking.models import Wave
from wms.picking.service import due_by_line, release_wave
from wms.pickups.expiry import expire_order
from wms.pickups.service import hand_over
from wms.printing.service import add_printer, get_printer, printer_url_policy
from wms.printing.stations import create_station_token
from wms.returns.models import Return
from wms.returns.service import receive_return, request_return
from wms.server import schema_state
from wms.shipping.service import create_shipment
from wms.stock.bins import upsert_bin
from wms.stock.models import StockLevel, StockQuant
from wms.stock.service import receive
from wms.summaries.last_movement import rebuild as rebuild_last_movements
from wms.summaries.stock_totals import refresh as refresh_stock_totals
from wms.tasks.counts import open_counts
from wms.tasks.kinds.pick import cancel_order_and_work
from wms.tasks.kinds.stage import open_stage_tasks
from wms.tasks.models import Task, TaskLine
from wms.tasks.service import apply_scan, complete_task, get_task
from wms.tasks.service import receive as receive_into_dock
from wms.timeutil import utcnow
from wms.transfers.models import Transfer
from wms.transfers.service import TRANSFERS_CHANNEL, create_transfer
from wms.uow import unit_of_work

# --- the retailer -------------------------------------------------------------------------------------------

LOCATIONS: dict[str, dict[str, Any]] = {
    "WH1": {"name": "Magazyn centralny Łódź", "kind": "warehouse", "ships": True, "pickup": False, "priority": 10},
    "ST-KRK": {
        "name": "Sklep Kraków Kazimierz",
        "kind": "store",
        "ships": False,
        "pickup": True,
        "pickup_hold_days": 7,
    },
    "ST-WAW": {
        "name": "Sklep Warszawa Mokotów",
        "kind": "store",
        "ships": True,  # the flagship store also ships web orders
        "pickup": True,
        "pickup_hold_days": 7,
        "priority": 50,
    },
    "ST-GDA": {"name": "Sklep Gdańsk Wrzeszcz", "kind": "store", "ships": False, "pickup": True, "pickup_hold_days": 5},
}
STORES = ("ST-KRK", "ST-WAW", "ST-GDA")
SHIPPING_STORE = "ST-WAW"

BAYS = 12
#: pick aisles walked as a snake: A up, B down, C up, so the walk sequence never doubles back
PICK_BINS = [f"{aisle}-{bay:02d}" for aisle in "ABC" for bay in range(1, BAYS + 1)]
BULK_BINS = [f"R-{n:02d}" for n in range(1, 7)]
STORE_FLOOR_BINS = [f"SF-{n:02d}" for n in range(1, 7)]
#: lines of the delivery on the dock that are already put away; the rest waits on the dock
DOCK_PUT_AWAY = 3


def _walk_sequence(code: str) -> int:
    aisle, bay = code.split("-")
    index = "ABC".index(aisle)
    position = int(bay) if index % 2 == 0 else BAYS + 1 - int(bay)
    return 100 * (index + 1) + position


def bins() -> dict[str, list[tuple[str, str, int]]]:
    """(code, kind, walk sequence) of every bin, by location."""
    warehouse = [("DOCK-1", "dock", 0), ("DOCK-2", "dock", 1)]
    warehouse += [(code, "pick", _walk_sequence(code)) for code in PICK_BINS]
    warehouse += [(code, "bulk", 500 + n) for n, code in enumerate(BULK_BINS)]
    warehouse += [("STAGE-1", "staging", 900), ("STAGE-2", "staging", 901)]
    warehouse += [("RET-1", "returns", 950), ("QUAR-1", "quarantine", 960)]
    store = [("RCV", "dock", 0)]
    store += [(code, "pick", 10 + n) for n, code in enumerate(STORE_FLOOR_BINS)]
    store += [("BR-01", "bulk", 50)]
    store += [(f"PU-{n:02d}", "pickup", 80 + n) for n in range(1, 4)]
    store += [("STG", "staging", 90), ("RET", "returns", 95)]  # STG: what a store picks to send (a transfer)
    return {"WH1": warehouse} | {code: list(store) for code in STORES}


# Product families: (sku prefix, [(name, [variants]), ...]). A variant list of [""] means one product.
FAMILIES: list[tuple[str, list[tuple[str, list[str]]]]] = [
    (
        "KT",
        [
            ("Patelnia żeliwna", ["20 cm", "24 cm", "28 cm"]),
            ("Garnek ze stali nierdzewnej", ["2 l", "3,5 l", "5 l"]),
            ("Nóż szefa kuchni", ["15 cm", "20 cm"]),
            ("Deska do krojenia z drewna bukowego", ["30×20 cm", "40×30 cm"]),
            ("Czajnik elektryczny 1,7 l", ["biały", "czarny", "stalowy"]),
            ("Cast-iron skillet", ["26 cm"]),
            ("Chef's knife set, 5 pcs", [""]),
            ("Młynek do pieprzu drewniany", [""]),
            ("Sitko kuchenne", ["12 cm", "18 cm"]),
            ("Tarka czterostronna", [""]),
            ("Kubek ceramiczny 350 ml", ["biały", "granatowy", "miętowy"]),
            ("Talerz obiadowy porcelanowy 27 cm", [""]),
            ("Zestaw sztućców 24 el.", [""]),
            ("Pojemnik szklany z pokrywką", ["0,6 l", "1 l", "1,5 l"]),
            ("French press", ["0,35 l", "1 l"]),
            ("Stainless steel mixing bowl", ["20 cm", "26 cm"]),
            ("Rękawica kuchenna silikonowa", [""]),
            ("Wałek do ciasta bukowy", [""]),
            ("Waga kuchenna elektroniczna", [""]),
            ("Ekspres przelewowy do kawy", [""]),
            ("Forma do pieczenia chleba", [""]),
            ("Słoik z zakrętką 0,9 l, 6 szt.", [""]),
            ("Ściereczka kuchenna lniana", ["2 szt.", "4 szt."]),
            ("Dzbanek filtrujący 2,4 l", [""]),
            ("Patelnia z powłoką ceramiczną", ["24 cm", "28 cm"]),
            ("Szklanki do napojów 300 ml, 6 szt.", [""]),
            ("Kieliszki do wina 350 ml, 4 szt.", [""]),
            ("Toster 2-kromkowy", ["biały", "czarny"]),
            ("Blender ręczny 800 W", [""]),
            ("Moka pot, 6 cups", [""]),
            ("Bread bin, bamboo", [""]),
        ],
    ),
    (
        "GD",
        [
            ("Konewka ogrodowa", ["5 l", "10 l"]),
            ("Sekator nożycowy", [""]),
            ("Sekator kowadełkowy", [""]),
            ('Wąż ogrodowy 1/2"', ["20 m", "30 m", "50 m"]),
            ("Zraszacz wahadłowy", [""]),
            ("Grabie metalowe 14 zębów", [""]),
            ("Łopata ostra z trzonkiem", [""]),
            ("Rękawice ogrodowe", ["S", "M", "L"]),
            ("Doniczka ceramiczna", ["Ø 16 cm", "Ø 22 cm", "Ø 30 cm"]),
            ("Ziemia uniwersalna 50 l", [""]),
            ("Garden kneeler with handles", [""]),
            ("Solar garden lights, 4-pack", [""]),
            ("Taczka ogrodowa 80 l", [""]),
            ("Kosiarka elektryczna 1400 W", [""]),
            ("Nożyce do żywopłotu", [""]),
            ("Karmnik dla ptaków drewniany", [""]),
            ("Hose reel cart", [""]),
            ("Podpórka do roślin bambusowa", ["90 cm", "150 cm"]),
            ("Skrzynka balkonowa", ["60 cm", "80 cm"]),
            ("Opryskiwacz ciśnieniowy 5 l", [""]),
            ("Ławka ogrodowa drewniana 120 cm", [""]),
            ("Parasol ogrodowy Ø 300 cm", ["beżowy", "antracytowy"]),
            ("Grill węglowy kulisty Ø 57 cm", [""]),
            ("Węgiel drzewny 5 kg", [""]),
            ("Lawn edging, 10 m", [""]),
            ("Hamak bawełniany", [""]),
        ],
    ),
    (
        "TL",
        [
            ("Wkrętarka akumulatorowa 18 V", [""]),
            ("Młotek ślusarski", ["300 g", "500 g", "1000 g"]),
            ("Zestaw bitów 32 el.", [""]),
            ("Poziomica aluminiowa", ["40 cm", "60 cm", "100 cm"]),
            ("Miara zwijana", ["3 m", "5 m", "8 m"]),
            ("Wiertła do betonu, zestaw 5 szt.", [""]),
            ("Klucze płasko-oczkowe 6–22 mm, 12 szt.", [""]),
            ("Śrubokręty precyzyjne, zestaw", [""]),
            ("Piła płatnica 450 mm", [""]),
            ("Szczypce uniwersalne 180 mm", [""]),
            ("Cordless impact driver 18 V", [""]),
            ("Oscillating multi-tool 300 W", [""]),
            ("Drabina aluminiowa", ["3 stopnie", "5 stopni"]),
            ('Skrzynka narzędziowa 19"', [""]),
            ("Taśma izolacyjna PCV", ["czarna", "czerwona", "niebieska"]),
            ("Nóż z ostrzem łamanym 18 mm", [""]),
            ("Kołki rozporowe 8 mm, 100 szt.", [""]),
            ("Wkręty do drewna 4×40, 200 szt.", [""]),
            ("Okulary ochronne", [""]),
            ("Rękawice robocze powlekane", ["M", "L", "XL"]),
            ("Szlifierka kątowa 125 mm 900 W", [""]),
            ("Wyrzynarka 650 W", [""]),
            ("Pistolet do silikonu", [""]),
            ('Zestaw kluczy nasadowych 1/4", 46 el.', [""]),
            ("Stud finder with laser level", [""]),
        ],
    ),
    (
        "HM",
        [
            ("Poduszka dekoracyjna 45×45 cm", ["szara", "musztardowa", "butelkowa zieleń"]),
            ("Koc polarowy 150×200 cm", ["grafitowy", "beżowy"]),
            ("Ręcznik bawełniany 70×140 cm", ["biały", "grafitowy", "błękitny"]),
            ("Wieszak ścienny dębowy", [""]),
            ("Kosz wiklinowy z uchwytami", [""]),
            ("Ramka na zdjęcia", ["13×18 cm", "21×30 cm"]),
            ("Świeca zapachowa Leśna polana", [""]),
            ("Zasłona zaciemniająca 140×250 cm", ["szara", "granatowa"]),
            ("Dywanik łazienkowy 50×80 cm", [""]),
            ("Storage box with lid", ["15 l", "30 l"]),
            ("Lustro ścienne okrągłe Ø 50 cm", [""]),
            ("Zegar ścienny 30 cm", [""]),
            ("Pościel bawełniana 160×200 cm", ["biała", "szałwiowa"]),
            ("Organizer do szuflady", [""]),
            ("Wycieraczka kokosowa 40×60 cm", [""]),
            ("Kołdra całoroczna 155×200 cm", [""]),
            ("Poduszka do spania 50×60 cm", [""]),
            ("Półka ścienna dębowa", ["60 cm", "90 cm"]),
            ("Obrus lniany 140×180 cm", ["naturalny", "szary"]),
        ],
    ),
    (
        "LT",
        [
            ("Żarówka LED E27 9 W", ["ciepła biel", "neutralna biel"]),
            ("Żarówka LED GU10 5 W", [""]),
            ("Lampa biurkowa LED z ładowarką USB", [""]),
            ("Lampka nocna z drewna", [""]),
            ("Taśma LED RGB 5 m", [""]),
            ("Przedłużacz 5 gniazd 3 m", [""]),
            ("Latarka czołowa 300 lm", [""]),
            ("Outdoor wall light, anthracite", [""]),
            ("Lampa wisząca rattanowa", [""]),
            ("Girlanda świetlna 10 m", [""]),
            ("Czujnik ruchu natynkowy", [""]),
            ("Żarówka LED E14 5 W, ciepła biel", [""]),
            ("Smart bulb E27, Wi-Fi", [""]),
            ("Listwa zasilająca z USB", [""]),
            ("Kinkiet łazienkowy IP44", [""]),
            ("Lampa podłogowa łukowa", [""]),
            ("Lampka solarna balkonowa", [""]),
        ],
    ),
    (
        "CL",
        [
            ("Mop obrotowy z wiadrem", [""]),
            ("Ściereczki z mikrofibry, 5 szt.", [""]),
            ("Zmiotka z szufelką", [""]),
            ("Wiadro", ["10 l", "14 l"]),
            ("Odkurzacz bezprzewodowy 25,2 V", [""]),
            ("Worki na śmieci 60 l, 20 szt.", [""]),
            ("Szczotka do WC z pojemnikiem", [""]),
            ("Suszarka na pranie stojąca 18 m", [""]),
            ("Deska do prasowania 120×38 cm", [""]),
            ("Żelazko parowe 2400 W", [""]),
            ("Kosz na śmieci z pedałem", ["20 l", "30 l"]),
            ("Gąbki kuchenne, 10 szt.", [""]),
            ("Rękawice gumowe", ["M", "L"]),
            ("Kosz na pranie bambusowy", [""]),
            ("Wieszaki na ubrania drewniane, 10 szt.", [""]),
            ("Myjka ciśnieniowa 1800 W", [""]),
            ("Ściągaczka do okien 35 cm", [""]),
            ("Szczotka do butelek", [""]),
        ],
    ),
]

#: lot-tracked products (seeds, chemicals, batteries): (sku prefix, name), with a lot and an expiry on receipt
LOT_PRODUCTS: list[tuple[str, str, date]] = [
    ("GD", "Nawóz do trawnika 5 kg", date(2028, 3, 31)),
    ("GD", "Nasiona trawy Sportowa 1 kg", date(2027, 12, 31)),
    ("GD", "Nasiona pomidora Malinowy Ożarowski", date(2027, 12, 31)),
    ("GD", "Nasiona bazylii Genovese", date(2027, 12, 31)),
    ("TL", "Klej montażowy 290 ml", date(2027, 9, 30)),
    ("TL", "Silikon sanitarny bezbarwny 280 ml", date(2027, 10, 31)),
    ("TL", "Lakierobejca dąb 0,75 l", date(2028, 6, 30)),
    ("LT", "Baterie alkaliczne AA, 4 szt.", date(2031, 12, 31)),
    ("LT", "Baterie alkaliczne AAA, 4 szt.", date(2031, 12, 31)),
    ("CL", "Płyn do mycia naczyń cytrynowy 1 l", date(2028, 1, 31)),
]

#: GS1 company prefix of the (made-up) brand; each product's EAN-13 is prefix + 5-digit item number + check digit
GS1_PREFIX = "5907712"
#: an older supplier's prefix: some products carry its EAN as a second barcode
OLD_GS1_PREFIX = "5901113"


@dataclass(frozen=True)
class DemoProduct:
    index: int
    sku: str
    name: str
    barcodes: tuple[str, ...]
    lot_expiry: date | None = None

    @property
    def track_lots(self) -> bool:
        return self.lot_expiry is not None

    def lot(self, batch: int = 0) -> str | None:
        """A lot code for this product's ``batch`` (None when it is not tracked by lot)."""
        if not self.track_lots:
            return None
        return f"L{self.lot_expiry:%y%m}-{self.index:03d}{'ABC'[batch]}"


def catalogue() -> list[DemoProduct]:
    """The products: every family's variants, then the lot-tracked ones; skus and barcodes stable across runs."""
    named: list[tuple[str, str, date | None]] = []
    for prefix, items in FAMILIES:
        for name, variants in items:
            for variant in variants:
                named.append((prefix, f"{name}, {variant}" if variant else name, None))
    named += LOT_PRODUCTS
    counters: dict[str, int] = defaultdict(int)
    products = []
    for index, (prefix, name, expiry) in enumerate(named):
        counters[prefix] += 1
        number = index + 1
        barcodes = [with_check_digit(f"{GS1_PREFIX}{number:05d}")]
        if number % 9 == 0:
            barcodes.append(with_check_digit(f"{OLD_GS1_PREFIX}{number:05d}"))
        products.append(DemoProduct(index, f"{prefix}-{1000 + counters[prefix]}", name, tuple(barcodes), expiry))
    return products


# --- stock -------------------------------------------------------------------------------------------------


@dataclass
class ReceiptPlan:
    location: str
    bin: str
    reference: str
    lines: list[dict[str, Any]] = field(default_factory=list)


def _line(product: DemoProduct, qty: int, batch: int = 0) -> dict[str, Any]:
    line: dict[str, Any] = {"sku": product.sku, "qty": qty}
    if product.track_lots:
        line |= {"lot": product.lot(batch), "expiry": product.lot_expiry}
    return line


def warehouse_pick_bin(product: DemoProduct) -> str:
    return PICK_BINS[product.index % len(PICK_BINS)]


def stock_plan(products: list[DemoProduct]) -> tuple[list[ReceiptPlan], ReceiptPlan]:
    """The receipts that put stock on the shelves, and one delivery still on the dock (put away in part).

    Every product is in a WH1 pick bin except a few sold out online; the fast movers have a pallet in bulk;
    each store carries about a third of the range on its shop floor, the Warsaw flagship a little more.
    """
    receipts: dict[tuple[str, str], ReceiptPlan] = {}

    def add(location: str, bin_code: str, prefix: str, line: dict[str, Any]) -> None:
        key = (location, bin_code)
        if key not in receipts:
            receipts[key] = ReceiptPlan(location, bin_code, f"DEMO-{prefix}-{location}-{bin_code}")
        receipts[key].lines.append(line)

    for p in products:
        if p.index % 23 != 22:  # a few are sold out in the warehouse
            add("WH1", warehouse_pick_bin(p), "PZ", _line(p, 6 + (p.index * 7) % 40))
        if p.index % 4 == 0 and p.index < 120:
            add("WH1", BULK_BINS[p.index % len(BULK_BINS)], "PZ", _line(p, 48, batch=1))
        for s, store in enumerate(STORES):
            if p.index % 3 == s or (store == SHIPPING_STORE and p.index % 5 == 0):
                add(store, STORE_FLOOR_BINS[p.index % len(STORE_FLOOR_BINS)], "MM", _line(p, 2 + p.index % 5))
        if p.index % 25 == 3:
            add("ST-WAW", "BR-01", "MM", _line(p, 12))
    dock = ReceiptPlan("WH1", "DOCK-1", "DEMO-PZ-WH1-DOCK-1-2611")
    dock.lines = [_line(p, 24) for p in products[5:100:19]]
    return list(receipts.values()), dock


def sellable_plan(receipts: list[ReceiptPlan], dock: ReceiptPlan) -> dict[tuple[str, str], int]:
    """(location, sku) -> sellable units in pick and bulk bins before any order: the receipts there, and the
    part of the dock delivery that is put away."""
    kinds = {(loc, code): kind for loc, codes in bins().items() for code, kind, _seq in codes}
    units: dict[tuple[str, str], int] = defaultdict(int)
    for receipt in receipts:
        if kinds[(receipt.location, receipt.bin)] in ("pick", "bulk"):
            for line in receipt.lines:
                units[(receipt.location, line["sku"])] += line["qty"]
    for line in dock.lines[:DOCK_PUT_AWAY]:
        units[(dock.location, line["sku"])] += line["qty"]
    return units


# --- channels, users, orders ---------------------------------------------------------------------------------

CHANNELS: list[dict[str, Any]] = [
    {"code": "WEB", "name": "Sklep internetowy", "ship_from": ["WH1", SHIPPING_STORE], "buffer": 2},
    {"code": "APP", "name": "Aplikacja mobilna", "ship_from": ["WH1", SHIPPING_STORE], "buffer": 2},
    {"code": "ALLEGRO", "name": "Allegro", "ship_from": ["WH1"], "buffer": 5},
    {"code": "POS", "name": "Kasy w sklepach (zamówienia z dostawą)", "ship_from": ["WH1"], "buffer": 0},
]
#: the channel whose token is printed at the end
SHOWN_CHANNEL = "WEB"

#: (username, role, home location, password): known demo passwords, printed at the end
USERS: list[tuple[str, str, str | None, str]] = [
    ("admin", "admin", None, "demo-admin"),
    ("manager", "manager", None, "demo-manager"),
    ("picker", "picker", "WH1", "demo-picker"),
    ("picker.waw", "picker", "ST-WAW", "demo-picker"),
    ("clerk.krk", "clerk", "ST-KRK", "demo-clerk"),
    ("clerk.waw", "clerk", "ST-WAW", "demo-clerk"),
    ("clerk.gda", "clerk", "ST-GDA", "demo-clerk"),
]

#: the floor staff's pages speak Polish; managers and admins follow their browser
FLOOR_LANGUAGE = {"picker": "pl", "clerk": "pl"}

CUSTOMERS: list[tuple[dict[str, str], dict[str, str]]] = [
    (
        {"name": "Anna Nowak", "email": "anna.nowak@example.com", "phone": "+48600100200"},
        {"line1": "ul. Floriańska 12/4", "city": "Kraków", "postcode": "31-019", "country": "PL"},
    ),
    (
        {"name": "Piotr Wiśniewski", "email": "p.wisniewski@example.com", "phone": "+48601234567"},
        {"line1": "ul. Marszałkowska 84/92 m. 15", "city": "Warszawa", "postcode": "00-514", "country": "PL"},
    ),
    (
        {"name": "Katarzyna Wójcik", "email": "kasia.wojcik@example.com", "phone": "+48602345678"},
        {"line1": "ul. Długa 45", "city": "Gdańsk", "postcode": "80-831", "country": "PL"},
    ),
    (
        {"name": "Tomasz Kowalczyk", "email": "tomasz.k@example.com", "phone": "+48603456789"},
        {"line1": "ul. Piotrkowska 101", "line2": "lokal 3", "city": "Łódź", "postcode": "90-425", "country": "PL"},
    ),
    (
        {"name": "Małgorzata Zielińska", "email": "m.zielinska@example.com", "phone": "+48604567890"},
        {"line1": "ul. Świdnicka 8", "city": "Wrocław", "postcode": "50-068", "country": "PL"},
    ),
    (
        {"name": "Michał Lewandowski", "email": "michal.lewandowski@example.com", "phone": "+48605678901"},
        {"line1": "ul. Półwiejska 2", "city": "Poznań", "postcode": "61-888", "country": "PL"},
    ),
    (
        {"name": "Agnieszka Kamińska", "email": "a.kaminska@example.com", "phone": "+48606789012"},
        {"line1": "ul. Zwycięstwa 1", "city": "Gdynia", "postcode": "81-301", "country": "PL"},
    ),
    (
        {"name": "Łukasz Woźniak", "email": "lukasz.wozniak@example.com", "phone": "+48607890123"},
        {"line1": "ul. Mostowa 5", "city": "Toruń", "postcode": "87-100", "country": "PL"},
    ),
]


@dataclass(frozen=True)
class OrderPlan:
    channel: str
    payload: dict[str, Any]
    #: what the order shows in the demo (printed in the summary)
    story: str
    cancel: bool = False


class _Stock:
    """Chooses a product for each planned order line from the planned stock; each product serves one line, so
    lines asking for no more than the thresholds below always fit."""

    def __init__(self, units: dict[tuple[str, str], int], products: list[DemoProduct]):
        self.units = units
        self.products = products
        self.used: set[str] = set()

    def pick(self, start: int, *, at: dict[str, int], absent: tuple[str, ...] = ()) -> DemoProduct:
        """The first product from index ``start`` (wrapping) with at least ``at[location]`` sellable units at each
        location and none at the ``absent`` ones, not chosen before."""
        n = len(self.products)
        for offset in range(n):
            p = self.products[(start + offset) % n]
            if p.sku in self.used:
                continue
            if all(self.units.get((loc, p.sku), 0) >= need for loc, need in at.items()) and not any(
                self.units.get((loc, p.sku), 0) for loc in absent
            ):
                self.used.add(p.sku)
                return p
        raise RuntimeError(f"the demo stock plan has no product with {at} and none at {absent}")  # pragma: no cover


def order_plan(products: list[DemoProduct], units: dict[tuple[str, str], int]) -> list[OrderPlan]:
    """Open orders of every kind the system has so far, each chosen to fit the planned stock."""
    stock = _Stock(units, products)

    def ship(external_id: str, customer: int, lines: list[tuple[DemoProduct, int]]) -> dict[str, Any]:
        person, address = CUSTOMERS[customer]
        return {
            "external_id": external_id,
            "fulfilment": "ship",
            "customer": person,
            "ship_to": {"name": person["name"], **address},
            "lines": [{"sku": p.sku, "qty": q} for p, q in lines],
        }

    def pickup(external_id: str, customer: int, store: str, lines: list[tuple[DemoProduct, int]]) -> dict[str, Any]:
        return {
            "external_id": external_id,
            "fulfilment": "pickup",
            "customer": CUSTOMERS[customer][0],
            "pickup_location": store,
            "lines": [{"sku": p.sku, "qty": q} for p, q in lines],
        }

    wh = {"WH1": 8}
    kettle, skillet = stock.pick(10, at=wh), stock.pick(5, at=wh)
    drill, bits, level = stock.pick(60, at=wh), stock.pick(62, at=wh), stock.pick(64, at=wh)
    # More than WH1 holds, with some in the Warsaw store: the order is split over both.
    # (the web channel holds back a buffer of 2, so the store must have more than 2 for the order to fit)
    big = stock.pick(30, at={"WH1": 6, SHIPPING_STORE: 3})
    big_qty = units[("WH1", big.sku)] + 1
    krk_shelf = stock.pick(90, at={"ST-KRK": 2})
    gda_transfer = stock.pick(120, at=wh, absent=("ST-GDA",))
    gda_shelf = stock.pick(125, at={"ST-GDA": 1})
    waw_shelf, waw_shelf2 = stock.pick(140, at={"ST-WAW": 2}), stock.pick(145, at={"ST-WAW": 1})
    krk_transfer = stock.pick(150, at=wh, absent=("ST-KRK",))
    krk_shelf2 = stock.pick(155, at={"ST-KRK": 1})
    # Allegro holds back a buffer of 5 units per product: its orders need more on hand
    allegro_wh = {"WH1": 10}
    hose, gloves, bulbs = stock.pick(70, at=wh), stock.pick(80, at=allegro_wh), stock.pick(170, at=allegro_wh)
    cancelled, allegro_cancelled = stock.pick(100, at=wh), stock.pick(110, at=allegro_wh)
    pos_item = stock.pick(40, at=wh)
    # click & collect that went all the way (collected, partly declined, expired) and an order shipped and returned
    waw_collect, waw_decline1, waw_decline2 = (
        stock.pick(20, at={"ST-WAW": 2}),
        stock.pick(24, at={"ST-WAW": 1}),
        stock.pick(28, at={"ST-WAW": 1}),
    )
    gda_expire = stock.pick(44, at={"ST-GDA": 1})
    returned = stock.pick(48, at={"WH1": 10})
    return [
        OrderPlan("WEB", ship("WEB-100231", 0, [(kettle, 1), (skillet, 1)]), "web order to Kraków, 2 lines"),
        OrderPlan("WEB", ship("WEB-100232", 1, [(drill, 1), (bits, 2), (level, 1)]), "web order, 3 lines"),
        OrderPlan(
            "WEB",
            ship("WEB-100233", 3, [(big, big_qty)]),
            f"web order split between WH1 and {SHIPPING_STORE}",
        ),
        OrderPlan("WEB", pickup("WEB-100234", 0, "ST-KRK", [(krk_shelf, 2)]), "click & collect from the Kraków shelf"),
        OrderPlan(
            "WEB",
            pickup("WEB-100235", 2, "ST-GDA", [(gda_transfer, 1), (gda_shelf, 1)]),
            "click & collect in Gdańsk: one line from the shelf, one by transfer from WH1",
        ),
        OrderPlan("WEB", ship("WEB-100236", 4, [(cancelled, 1)]), "web order cancelled by the customer", cancel=True),
        OrderPlan(
            "APP",
            pickup("APP-55012", 1, "ST-WAW", [(waw_shelf, 2), (waw_shelf2, 1)]),
            "app click & collect from the Warsaw shelf",
        ),
        OrderPlan(
            "APP",
            pickup("APP-55013", 7, "ST-KRK", [(krk_transfer, 1), (krk_shelf2, 1)]),
            "app click & collect in Kraków, one line by transfer from WH1",
        ),
        OrderPlan("APP", ship("APP-55014", 6, [(hose, 1)]), "app order to Gdynia"),
        OrderPlan("ALLEGRO", ship("ALG-8734512001", 5, [(gloves, 2)]), "Allegro order to Poznań"),
        OrderPlan("ALLEGRO", ship("ALG-8734512002", 2, [(bulbs, 4)]), "Allegro order to Gdańsk, 4 units"),
        OrderPlan(
            "ALLEGRO", ship("ALG-8734512003", 7, [(allegro_cancelled, 1)]), "Allegro order cancelled", cancel=True
        ),
        OrderPlan("POS", ship("POS-KRK-000871", 3, [(pos_item, 1)]), "ordered at the Kraków till, delivered home"),
        OrderPlan(
            "WEB",
            pickup(COLLECTED_PICKUP, 4, "ST-WAW", [(waw_collect, 2)]),
            "collected in Warsaw; one unit brought back to the counter later (return closed)",
        ),
        OrderPlan(
            "WEB",
            pickup(DECLINED_PICKUP, 5, "ST-WAW", [(waw_decline1, 1), (waw_decline2, 1)]),
            "partly collected in Warsaw: one line declined at the counter",
        ),
        OrderPlan("APP", pickup(EXPIRED_PICKUP, 6, "ST-GDA", [(gda_expire, 1)]), "never collected in Gdańsk: expired"),
        OrderPlan(
            "WEB",
            ship(RETURNED_ORDER, 7, [(returned, 3)]),
            "shipped from WH1; returns: one in quarantine at WH1, one half taken in at Kraków",
        ),
    ]


#: the orders the store flows of the demo carry to their end (``_seed_store_flows``)
COLLECTED_PICKUP = "WEB-100237"
DECLINED_PICKUP = "WEB-100238"
EXPIRED_PICKUP = "APP-55016"
RETURNED_ORDER = "WEB-100239"
#: the pickup order whose warehouse line is on its way to the store in the demo
IN_TRANSIT_PICKUP = "APP-55013"
#: the device the store flows' waves are released from (so that they are told from the demo's open wave)
STORE_FLOWS_DEVICE = "demo-store-flows"


# --- seeding -----------------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    url: str
    channel_token: str
    integration_token: str
    station_token: str
    users: list[tuple[str, str, str | None, str, bool]]  # username, role, location, password, created now
    counts: dict[str, int]
    orders: list[tuple[str, str, str]]  # external id, status, story
    floor: list[str]  # the floor work seeded (put-away, wave, count)
    sample_skus: list[str]
    seconds: float


@contextmanager
def _quiet_alembic():
    # Alembic's env.py sets its loggers to INFO on every run; the demo prints its own one-line summary instead.
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def reset_database() -> None:
    """Drop every table the migrations made (``alembic_version`` too); tables of other applications stay."""
    from flask_migrate import downgrade
    from sqlalchemy import inspect

    db.session.remove()
    current, _head = schema_state()
    with _quiet_alembic():
        if current is not None:
            downgrade(revision="base")
    # A database that was never (or only partly) migrated: drop whatever the models know of.
    db.metadata.drop_all(db.engine, checkfirst=True)
    if "alembic_version" in inspect(db.engine).get_table_names():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE alembic_version")
    db.engine.dispose()


def migrate() -> None:
    from flask_migrate import upgrade

    with _quiet_alembic():
        upgrade()


def seed(echo=lambda message: None) -> DemoResult:
    """Migrate and seed the demo (see the module docstring); safe to run again. Returns what to print."""
    started = time.monotonic()
    migrate()
    echo("schema up to date")
    echo(_seed_places())
    products = catalogue()
    echo(_seed_products(products))
    receipts, dock = stock_plan(products)
    echo(_seed_stock(receipts))
    channel_ids, channel_token = _seed_channels()
    users = _seed_users()
    echo(f"{len(CHANNELS)} channels, {len(USERS)} users")
    floor = [_seed_putaway(products, dock)]
    echo(floor[0])
    orders = _seed_orders(products, sellable_plan(receipts, dock), channel_ids)
    echo(f"{len(orders)} orders")
    # Before the printers: the store flows' stage tasks print no pickup labels (the counter station prints one).
    floor.append(_seed_store_flows())
    echo(floor[-1])
    floor.append(_seed_history(channel_ids))  # before the printers too: old pickups print no labels now
    echo(floor[-1])
    floor += [_seed_wave(), _seed_count(), _seed_replenishment()]
    echo("; ".join(floor[3:]))
    echo(_seed_printers())
    floor.append(_seed_pickups())
    echo(floor[-1])
    floor.append(_seed_returns(channel_ids))
    echo(floor[-1])
    # The ledger was re-dated behind the worker's back (the history): its summaries start again from it.
    echo(f"summaries: {rebuild_last_movements()} last movements, stock totals of {refresh_stock_totals()} locations")
    orders = _current_statuses(orders)
    integration_token = create_token("integration", "demo ERP")
    station_token = create_station_token(DEMO_STATION, f"{DEMO_STATION} demo agent")
    return DemoResult(
        station_token=station_token,
        url="http://127.0.0.1:8000",
        channel_token=channel_token,
        integration_token=integration_token,
        users=users,
        counts=_counts(),
        orders=orders,
        floor=floor,
        sample_skus=[p.sku for p in (products[0], products[60], products[-3])],
        seconds=time.monotonic() - started,
    )


def _seed_places() -> str:
    for code, data in LOCATIONS.items():
        upsert_location(code, data, actor="demo")
    count = 0
    for location, codes in bins().items():
        for code, kind, sequence in codes:
            upsert_bin(location, code, {"kind": kind, "sequence": sequence}, actor="demo")
            count += 1
    return f"{len(LOCATIONS)} locations, {count} bins"


def _seed_products(products: list[DemoProduct]) -> str:
    rows = [
        {"sku": p.sku, "name": p.name, "barcodes": " ".join(p.barcodes), "track_lots": "yes" if p.track_lots else ""}
        for p in products
    ]
    result = import_products(rows, batch_size=len(rows), actor="demo")
    if result["failed"]:
        raise RuntimeError(f"demo products refused: {result['errors'][:3]}")  # a bug in this file, not bad input
    return f"{len(products)} products ({result['created']} new)"


def _seed_stock(receipts: list[ReceiptPlan]) -> str:
    """The opening stock, received before the three weeks of history: what has not moved since shows on the health
    page as a slow mover."""
    marks = _history_marks()
    created = 0
    for plan in receipts:
        created += receive(plan.location, plan.bin, plan.reference, plan.lines, actor="demo")[1]
    if created:
        _redate(marks, (utcnow() - timedelta(days=OPENING_DAYS)).replace(hour=7, minute=0, second=0, microsecond=0))
    return f"{len(receipts)} receipts ({created} new)"


# --- floor work: a put-away in progress, a released wave, a count waiting for a manager -------------------------

FLOOR_PICKER = "picker"
FLOOR_MANAGER = "manager"
#: a pallet in bulk that the picker counted short: over the threshold, so it waits on the counts page
COUNTED_SHORT_BY = 8


def _seed_putaway(products: list[DemoProduct], dock: ReceiptPlan) -> str:
    """The delivery on the dock opens a put-away; the picker has put its first lines away by scanning (the item,
    then the bin the WMS named) and left the rest. Only when the receipt is new, so a second run moves nothing."""
    result, created = receive_into_dock(dock.location, dock.bin, dock.reference, dock.lines, actor="demo")
    if not created:
        return "put-away: the dock delivery was seeded before"
    picker = find_user(FLOOR_PICKER)
    task_id = db.session.execute(
        select(Task.id).where(Task.kind == "putaway").order_by(Task.id.desc()).limit(1)
    ).scalar_one()
    by_sku = {p.sku: p for p in products}
    for n, line in enumerate(dock.lines[:DOCK_PUT_AWAY], start=1):
        answer = apply_scan(task_id, f"demo-item-{n}", by_sku[line["sku"]].barcodes[0], None, picker, "demo")
        bin_code = answer["task"]["next"]["bin"]
        apply_scan(task_id, f"demo-bin-{n}", bin_code, None, picker, "demo")
    return f"put-away task {task_id}: {DOCK_PUT_AWAY} of {len(dock.lines)} lines of {result['reference']} put away"


def _seed_wave() -> str:
    """Release the older half of the warehouse's due orders as one wave (the rest stays for the manager)."""
    if db.session.execute(select(Wave.id).where(Wave.device.is_(None)).limit(1)).first() is not None:
        db.session.rollback()
        return "wave: released before"
    warehouse = db.session.execute(select(Location.id).where(Location.code == "WH1")).scalar_one()
    due = sorted({d.order_id for d in due_by_line(db.session, warehouse)})
    db.session.rollback()
    if not due:
        return "wave: no order is due at WH1"
    wave = release_wave("WH1", order_ids=due[: max(1, len(due) // 2)], max_orders=4, actor=FLOOR_MANAGER)
    return f"wave {wave['id']} at WH1: {len(wave['orders'])} orders in {len(wave['tasks'])} pick task(s)"


#: the pickup order the Kraków clerk has prepared in the demo, and the shelf it waits on
STAGED_PICKUP = ("WEB-100234", "clerk.krk")


def _seed_pickups() -> str:
    """Click & collect: stage tasks for every store's pickups on its own stock (as ``wms worker`` opens them); the
    Kraków clerk has prepared one of them by scans (picked, its label printed on the counter station's printer,
    shelved), so it is ready for pickup; the others wait on the clerks' handhelds."""
    opened = sum(len(open_stage_tasks(code)) for code in STORES)
    external_id, clerk_name = STAGED_PICKUP
    order = db.session.execute(select(Order).where(Order.external_id == external_id)).scalar_one()
    if order.status != "reserved":
        db.session.rollback()
        return f"click & collect: {external_id} prepared before"
    task_id = (
        db.session.execute(
            select(Task.id)
            .join(TaskLine, TaskLine.task_id == Task.id)
            .where(Task.kind == "stage", TaskLine.order_id == order.id)
        )
        .scalars()
        .first()
    )
    clerk = find_user(clerk_name)
    db.session.rollback()
    step = get_task(task_id, clerk)["next"]
    n = 0
    while step["expect"] != "nothing":
        n += 1
        expect = step["expect"]
        code = {"bin": step.get("bin"), "order": order.pickup_code, "shelf": step.get("bin") or "PU-01"}.get(expect)
        if expect in ("product", "qty"):
            code = None if expect == "qty" else _gtin_of(step["sku"])
        answer = apply_scan(
            task_id, f"demo-stage-{n}", code, step["qty"] if expect in ("product", "qty") else None, clerk, "demo"
        )
        step = answer["task"]["next"]
    return f"click & collect: {opened} stage task(s) at the stores; {external_id} ready for pickup in ST-KRK"


# --- store flows: transfers, pickups to their end, returns --------------------------------------------------


def _order_by_ref(external_id: str) -> Order:
    order = db.session.execute(select(Order).where(Order.external_id == external_id)).scalar_one()
    db.session.rollback()
    return order


def _work(task_id: int, username: str, prefix: str, tote: str = "T-0900", label: str | None = None) -> None:
    """Scan a task through as its ``next`` asks, as ``username`` does on a handheld: bins, items (GS1 with the
    lot where the line has one), the tote, the order label (``label``, else ``$O:<order>``), the pickup shelf."""
    user = find_user(username)
    db.session.rollback()
    step = get_task(task_id, user)["next"]
    n = 0
    while step["expect"] != "nothing":
        n += 1
        expect, qty = step["expect"], None
        code: str | None = {
            "bin": step.get("bin"),
            "tote": tote,
            "order": label or f"$O:{step.get('order')}",
            "shelf": step.get("bin") or "PU-01",
        }.get(expect)
        if expect == "product":
            code = _gtin_of(step["sku"])
            if step.get("lot"):
                code = f"01{code.zfill(14)}10{step['lot']}"
        elif expect == "qty":
            qty = step["qty"]
        answer = apply_scan(task_id, f"{prefix}-{n}", code, qty, user, "demo")
        step = answer["task"]["next"]
    db.session.rollback()


def _open_task(kind: str, **reference: int) -> int | None:
    query = select(Task.id).where(Task.kind == kind, Task.status.in_(["open", "in_progress"])).order_by(Task.id)
    for key, value in reference.items():
        query = query.where(Task.reference[key].as_integer() == value)
    found = db.session.execute(query).scalars().first()
    db.session.rollback()
    return found


def _picked_and_packed(order_id: int, prefix: str) -> None:
    """The order's units at WH1 released in a wave of their own, picked and packed by the demo picker."""
    # Its own wave, marked by its device: the demo's open wave (``_seed_wave``) is the one without.
    wave = release_wave("WH1", order_ids=[order_id], actor=FLOOR_MANAGER, device=STORE_FLOWS_DEVICE)
    for task_id in wave["tasks"]:
        _work(task_id, FLOOR_PICKER, f"{prefix}-pick-{task_id}", tote=f"T-{order_id:04d}")
    pack = _open_task("pack", order=order_id)
    if pack is not None:
        _work(pack, FLOOR_PICKER, f"{prefix}-pack", tote=f"T-{order_id:04d}")


def _staged(order: Order, clerk: str) -> None:
    store = db.session.get(Location, order.pickup_location_id).code
    db.session.rollback()
    (task_id,) = open_stage_tasks(store, order_ids=[order.id])
    _work(task_id, clerk, f"demo-stage-{order.id}", label=order.pickup_code)


def _seed_store_flows() -> str:
    """What a store sees happen: a pickup order's warehouse line on its way to Kraków (a transfer in transit, its
    receiving open on the clerk's handheld), a pickup collected and one partly declined in Warsaw, one expired in
    Gdańsk (its shelf to clear), and a web order shipped from WH1 to be returned. Each step once."""
    done = []
    travelling = _order_by_ref(IN_TRANSIT_PICKUP)
    if travelling.status == "reserved":
        _picked_and_packed(travelling.id, "demo-transfer")
        shipment = create_shipment(
            travelling.id, "test", None, [{"weight_g": 1800}], user=find_user(FLOOR_PICKER), device="demo"
        )
        done.append(f"transfer {shipment['transfer_id']} of {IN_TRANSIT_PICKUP} in transit to ST-KRK")
    collected = _order_by_ref(COLLECTED_PICKUP)
    if collected.status == "reserved":
        _staged(collected, "clerk.waw")
        lines = [{"sku": line.product.sku, "collected": line.qty, "declined": 0} for line in collected.lines]
        hand_over(collected.id, f"demo-handover-{collected.id}", lines, find_user("clerk.waw"), "demo")
        declined = _order_by_ref(DECLINED_PICKUP)
        _staged(declined, "clerk.waw")
        first, second = declined.lines
        lines = [
            {"sku": first.product.sku, "collected": first.qty, "declined": 0},
            {"sku": second.product.sku, "collected": 0, "declined": second.qty, "reason": "wrong colour"},
        ]
        hand_over(declined.id, f"demo-handover-{declined.id}", lines, find_user("clerk.waw"), "demo")
        done.append(f"{COLLECTED_PICKUP} collected, {DECLINED_PICKUP} partly collected in ST-WAW")
    expiring = _order_by_ref(EXPIRED_PICKUP)
    if expiring.status == "reserved":
        _staged(expiring, "clerk.gda")
        expire_order(expiring.id, now=utcnow() + timedelta(days=60), actor="demo")
        done.append(f"{EXPIRED_PICKUP} expired in ST-GDA")
    shipped = _order_by_ref(RETURNED_ORDER)
    if shipped.status == "reserved":
        _picked_and_packed(shipped.id, "demo-ship")
        create_shipment(shipped.id, "test", None, [{"weight_g": 2500}], user=find_user(FLOOR_PICKER), device="demo")
        done.append(f"{RETURNED_ORDER} shipped from WH1")
    return "store flows: " + ("; ".join(done) if done else "seeded before")


#: days of history the demo has behind it (orders shipped, pickups collected, returns), so charts show something
HISTORY_DAYS = 21
#: days ago the opening stock was received: before the history, and past the health page's 30 days of slow movers
OPENING_DAYS = HISTORY_DAYS + 14
HISTORY_PREFIX = "HIST-"
#: tables whose rows the history re-dates into the day they stand for, with their time columns
_HISTORY_TIMES: list[tuple[str, tuple[str, ...]]] = [
    ("order", ("created_at", "updated_at")),
    ("order_event", ("at",)),
    ("stock_movement", ("created_at",)),
    ("receipt", ("created_at",)),
    ("shipment", ("created_at",)),
    ("task", ("created_at", "updated_at")),
    ("task_scan", ("created_at",)),
    ("return_request", ("created_at", "updated_at")),
    ("return_event", ("at",)),
]


def _history_marks() -> dict[str, int]:
    from sqlalchemy import text

    marks = {
        name: db.session.execute(text(f'SELECT COALESCE(MAX(id), 0) FROM "{name}"')).scalar_one()
        for name, _ in _HISTORY_TIMES
    }
    db.session.rollback()
    return marks


def _redate(marks: dict[str, int], day_start: datetime) -> None:
    """Rows written since ``marks`` get times on ``day_start``'s working day, a few minutes apart, in id order."""
    from sqlalchemy import text

    with unit_of_work() as session:
        for name, columns in _HISTORY_TIMES:
            ids = session.execute(
                text(f'SELECT id FROM "{name}" WHERE id > :m ORDER BY id'), {"m": marks[name]}
            ).scalars()
            for n, row_id in enumerate(list(ids)):
                at = day_start + timedelta(minutes=4 * n)
                sets = ", ".join(f"{column} = :at" for column in columns)
                session.execute(text(f'UPDATE "{name}" SET {sets} WHERE id = :id'), {"at": at, "id": row_id})


def _seed_history(channel_ids: dict[str, int]) -> str:
    """Three weeks behind the demo: each day two orders placed, picked, packed and shipped from WH1 (one in four
    returned and restocked), every third day a click & collect order collected in Kraków; every row re-dated into
    its day, so that the charts, the stock cards and the flow have history to show."""
    done = db.session.execute(select(Order.id).where(Order.external_id.startswith(HISTORY_PREFIX)).limit(1)).first()
    db.session.rollback()
    if done is not None:
        return "history: seeded before"
    pool = list(
        db.session.execute(
            select(Product.sku)
            .join(StockLevel, StockLevel.product_id == Product.id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Location.code == "WH1", StockLevel.on_hand_sellable - StockLevel.reserved >= 25, ~Product.track_lots)
            .order_by(Product.sku)
            .limit(12)
        ).scalars()
    )
    store_pool = list(
        db.session.execute(
            select(Product.sku)
            .join(StockLevel, StockLevel.product_id == Product.id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(
                Location.code == "ST-KRK", StockLevel.on_hand_sellable - StockLevel.reserved >= 3, ~Product.track_lots
            )
            .order_by(Product.sku)
            .limit(5)
        ).scalars()
    )
    db.session.rollback()
    picker, krk, channels = find_user(FLOOR_PICKER), find_user("clerk.krk"), ["WEB", "APP", "ALLEGRO"]
    shipped = collected = returned = 0
    now = utcnow()
    for days_ago in range(HISTORY_DAYS, 0, -1):
        day_start = (now - timedelta(days=days_ago)).replace(hour=7, minute=30, second=0, microsecond=0)
        marks = _history_marks()
        for n in range(2):
            person, address = CUSTOMERS[(days_ago + n) % len(CUSTOMERS)]
            payload = {
                "external_id": f"{HISTORY_PREFIX}{days_ago:02d}-{n}",
                "fulfilment": "ship",
                "customer": person,
                "ship_to": {"name": person["name"], **address},
                "lines": [{"sku": pool[(days_ago * 2 + n) % len(pool)], "qty": 1 + n}],
            }
            channel = channels[(days_ago + n) % len(channels)]
            order, _ = place_order(channel_ids[channel], OrderIn.model_validate(payload).model_dump(mode="json"))
            _picked_and_packed(order.id, f"hist-{order.id}")
            create_shipment(order.id, "test", None, [{"weight_g": 1200}], user=picker, device="demo")
            shipped += 1
            if (days_ago + n) % 4 == 0:
                sku = payload["lines"][0]["sku"]
                ret = request_return(
                    order.id,
                    "ship",
                    [{"sku": sku, "qty": 1, "reason": "not as pictured"}],
                    channel_id=channel_ids[channel],
                    actor=f"channel:{channel}",
                )
                line = {"sku": sku, "qty": 1, "grade": "new", "disposition": "restock"}
                receive_return(ret.id, f"hist-ret-{ret.id}", "WH1", [line], picker, "demo")
                returned += 1
        if days_ago % 3 == 0 and store_pool:
            person = CUSTOMERS[days_ago % len(CUSTOMERS)][0]
            sku = store_pool[days_ago % len(store_pool)]
            payload = {
                "external_id": f"{HISTORY_PREFIX}{days_ago:02d}-P",
                "fulfilment": "pickup",
                "customer": person,
                "pickup_location": "ST-KRK",
                "lines": [{"sku": sku, "qty": 1}],
            }
            order, _ = place_order(channel_ids["WEB"], OrderIn.model_validate(payload).model_dump(mode="json"))
            fresh = _order_by_ref(order.external_id)
            _staged(fresh, "clerk.krk")
            hand_over(order.id, f"hist-handover-{order.id}", [{"sku": sku, "collected": 1, "declined": 0}], krk, "demo")
            collected += 1
        _redate(marks, day_start)
    return f"history: {HISTORY_DAYS} days, {shipped} orders shipped, {collected} collected, {returned} returned"


def _seed_replenishment() -> str:
    """A replenishment transfer from WH1 to Gdańsk that a manager asked for, waiting for the next wave."""
    exists = db.session.execute(select(Transfer.id).where(Transfer.for_order_id.is_(None)).limit(1)).first()
    db.session.rollback()
    if exists is not None:
        return "replenishment: requested before"
    product = db.session.execute(
        select(Product.sku)
        .join(StockLevel, StockLevel.product_id == Product.id)
        .join(Location, Location.id == StockLevel.location_id)
        .where(Location.code == "WH1", StockLevel.on_hand_sellable - StockLevel.reserved >= 10, ~Product.track_lots)
        .order_by(Product.sku)
        .limit(1)
    ).scalar_one()
    db.session.rollback()
    transfer = create_transfer("WH1", "ST-GDA", [{"sku": product, "qty": 6}], actor=FLOOR_MANAGER, device="demo")
    return f"replenishment transfer {transfer.id}: 6 x {product} from WH1 to ST-GDA, requested"


def _seed_returns(channel_ids: dict[str, int]) -> str:
    """Returns in every state: one closed at the Warsaw counter (restocked), one in quarantine at WH1 waiting for
    a manager, one half taken in at Kraków, one just requested online with its label."""
    collected_id = _order_by_ref(COLLECTED_PICKUP).id
    if db.session.execute(select(Return.id).where(Return.order_id == collected_id).limit(1)).first() is not None:
        db.session.rollback()
        return "returns: seeded before"
    db.session.rollback()
    collected, declined, shipped = (_order_by_ref(ref) for ref in (COLLECTED_PICKUP, DECLINED_PICKUP, RETURNED_ORDER))
    waw, krk, picker = find_user("clerk.waw"), find_user("clerk.krk"), find_user(FLOOR_PICKER)
    sku_of = {order.id: order.lines[0].product.sku for order in (collected, declined, shipped)}
    db.session.rollback()

    channel = {"channel_id": channel_ids["WEB"], "actor": "channel:WEB"}

    def returned(
        order: Order,
        method: str,
        qty: int,
        reason: str,
        opened_by: dict,
        store: str | None = None,
        intake: tuple[str, Any, int, str, str] | None = None,
    ) -> Return:
        """A return of the order's first line, taken in (``intake``: location, user, units, grade, disposition)."""
        sku = sku_of[order.id]
        ret = request_return(order.id, method, [{"sku": sku, "qty": qty, "reason": reason}], store=store, **opened_by)
        if intake is not None:
            location, user, units, grade, disposition = intake
            line = {"sku": sku, "qty": units, "grade": grade, "disposition": disposition}
            receive_return(ret.id, f"demo-ret-{ret.id}", location, [line], user, "demo")
        return ret

    clerk_waw = {"user": waw, "actor": "clerk.waw", "device": "demo"}
    closed = returned(
        collected, "store", 1, "changed my mind", clerk_waw, "ST-WAW", ("ST-WAW", waw, 1, "new", "restock")
    )
    quarantined = returned(
        shipped, "ship", 1, "arrived scratched", channel, None, ("WH1", picker, 1, "opened", "quarantine")
    )
    partial = returned(shipped, "store", 2, "too many", channel, "ST-KRK", ("ST-KRK", krk, 1, "new", "restock"))
    requested = returned(declined, "ship", 1, "does not fit", channel)
    return (
        f"returns: {closed.rma} closed at ST-WAW, {quarantined.rma} in quarantine at WH1, {partial.rma} half taken in"
        f" at ST-KRK, {requested.rma} requested online"
    )


def _gtin_of(sku: str) -> str:
    code = db.session.execute(
        select(Barcode.code).join(Product, Product.id == Barcode.product_id).where(Product.sku == sku).limit(1)
    ).scalar_one()
    db.session.rollback()
    return code


def _seed_count() -> str:
    """A count of a bulk bin: the picker counted every pallet in it and found the first one short by
    ``COUNTED_SHORT_BY`` units, over the threshold, so the count waits for the manager's approval."""
    if db.session.execute(select(Task.id).where(Task.kind == "count").limit(1)).first() is not None:
        db.session.rollback()
        return "count: seeded before"
    bin_code = db.session.execute(
        select(Bin.code)
        .join(StockQuant, StockQuant.bin_id == Bin.id)
        .join(Location, Location.id == Bin.location_id)
        .where(Location.code == "WH1", Bin.kind == "bulk", StockQuant.qty > 2 * COUNTED_SHORT_BY)
        .order_by(Bin.sequence, Bin.code)
        .limit(1)
    ).scalar()
    if bin_code is None:
        db.session.rollback()
        return "count: no pallet to count"
    pallets = db.session.execute(
        select(Barcode.code, StockQuant.qty, StockQuant.lot, Product.track_lots)
        .join(Bin, Bin.id == StockQuant.bin_id)
        .join(Location, Location.id == Bin.location_id)
        .join(Barcode, Barcode.product_id == StockQuant.product_id)
        .join(Product, Product.id == StockQuant.product_id)
        .where(Location.code == "WH1", Bin.code == bin_code, StockQuant.qty > 0)
        .order_by(StockQuant.qty.desc(), Barcode.code)
    ).all()
    db.session.rollback()
    (task_id,) = open_counts("WH1", [bin_code], actor=FLOOR_MANAGER)["tasks"]
    picker = find_user(FLOOR_PICKER)
    apply_scan(task_id, "demo-count-bin", bin_code, None, picker, "demo")
    seen: set[str] = set()
    for n, (barcode, qty, lot, track_lots) in enumerate(pallets):
        if barcode in seen:
            continue
        seen.add(barcode)
        # a lot-tracked pallet is scanned by its GS1 label: GTIN (AI 01, 14 digits) and lot (AI 10)
        code = f"01{barcode.zfill(14)}10{lot}" if track_lots and lot else barcode
        counted = qty - COUNTED_SHORT_BY if n == 0 else qty
        apply_scan(task_id, f"demo-count-{n}", code, counted, picker, "demo")
    status = complete_task(task_id, picker)["status"]
    return (
        f"count task {task_id} of {bin_code}: {len(seen)} pallet(s) counted, the first {COUNTED_SHORT_BY} short"
        f" ({status})"
    )


def _seed_channels() -> tuple[dict[str, int], str]:
    """Channel ids by code, and a new token of the channel shown at the end (existing channels are kept)."""
    from sqlalchemy import select

    ids, shown = {}, ""
    for spec in CHANNELS:
        channel = db.session.execute(select(Channel).where(Channel.code == spec["code"])).scalar_one_or_none()
        db.session.rollback()
        token = ""
        if channel is None:
            channel, token = create_channel(spec["code"], spec["name"], spec["ship_from"], spec["buffer"])
        elif spec["code"] == SHOWN_CHANNEL:
            token = create_token("channel", f"{spec['code']} demo token", channel_code=spec["code"])
        ids[spec["code"]] = channel.id
        if spec["code"] == SHOWN_CHANNEL:
            shown = token
    return ids, shown


def _seed_users() -> list[tuple[str, str, str | None, str, bool]]:
    users = []
    for username, role, location, password in USERS:
        exists = find_user(username) is not None
        db.session.rollback()
        if not exists:
            create_user(username, role, location, password, actor="demo", language=FLOOR_LANGUAGE.get(role))
        users.append((username, role, location, password, not exists))
    return users


#: the warehouse's label printer in the demo: ZPL appended to a file, so the demo prints with nothing attached
DEMO_ZEBRA = "WH1-zebra"


def demo_printers(root: str) -> list[tuple[str, str, str]]:
    """(name, URL, location) of the demo's printers: a PDF "hot folder" per location and, at the warehouse, a
    ZPL printer that appends to a file, all under ``root``: the folder printer URLs may point into
    (``PRINTER_DIR_ROOT``, by default ``<instance>/printouts``)."""
    import os

    root = os.path.abspath(root)
    printers = [(f"{code}-pdf", f"pdf+dir://{os.path.join(root, code)}", code) for code in LOCATIONS]
    printers.append((DEMO_ZEBRA, f"zpl+file://{os.path.join(root, DEMO_ZEBRA + '.zpl')}", "WH1"))
    return printers


#: the Kraków counter PC of the demo: its agent (`wms station`) prints on a printer only it reaches, here the fake
#: ZPL printer of ``python -m devices.simulators.fake_printer`` on its default port
DEMO_STATION = "KRK-COUNTER-1"
DEMO_STATION_PRINTER = ("KRK-counter-zebra", "zpl+tcp://127.0.0.1:9100", "ST-KRK")


def _seed_printers() -> str:
    """Register the demo printers (those that exist already are kept) and make their folders."""
    import os

    root = printer_url_policy().dir_root
    created = 0
    for name, url, location in demo_printers(root):
        # The PDF printers write into their folder, the ZPL one appends to a file there: both must exist to print.
        os.makedirs(os.path.join(root, location) if url.startswith("pdf+dir:") else root, exist_ok=True)
        try:
            get_printer(name)
        except NotFound:
            add_printer(name, url, location)
            created += 1
        finally:
            db.session.rollback()
    name, url, location = DEMO_STATION_PRINTER
    try:
        get_printer(name)
    except NotFound:
        add_printer(name, url, location, station_code=DEMO_STATION)
    finally:
        db.session.rollback()
    return (
        f"{len(LOCATIONS) + 1} printers ({created} new): labels go to files in {root} (`wms worker` prints them);"
        f" station {DEMO_STATION} with {name} on {url}"
    )


def _seed_orders(
    products: list[DemoProduct], units: dict[tuple[str, str], int], channel_ids: dict[str, int]
) -> list[tuple[str, str, str]]:
    orders = []
    for plan in order_plan(products, units):
        # The same normalisation as the API, so that the channel could replay these orders over HTTP.
        payload = OrderIn.model_validate(plan.payload).model_dump(mode="json")
        order, _created = place_order(channel_ids[plan.channel], payload, actor=f"channel:{plan.channel}")
        if plan.cancel:
            order = cancel_order_and_work(order.id, actor="customer service")
        orders.append((order.external_id, order.status, plan.story))
    db.session.rollback()
    return orders


def _current_statuses(orders: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The seeded orders with the statuses the store flows and the wave left them in."""
    statuses = dict(db.session.execute(select(Order.external_id, Order.status)).all())
    db.session.rollback()
    return [(external_id, statuses.get(external_id, status), story) for external_id, status, story in orders]


def _counts() -> dict[str, int]:
    from sqlalchemy import func, select

    session = db.session
    kinds = dict(session.execute(select(Location.kind, func.count()).group_by(Location.kind)).all())
    counts = {
        "warehouses": kinds.get("warehouse", 0),
        "stores": kinds.get("store", 0),
        "bins": session.execute(select(func.count()).select_from(Bin)).scalar_one(),
        "products": session.execute(select(func.count()).select_from(Product)).scalar_one(),
        "units": session.execute(select(func.coalesce(func.sum(StockQuant.qty), 0))).scalar_one(),
        # a transfer's order is not a customer's
        "orders": session.execute(
            select(func.count(Order.id)).where(
                Order.channel_id.not_in(select(Channel.id).where(Channel.code == TRANSFERS_CHANNEL))
            )
        ).scalar_one(),
    }
    session.rollback()
    return counts


# --- the command -------------------------------------------------------------------------------------------


def _print_summary(result: DemoResult, database: str) -> None:
    c = result.counts
    echo = click.echo
    echo("")
    echo(f"Demo ready in {result.seconds:.1f} s  (database {database})")
    echo(
        f"  {c['warehouses']} warehouse, {c['stores']} stores, {c['bins']} bins, {c['products']} products, "
        f"{c['units']:,} units in stock, {c['orders']} orders"
    )
    for external_id, status, story in result.orders:
        echo(f"    {external_id:<16} {status:<10} {story}")
    echo(f"  Returns and transfers: {result.url}/returns (as manager); the stores' clerks receive transfers, stage")
    echo("  pickups and take returns on their handhelds (/hh).")
    echo("")
    echo("On the floor:")
    for line in result.floor:
        echo(f"  {line}")
    picker = next(user for user in result.users if user[0] == FLOOR_PICKER)
    echo(f"  Handheld (a phone or a 360x640 window): {result.url}/hh  as {picker[0]} / {picker[3]}")
    echo(f"  Waves to release: {result.url}/waves; counts to approve: {result.url}/counts  (as manager)")
    echo("")
    echo("Start the server, then open the URL:")
    echo("  wms serve")
    echo(f"  {result.url}")
    echo("")
    echo("Sign in as (username / password):")
    for username, role, location, password, _created in result.users:
        where = f"{role} at {location}" if location else role
        echo(f"  {username:<11} {password:<13} {where}")
    if not all(created for *_rest, created in result.users):
        echo("  (users that existed before this run kept their passwords: these are the ones the demo gave them)")
    echo("")
    echo("API tokens (new on every run; earlier ones keep working):")
    echo(f"  {SHOWN_CHANNEL} channel:  {result.channel_token}")
    echo(f"  integration:  {result.integration_token}")
    echo(f"  station {DEMO_STATION}:  {result.station_token}")
    echo("")
    echo(f"The Kraków counter station ({result.url}/stations/{DEMO_STATION}), with simulated devices:")
    echo("  python3 -m devices.simulators.fake_printer --port 9100            # its label printer")
    echo("  python3 -m devices.simulators.virtual_scanner --link /tmp/ttyScanner   # type codes to scan them")
    station_printer, station_printer_url, _location = DEMO_STATION_PRINTER
    echo(
        f"  wms station --server {result.url} --token {result.station_token} --station {DEMO_STATION}"
        f" --scanner /tmp/ttyScanner --printer {station_printer}={station_printer_url}"
    )
    echo("")
    skus = "&".join(f"sku={s}" for s in result.sample_skus)
    channel = f"-H 'Authorization: Bearer {result.channel_token}'"
    echo("Try (with `wms serve` running):")
    echo("  # what the web shop may sell, and where it can be collected")
    echo(f"  curl -s '{result.url}/api/v1/availability?{skus}' {channel}")
    echo("  # a click & collect order; send it again: 200 and the same order, nothing reserved twice")
    order = (
        '{"external_id": "WEB-TRY-1", "fulfilment": "pickup", "pickup_location": "ST-KRK", '
        '"customer": {"name": "Zofia Mazur", "email": "zofia@example.com"}, '
        f'"lines": [{{"sku": "{result.sample_skus[0]}", "qty": 1}}]}}'
    )
    echo(f"  curl -s -X POST {result.url}/api/v1/orders {channel} -H 'Content-Type: application/json' -d '{order}'")
    echo("  # the Kraków store's stock by bin, as the ERP sees it")
    echo(f"  curl -s '{result.url}/api/v1/stock?location=ST-KRK' -H 'Authorization: Bearer {result.integration_token}'")


@click.command("demo")
@click.option("--reset", is_flag=True, help="Drop every WMS table first and seed from nothing.")
@click.option("--yes", "-y", is_flag=True, help="With --reset: do not ask before dropping the tables.")
@with_appcontext
def demo_command(reset: bool, yes: bool) -> None:
    """Migrate, then seed a realistic demo (1 warehouse, 3 stores, ~200 products, stock, channels, users, open
    orders) and print the logins and tokens. Safe to run twice."""
    database = db.engine.url.render_as_string(hide_password=True)
    if reset:
        if not yes:
            click.confirm(f"Drop every WMS table in {database} and seed the demo again?", abort=True)
        reset_database()
        click.echo("dropped every WMS table")
    result = seed(echo=lambda message: click.echo(f"  {message}"))
    _print_summary(result, database)


COMMANDS = [demo_command]
