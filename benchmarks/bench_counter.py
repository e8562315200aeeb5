"""Benchmark: the pickup counter with 10,000 pickup orders waiting on a store's shelves (issue 9).

Figure 1: the server time of ``GET /api/v1/pickups?code=<pickup code>`` (a clerk's staff token, in-process
``app.test_client()``, no network), p50 and p99, over lookups of random waiting orders.
Figure 2: the server time of ``POST /api/v1/orders/{id}/handover`` (everything collected), p50 and p99.
Ceiling, same run, same database, right after each WMS call: ``GET /bare/level/<id>`` of
``benchmarks/bare_app.py`` in-process (one primary-key read of a row: a bare indexed read). No target is set by
the issue: the figures are ratios to that ceiling. Checked after the run: every call answered 200, every handed
over order is ``collected``, ``check_stock()`` is clean.

The store, its shelves and the 10,000 orders are seeded in bulk: the units come in through the real receive path
onto the pickup shelves (so the ledger agrees), the orders and their lines are inserted as staging leaves them
(``ready_for_pickup``, on a shelf, every unit picked), which staging 10,000 orders by scans would take too long
to do.

    python benchmarks/run.py --only counter [--quick] [--db sqlite|postgres]
"""

from __future__ import annotations

import random
import secrets
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from benchmarks import seed
from benchmarks.common import Row, Settings, database, log, percentile, wms_app

NAME = "counter"
DATABASES = ("sqlite", "postgres")
STORE = "ST1"
SHELVES = 20
ORDERS = 10_000
#: (lookups, handovers) measured
FULL = (3000, 1000)
QUICK = (1000, 300)
_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"


def _seed(url: str) -> dict[str, Any]:
    from wms.auth.service import create_user
    from wms.catalog.models import Product
    from wms.channels.service import create_channel, create_token
    from wms.extensions import db
    from wms.locations.models import Bin, Location
    from wms.locations.service import upsert_location
    from wms.orders.models import Order, OrderLine
    from wms.stock.bins import upsert_bin
    from wms.stock.service import receive
    from wms.timeutil import utcnow

    app = wms_app(url)
    with app.app_context():
        upsert_location(STORE, {"name": STORE, "kind": "store", "ships": False, "pickup": True, "priority": 50})
        upsert_bin(STORE, "S-01", {"kind": "pick", "sequence": 1})
        upsert_bin(STORE, "RET", {"kind": "returns", "sequence": 99})
        for n in range(1, SHELVES + 1):
            upsert_bin(STORE, f"PU-{n:02d}", {"kind": "pickup", "sequence": 50 + n})
        seed.make_products(["CC-A"], first_gtin=90_000)
        per_shelf = ORDERS // SHELVES
        for n in range(1, SHELVES + 1):
            receive(STORE, f"PU-{n:02d}", f"SEED-PU-{n}", [{"sku": "CC-A", "qty": per_shelf}], actor="bench")
        channel, _ = create_channel("BENCH")
        create_user("clerk", "clerk", STORE, "bench-password-1")
        token = create_token("staff", username="clerk")
        store_id = db.session.execute(select(Location.id).where(Location.code == STORE)).scalar_one()
        shelves = dict(
            db.session.execute(select(Bin.code, Bin.id).where(Bin.location_id == store_id, Bin.kind == "pickup")).all()
        )
        product_id = db.session.execute(select(Product.id).where(Product.sku == "CC-A")).scalar_one()
        now = utcnow()
        codes: set[str] = set()
        while len(codes) < ORDERS:
            codes.add("".join(secrets.choice(_ALPHABET) for _ in range(8)))
        code_list = sorted(codes)
        log(f"counter: inserting {ORDERS:,} ready pickup orders on {SHELVES} shelves")
        rows = [
            {
                "channel_id": channel.id,
                "external_id": f"CC-{i:06d}",
                "fulfilment": "pickup",
                "status": "ready_for_pickup",
                "customer": {"name": f"Klient {i}", "email": "k@example.com"},
                "pickup_location_id": store_id,
                "pickup_code": code_list[i],
                "shelf_bin_id": shelves[f"PU-{i % SHELVES + 1:02d}"],
                "hold_until": now + timedelta(days=7),
                "request_hash": f"{i:064d}",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(ORDERS)
        ]
        with db.engine.begin() as conn:
            for start in range(0, ORDERS, 1000):
                conn.execute(insert(Order.__table__), rows[start : start + 1000])
            ids = conn.execute(select(Order.id, Order.pickup_code).order_by(Order.id)).all()
            lines = [{"order_id": oid, "line_no": 1, "product_id": product_id, "qty": 1, "picked": 1} for oid, _ in ids]
            for start in range(0, ORDERS, 1000):
                conn.execute(insert(OrderLine.__table__), lines[start : start + 1000])
        db.session.remove()
        seed.settle(db.engine)
        db.engine.dispose()
    return {"app": app, "token": token, "orders": [(oid, code) for oid, code in ids]}


def _measure(client, bare, info: dict[str, Any], lookups: int, handovers: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {info['token']}"}
    rng = random.Random(7)
    orders = list(info["orders"])
    for _ in range(200):  # warm both apps
        oid, code = rng.choice(orders)
        client.get(f"/api/v1/pickups?code={code}", headers=headers)
        bare.get("/bare/level/1")
    found, found_bare, handed, handed_bare = [], [], [], []
    bad: list[str] = []
    clock = time.perf_counter
    for _ in range(lookups):
        oid, code = rng.choice(orders)
        t0 = clock()
        r = client.get(f"/api/v1/pickups?code={code}", headers=headers)
        t1 = clock()
        bare.get("/bare/level/1")
        t2 = clock()
        found.append(t1 - t0)
        found_bare.append(t2 - t1)
        if r.status_code != 200 or r.get_json()["id"] != oid:
            bad.append(f"lookup {code}: {r.status_code}")
    chosen = rng.sample(orders, handovers)
    for n, (oid, _code) in enumerate(chosen):
        body = {"id": f"h-{n}", "lines": [{"sku": "CC-A", "collected": 1}]}
        t0 = clock()
        r = client.post(f"/api/v1/orders/{oid}/handover", json=body, headers=headers)
        t1 = clock()
        bare.get("/bare/level/1")
        t2 = clock()
        handed.append(t1 - t0)
        handed_bare.append(t2 - t1)
        if r.status_code != 200 or r.get_json()["status"] != "collected":
            bad.append(f"handover {oid}: {r.status_code} {r.get_data(as_text=True)[:200]}")
    return {
        "lookup": (percentile(found, 0.5), percentile(found, 0.99)),
        "lookup_bare": (percentile(found_bare, 0.5), percentile(found_bare, 0.99)),
        "handover": (percentile(handed, 0.5), percentile(handed, 0.99)),
        "handover_bare": (percentile(handed_bare, 0.5), percentile(handed_bare, 0.99)),
        "handed": [oid for oid, _ in chosen],
        "bad": bad,
        "counts": (lookups, handovers),
    }


def _after_checks(app, handed: list[int]) -> list[str]:
    from wms.extensions import db
    from wms.orders.models import Order
    from wms.stock.service import check_stock

    problems = []
    with app.app_context():
        drift = check_stock()
        if drift:
            problems.append(f"check_stock: {len(drift)} line(s), e.g. {drift[:2]}")
        collected = db.session.execute(
            select(func.count()).where(Order.id.in_(handed), Order.status == "collected")
        ).scalar_one()
        if collected != len(handed):
            problems.append(f"only {collected} of {len(handed)} handed over orders are collected")
        db.session.remove()
    return problems


def run(kind: str, settings: Settings) -> list[Row]:
    from benchmarks import bare_app

    lookups, handovers = QUICK if settings.quick else FULL
    with database(kind, "counter") as dbase:
        log(f"counter/{kind}: seeding a store with {ORDERS:,} pickup orders on its shelves")
        info = _seed(dbase.url)
        app = info["app"]
        bare = bare_app.create_app(dbase.url)
        client, bare_client = app.test_client(), bare.test_client()
        try:
            log(f"counter/{kind}: {lookups:,} lookups by pickup code, then {handovers:,} handovers")
            timed = _measure(client, bare_client, info, lookups, handovers)
            problems = _after_checks(app, timed["handed"]) + timed["bad"][:5]
        finally:
            from wms.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            with bare.app_context():
                bare_app.db.session.remove()
                bare_app.db.engine.dispose()
    rows = []
    for key, label in (("lookup", "lookup by pickup code"), ("handover", "handover (all collected)")):
        (p50, p99), (b50, b99) = timed[key], timed[f"{key}_bare"]
        n = timed["counts"][0 if key == "lookup" else 1]
        rows.append(
            Row(
                f"counter: {label} p99, {ORDERS:,} pickup orders waiting",
                kind,
                f"{p99 * 1000:.2f} ms",
                f"{b99 * 1000:.2f} ms (indexed read)",
                f"{p99 / b99:.2f}x",
                passed=None if not problems else False,
                notes=[
                    f"{n:,} calls of the in-process WSGI app; p50 {p50 * 1000:.2f} ms (ceiling {b50 * 1000:.2f} ms: "
                    f"{p50 / b50:.2f}x)",
                    *problems,
                ],
                data={"p50": p50, "p99": p99, "bare_p50": b50, "bare_p99": b99},
            )
        )
    return rows
