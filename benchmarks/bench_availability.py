"""Benchmark 1: single-sku availability read, against a bare one-row ORM read on the same server settings.

``GET /api/v1/availability?sku=X`` with a channel token, X random among the seeded skus (each stocked at four
locations), against ``GET /bare/level/<id>`` (``db.session.get`` of a random ``stock_level`` row) of
``benchmarks/bare_app.py``. Both: gunicorn gthread 2 workers x 4 threads, 16 keep-alive connections from wrk, the
same database. Rounds alternate bare and WMS servers; the figures are medians over rounds.

Targets: WMS req/s >= 60% of the bare req/s; WMS p99 <= 2x the bare p99.
"""

from __future__ import annotations

from sqlalchemy import func, select

from benchmarks import seed
from benchmarks.common import (
    BARE_APP,
    WMS_APP,
    Row,
    Server,
    Settings,
    WrkResult,
    cpu_summary,
    database,
    fmt_ms,
    fmt_rate,
    http_json,
    log,
    median,
    run_wrk,
    wms_app,
)

NAME = "availability"
DATABASES = ("postgres", "sqlite")
CONNECTIONS = 16
RATE_TARGET = 0.60
P99_TARGET = 2.0
SHIP_FROM = ["WH1", "WH2", "ST2"]


def _sku(i: int) -> str:
    return f"AV-{i:05d}"


def _qty(i: int, location_index: int) -> int:
    return (i * 7 + location_index * 5) % 40 + 1


def _seed(url: str, skus: int) -> dict:
    from wms.extensions import db
    from wms.stock.models import StockLevel

    app = wms_app(url)
    with app.app_context():
        seed.make_locations()
        seed.make_products([_sku(i) for i in range(1, skus + 1)])
        for index, location in enumerate(seed.SMALL_WORLD):
            seed.stock(location, [(_sku(i), _qty(i, index)) for i in range(1, skus + 1)], f"SEED-{location}")
        token = seed.channel("BENCH", SHIP_FROM)
        lo, hi = db.session.execute(select(func.min(StockLevel.id), func.max(StockLevel.id))).one()
        db.session.remove()
        db.engine.dispose()
    locations = list(seed.SMALL_WORLD)
    expected = sum(_qty(1, locations.index(code)) for code in SHIP_FROM)
    return {"token": token, "lo": lo, "hi": hi, "expected_available_1": expected}


def _check_wms(port: int, token: str, expected: int) -> None:
    status, body = http_json(port, f"/api/v1/availability?sku={_sku(1)}", token)
    if status != 200:
        raise RuntimeError(f"availability answered {status}: {body}")
    item = body["items"][0]
    if item["available"] != expected or len(item["locations"]) != len(seed.SMALL_WORLD):
        raise RuntimeError(f"availability of {_sku(1)} is {item}, expected available {expected} at 4 locations")


def _check_bare(port: int, level_id: int) -> None:
    status, body = http_json(port, f"/bare/level/{level_id}")
    if status != 200:
        raise RuntimeError(f"bare read answered {status}: {body}")


def run(kind: str, settings: Settings) -> list[Row]:
    skus = 200 if settings.quick else 1000
    rounds = settings.rounds
    bare: list[WrkResult] = []
    real: list[WrkResult] = []
    ping: WrkResult | None = None
    problems: list[str] = []
    with database(kind, "avail") as db:
        log(f"availability/{kind}: seeding {skus} skus x 4 locations through the services")
        info = _seed(db.url, skus)
        for round_no in range(1, rounds + 1):
            with Server(BARE_APP, db.url) as server:
                _check_bare(server.port, info["lo"])
                args = ["/bare/level/%d", str(info["lo"]), str(info["hi"]), info["token"]]
                run_wrk(server, "random_get", args, settings.warmup, CONNECTIONS)
                bare.append(run_wrk(server, "random_get", args, settings.duration, CONNECTIONS))
                log(f"round {round_no} bare ORM get: {bare[-1].describe()}")
                if ping is None:
                    ping = run_wrk(server, "random_get", ["/bare/ping?%d", "1", "1", ""], 5, CONNECTIONS)
                    log(f"bare JSON without a database: {ping.describe()}")
            with Server(WMS_APP, db.url) as server:
                _check_wms(server.port, info["token"], info["expected_available_1"])
                args = ["/api/v1/availability?sku=AV-%05d", "1", str(skus), info["token"]]
                run_wrk(server, "random_get", args, settings.warmup, CONNECTIONS)
                real.append(run_wrk(server, "random_get", args, settings.duration, CONNECTIONS))
                log(f"round {round_no} WMS availability: {real[-1].describe()}")
                problems += server.errors_in_log()
    for label, results in (("bare", bare), ("WMS", real)):
        bad = sum(r.count(lambda s: s != 200) + sum(r.errors.values()) for r in results)
        if bad:
            problems.append(f"{label}: {bad} non-200 answers or socket errors")
    bare_rps, real_rps = median([r.rps for r in bare]), median([r.rps for r in real])
    bare_p99, real_p99 = median([r.p99 for r in bare]), median([r.p99 for r in real])
    notes = [
        f"{rounds} round(s) of {settings.duration} s, {CONNECTIONS} connections, median over rounds; "
        f"bare JSON without a database: {ping.rps:,.0f} req/s (p99 {ping.p99 * 1000:.1f} ms)"
        if ping
        else "",
        f"CPU per request: WMS {cpu_summary(real)}, bare {cpu_summary(bare)}",
        *problems,
    ]
    rate = Row(
        "availability 1 sku: req/s",
        kind,
        fmt_rate(real_rps, "req/s"),
        fmt_rate(bare_rps, "req/s") + " (ORM get)",
        f"{real_rps / bare_rps:.2f}x",
        f">= {RATE_TARGET:.2f}x",
        real_rps / bare_rps >= RATE_TARGET and not problems,
        [n for n in notes if n],
        {"wms_rps": real_rps, "bare_rps": bare_rps},
    )
    p99 = Row(
        "availability 1 sku: p99",
        kind,
        fmt_ms(real_p99),
        fmt_ms(bare_p99) + " (ORM get)",
        f"{real_p99 / bare_p99:.2f}x",
        f"<= {P99_TARGET:.2f}x",
        real_p99 / bare_p99 <= P99_TARGET,
        data={"wms_p99": real_p99, "bare_p99": bare_p99},
    )
    return [rate, p99]
