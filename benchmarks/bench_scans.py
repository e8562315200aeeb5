"""Benchmark: server time per pick scan with 200 pick tasks in flight, and scans and taps per order line (issue 8).

Figure 1: the time of the WSGI call of ``POST /api/v1/tasks/{id}/scans`` (in-process, ``app.test_client()``, a
staff bearer token, no network), p50 and p99, over every scan of 200 claimed pick tasks worked round-robin by 200
pickers (one task each): every scan is the real next step of its task (tote, bin, item, or a typed quantity where
``next.expect`` is ``qty``), thousands of them (full: 3 orders of 4 lines a task, 6,000 scans; quick: 1 order,
2,000). Every task has the same shape, so all 200 stay in flight until the last round.
Ceiling, same run, same database, same way (right after each WMS scan, so the machine's other load falls on both):
``POST /bare/scan/<row>`` of ``benchmarks/bare_app.py`` in-process (``create_app(url)``: the WMS's own engine
options), which parses the JSON body and runs one transaction of one read by a unique indexed column and one
UPDATE of that row. It lives in the bare app, beside the other ceilings, rather than in a Flask app built here, so
that the engine options come from the one place the gunicorn ceilings take them from.
Target: p99 under 10 ms. Checked after the run: every scan answered 200, every task is done, ``check_stock()``
is clean.

Figure 2: a picker who follows only ``next`` (scans what ``expect`` asks, types the number where it asks ``qty``)
works a mixed set of pick tasks: single orders of one-unit lines, multi-unit lines, clusters of 2, 4 and 8 orders
(two of them wanting the same item). Counted per order line: scans (bin, item) and taps (a typed quantity); per
order: tote scans. Target: 2 scans and 0 taps for a one-unit line, one tote scan per order. No claim tap is
counted: the first scan takes an open task. Its SQL statements per scan are counted too (an SQLAlchemy
``before_cursor_execute`` listener, on this pass only), by kind of scan, for the breakdown in the notes.

Pick tasks are made by ``wms.picking.service.release_wave``, one wave per measured task (the orders named, every
bin in one zone), as a manager releases them; its time is not measured here.

    python benchmarks/run.py --only scans [--quick] [--db sqlite|postgres]
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from functools import partial
from typing import Any
from unittest import mock

from sqlalchemy import event, func, select

from benchmarks import seed
from benchmarks.common import Row, Settings, database, log, percentile, wms_app
from wms.server import freeze_heap

NAME = "scans"
DATABASES = ("sqlite", "postgres")
LOCATION = "WH1"
TASKS = 200
TARGET_P99_S = 0.010
#: every measured task: this many orders (totes), each with lines of these quantities
FULL_SHAPE = (3, (1, 1, 3, 1))
QUICK_SHAPE = (1, (1, 1, 3, 1))
STOCK_PER_BIN = 40
#: figure 2's tasks: each a list of orders, each a list of (product offset, qty); offsets name products of their own
MIX: list[list[list[tuple[int, int]]]] = [
    [[(0, 1)]],
    [[(1, 1), (2, 1), (3, 1)]],
    [[(4, 2)]],
    [[(5, 1), (6, 4), (7, 1)]],
    [[(8, 1)], [(9, 1), (10, 1)]],
    [[(11, 1)], [(12, 1), (13, 1)], [(14, 3)], [(15, 1), (16, 2), (17, 1)]],
    [[(18 + 2 * i, 1), (19 + 2 * i, 1)] for i in range(8)],
    [[(34, 5), (35, 1)], [(35, 1), (36, 3)]],  # two orders want the same item from the same bin
]
MIX_PRODUCTS = 37


def _sku(i: int) -> str:
    return f"SC-{i:05d}"


def _bin(i: int) -> str:
    return f"P-{i:05d}"


@contextmanager
def _cheap_passwords():
    """The pickers never sign in by password: hash theirs cheaply (the real work factor is ~0.3 s a user)."""
    from werkzeug.security import generate_password_hash

    from wms.auth import models as auth_models

    cheap = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    with mock.patch.object(auth_models, "generate_password_hash", cheap):
        yield


# --- seeding -------------------------------------------------------------------------------------------------


def _order_body(external_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "fulfilment": "ship",
        "customer": {"name": "Anna Nowak", "email": "anna@example.com", "phone": "+48600100200"},
        "ship_to": {"line1": "ul. Długa 1", "city": "Kraków", "postcode": "31-001", "country": "PL"},
        "lines": [{"sku": sku, "qty": qty} for sku, qty in lines],
    }


def _pick_task(order_ids: list[int], location_id: int) -> int:
    """The orders released as one wave (``wms.picking.service.release_wave``, the real path): one pick task, its
    lines in walk order, the orders picking. Every bin is in one zone (``P``), so one task takes them all."""
    from wms.picking.service import release_wave

    wave = release_wave(LOCATION, order_ids, max_orders=len(order_ids), actor="bench")
    (task_id,) = wave["tasks"]
    return task_id


def _seed(url: str, shape: tuple[int, tuple[int, ...]]) -> dict[str, Any]:
    """WH1 with one pick bin per product and a staging bin; a channel; 200 pickers with staff tokens and a
    simulated picker; the measured tasks (``shape``) and figure 2's mixed tasks. Statistics are gathered at the
    end (:func:`benchmarks.seed.settle`), as autovacuum would before a shift starts picking."""
    from wms.auth.service import create_user
    from wms.channels.service import create_channel, create_token
    from wms.extensions import db
    from wms.locations.models import Location
    from wms.locations.service import upsert_location
    from wms.orders.service import place_order
    from wms.stock.bins import upsert_bin
    from wms.stock.service import receive

    orders_per_task, quantities = shape
    lines_per_task = orders_per_task * len(quantities)
    measured_products = 2 * lines_per_task * TASKS // 5  # each product in ~2.5 tasks' lines
    products = measured_products + MIX_PRODUCTS
    app = wms_app(url)
    with app.app_context():
        upsert_location(
            LOCATION, {"name": LOCATION, "kind": "warehouse", "ships": True, "pickup": False, "priority": 10}
        )
        upsert_bin(LOCATION, "STAGE", {"kind": "staging", "sequence": 999_999})
        for i in range(products):
            upsert_bin(LOCATION, _bin(i), {"kind": "pick", "sequence": i + 1})
        seed.make_products([_sku(i) for i in range(products)], first_gtin=80_000)
        for i in range(products):  # the real receive path (ledger, quants, levels), into each product's bin
            receive(LOCATION, _bin(i), f"SEED-{i}", [{"sku": _sku(i), "qty": STOCK_PER_BIN}], actor="bench")
        channel, _ = create_channel("BENCH", ship_from=[LOCATION])
        location_id = db.session.execute(select(Location.id).where(Location.code == LOCATION)).scalar_one()
        with _cheap_passwords():
            users = [f"picker{i:03d}" for i in range(TASKS)] + ["sim"]
            for username in users:
                create_user(username, "picker", LOCATION, "bench-password")
        tokens = {username: create_token("staff", username=username) for username in users}

        log(f"scans: placing {TASKS * orders_per_task} orders for {TASKS} tasks of {lines_per_task} lines")
        measured: list[int] = []
        for t in range(TASKS):
            order_ids = []
            for o in range(orders_per_task):
                lines = []
                for j, qty in enumerate(quantities):
                    # interleaved over the orders of a task, so that a cluster's lines alternate orders on the walk
                    product = (t * lines_per_task + j * orders_per_task + o) % measured_products
                    lines.append((_sku(product), qty))
                placed, _ = place_order(channel.id, _order_body(f"M-{t:03d}-{o}", lines))
                order_ids.append(placed.id)
            measured.append(_pick_task(order_ids, location_id))

        mixed: list[int] = []
        for t, orders in enumerate(MIX):
            order_ids = []
            for o, lines in enumerate(orders):
                body = _order_body(f"X-{t:02d}-{o}", [(_sku(measured_products + p), q) for p, q in lines])
                order_ids.append(place_order(channel.id, body)[0].id)
            mixed.append(_pick_task(order_ids, location_id))
        gtins = {_sku(i): seed.gtin13(80_000 + i) for i in range(products)}
        db.session.remove()
        seed.settle(db.engine)
        db.engine.dispose()
    return {"app": app, "tokens": tokens, "measured": measured, "mixed": mixed, "gtins": gtins}


# --- working a task by its ``next`` --------------------------------------------------------------------------


def _scan_body(step: dict[str, Any], scan_id: str, gtins: dict[str, str]) -> dict[str, Any]:
    """What a picker who follows ``next`` sends: the code ``expect`` asks for, or the typed quantity."""
    from devices.scan import encode_bin, encode_tote

    expect = step["expect"]
    if expect == "tote":
        return {"id": scan_id, "code": encode_tote(f"T{step['order']:07d}")}
    if expect == "bin":
        return {"id": scan_id, "code": encode_bin(LOCATION, step["bin"])}
    if expect == "product":
        return {"id": scan_id, "code": gtins[step["sku"]]}
    if expect == "qty":
        return {"id": scan_id, "qty": step["qty"]}
    raise RuntimeError(f"unexpected next step {step}")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _scans_and_taps(client, app, info: dict[str, Any]) -> dict[str, Any]:
    """Figure 2: work the mixed tasks as the simulated picker, counting scans, taps and SQL statements."""
    from wms.extensions import db

    headers = _auth(info["tokens"]["sim"])
    line_scans: Counter = Counter()
    line_taps: Counter = Counter()
    tote_scans: Counter = Counter()
    line_qty: dict[tuple[int, str], int] = {}
    statements: list[str] = []
    commits = [0]
    by_kind: dict[str, list[int]] = defaultdict(list)
    example: dict[str, list[str]] = {}
    bad: list[str] = []

    def on_statement(_conn, _cursor, sql, _params, _context, _many):
        statements.append(" ".join(sql.split()))

    def on_commit(_conn):
        commits[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        for task_id in info["mixed"]:
            view = client.get(f"/api/v1/tasks/{task_id}", headers=headers).get_json()
            for line in view["lines"]:
                line_qty[(line["order"], line["sku"])] = line_qty.get((line["order"], line["sku"]), 0) + line["qty"]
            step = view["next"]
            n = 0
            while step["expect"] != "nothing":
                n += 1
                if n > 200:
                    raise RuntimeError(f"task {task_id} does not end: {step}")
                expect = step["expect"]
                key = (step["order"], step["sku"])
                if expect == "tote":
                    tote_scans[step["order"]] += 1
                elif expect == "qty":
                    line_taps[key] += 1
                else:
                    line_scans[key] += 1
                statements.clear()
                commits[0] = 0
                r = client.post(
                    f"/api/v1/tasks/{task_id}/scans",
                    json=_scan_body(step, f"x{task_id}-{n}", info["gtins"]),
                    headers=headers,
                )
                if r.status_code != 200:
                    bad.append(f"{r.status_code} {r.get_data(as_text=True)[:200]}")
                    break
                by_kind[expect].append(len(statements) + commits[0])
                example.setdefault(expect, [s[:110] for s in statements] + ["COMMIT"] * commits[0])
                step = r.get_json()["task"]["next"]
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)

    one = [key for key, qty in line_qty.items() if qty == 1]
    many = [key for key, qty in line_qty.items() if qty > 1]
    orders = {order for order, _ in line_qty}
    return {
        "lines_qty1": len(one),
        "lines_multi": len(many),
        "orders": len(orders),
        "tasks": len(info["mixed"]),
        "scans_per_qty1_line": statistics.mean(line_scans[k] for k in one),
        "max_scans_qty1_line": max(line_scans[k] for k in one),
        "taps_per_qty1_line": statistics.mean(line_taps[k] for k in one),
        "scans_per_multi_line": statistics.mean(line_scans[k] for k in many),
        "taps_per_multi_line": statistics.mean(line_taps[k] for k in many),
        "units_per_multi_line": statistics.mean(line_qty[k] for k in many),
        "tote_scans_per_order": statistics.mean(tote_scans[o] for o in orders),
        "max_tote_scans_order": max(tote_scans[o] for o in orders),
        "statements": {k: (statistics.median(v), max(v)) for k, v in by_kind.items()},
        "example_statements": example,
        "bad": bad,
    }


def _server_time(client, bare, info: dict[str, Any]) -> dict[str, Any]:
    """Figure 1: claim the 200 tasks, then scan round-robin, each WMS scan followed by one bare scan."""
    pickers = [info["tokens"][f"picker{i:03d}"] for i in range(TASKS)]
    steps: dict[int, dict[str, Any]] = {}
    headers: dict[int, dict[str, str]] = {}
    for i, task_id in enumerate(info["measured"]):
        headers[task_id] = _auth(pickers[i])
        r = client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers[task_id])
        if r.status_code != 200:
            raise RuntimeError(f"claim of task {task_id} answered {r.status_code}: {r.get_data(as_text=True)[:300]}")
        steps[task_id] = r.get_json()["next"]
    row_of = {task_id: i for i, task_id in enumerate(info["measured"], start=1)}
    for n in range(300):  # warm the bare app (the WMS is warm from figure 2)
        bare.post(f"/bare/scan/{n % TASKS + 1}", json={"id": f"w{n}", "code": f"TASK-{n % TASKS + 1:05d}"})
    wms_times: list[float] = []
    bare_times: list[float] = []
    wms_cpu: list[float] = []
    bare_cpu: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    last_of_task: list[float] = []  # the scan that finished its task (and opened the order's pack task)
    statuses: Counter = Counter()
    bare_statuses: Counter = Counter()
    errors: list[str] = []
    rounds = 0
    clock, cpu = time.perf_counter, time.thread_time
    # WMS_BENCH_PROFILE=FILE: cProfiles of the WMS scans alone (pstats format), for finding where the time goes:
    # FILE for the scans that left their task open, FILE.last for each task's last scan. The profiler's own cost
    # makes the figures of that run useless.
    profile_to = os.environ.get("WMS_BENCH_PROFILE")
    profiles: list[tuple[bool, cProfile.Profile]] = []
    while steps:
        rounds += 1
        for task_id in list(steps):
            expect = steps[task_id]["expect"]
            body = _scan_body(steps[task_id], f"m{rounds}", info["gtins"])
            url = f"/api/v1/tasks/{task_id}/scans"
            row = row_of[task_id]
            bare_body = {"id": f"m{rounds}", "code": f"TASK-{row:05d}"}
            one = cProfile.Profile() if profile_to else None
            if one is not None:
                one.enable()
            c0, t0 = cpu(), clock()
            r = client.post(url, json=body, headers=headers[task_id])
            t1, c1 = clock(), cpu()
            if one is not None:
                one.disable()
                profiles.append((r.get_json().get("task", {}).get("next", {}).get("expect") == "nothing", one))
            rb = bare.post(f"/bare/scan/{row}", json=bare_body)
            t2, c2 = clock(), cpu()
            wms_times.append(t1 - t0)
            bare_times.append(t2 - t1)
            wms_cpu.append(c1 - c0)
            bare_cpu.append(c2 - c1)
            by_kind[expect].append(t1 - t0)
            statuses[r.status_code] += 1
            bare_statuses[rb.status_code] += 1
            if r.status_code != 200:
                errors.append(f"task {task_id}: {r.status_code} {r.get_data(as_text=True)[:200]}")
                del steps[task_id]
                continue
            step = r.get_json()["task"]["next"]
            if step["expect"] == "nothing":
                last_of_task.append(t1 - t0)
                del steps[task_id]
            else:
                steps[task_id] = step
    for last, suffix in ((False, ""), (True, ".last")):
        chosen = [one for was_last, one in profiles if was_last == last]
        if chosen:
            pstats.Stats(*chosen).dump_stats(profile_to + suffix)
    return {
        "scans": len(wms_times),
        "rounds": rounds,
        "p50": percentile(wms_times, 0.50),
        "p99": percentile(wms_times, 0.99),
        "max": max(wms_times),
        "bare_p50": percentile(bare_times, 0.50),
        "bare_p99": percentile(bare_times, 0.99),
        "cpu_p50": percentile(wms_cpu, 0.50),
        "bare_cpu_p50": percentile(bare_cpu, 0.50),
        "by_kind": {k: (len(v), percentile(v, 0.50), percentile(v, 0.99)) for k, v in by_kind.items()},
        "last": (len(last_of_task), percentile(last_of_task, 0.50), percentile(last_of_task, 0.99))
        if last_of_task
        else (0, 0.0, 0.0),
        # how much of the tail the tasks' last scans make: of the slowest 1 % of all scans, how many
        "last_in_tail": sum(t >= percentile(wms_times, 0.99) for t in last_of_task),
        "tail": sum(t >= percentile(wms_times, 0.99) for t in wms_times),
        "statuses": dict(statuses),
        "bare_statuses": dict(bare_statuses),
        "errors": errors[:5],
    }


def _after_checks(app, info: dict[str, Any]) -> list[str]:
    """Problems left behind: stock out of line with its ledger, measured tasks not done, orders without a pack
    task."""
    from wms.extensions import db
    from wms.stock.service import check_stock
    from wms.tasks.models import Task, TaskKind, TaskStatus

    problems = []
    with app.app_context():
        drift = check_stock()
        if drift:
            problems.append(f"check_stock: {len(drift)} line(s), e.g. {drift[:2]}")
        done = db.session.execute(
            select(func.count()).where(Task.id.in_(info["measured"] + info["mixed"]), Task.status == TaskStatus.DONE)
        ).scalar_one()
        if done != len(info["measured"]) + len(info["mixed"]):
            problems.append(f"only {done} of {len(info['measured']) + len(info['mixed'])} pick tasks are done")
        packs = db.session.execute(select(func.count()).where(Task.kind == TaskKind.PACK)).scalar_one()
        info["pack_tasks"] = packs
        db.session.remove()
    return problems


def run(kind: str, settings: Settings) -> list[Row]:
    from benchmarks import bare_app

    shape = QUICK_SHAPE if settings.quick else FULL_SHAPE
    with database(kind, "scans") as dbase:
        log(f"scans/{kind}: seeding {TASKS} pick tasks of {shape[0]} order(s) x {len(shape[1])} lines, and the mix")
        info = _seed(dbase.url, shape)
        app = info["app"]
        bare = bare_app.create_app(dbase.url)
        with bare.app_context():
            bare_app.create_scan_rows(bare_app.db.engine, [f"TASK-{i:05d}" for i in range(1, TASKS + 1)])
        client, bare_client = app.test_client(), bare.test_client()
        try:
            log(f"scans/{kind}: the mixed tasks, following next (also the warm-up)")
            mix = _scans_and_taps(client, app, info)
            if os.environ.get("WMS_BENCH_NO_FREEZE") != "1":
                # as `wms serve` does once a worker has built its app (wms.server.freeze_heap)
                freeze_heap()
            log(f"scans/{kind}: claiming {TASKS} tasks, then scanning round-robin")
            timed = _server_time(client, bare_client, info)
            problems = _after_checks(app, info)
        finally:
            from wms.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            with bare.app_context():
                bare_app.db.session.remove()
                bare_app.db.engine.dispose()
    non_200 = sum(n for status, n in timed["statuses"].items() if status != 200)
    if non_200:
        problems.append(f"{non_200} scan(s) did not answer 200: {timed['errors']}")
    bare_bad = sum(n for status, n in timed["bare_statuses"].items() if status != 200)
    if bare_bad:
        problems.append(f"{bare_bad} bare scan(s) did not answer 200")
    problems += [f"figure 2: {b}" for b in mix["bad"]]
    log(
        f"scans/{kind}: {timed['scans']:,} scans in {timed['rounds']} rounds: WMS p50 {timed['p50'] * 1000:.2f} ms, "
        f"p99 {timed['p99'] * 1000:.2f} ms, max {timed['max'] * 1000:.1f} ms; bare p50 "
        f"{timed['bare_p50'] * 1000:.2f} ms, p99 {timed['bare_p99'] * 1000:.2f} ms"
    )
    for expect, sqls in mix["example_statements"].items():
        log(f"scans/{kind}: statements of one '{expect}' scan ({len(sqls)}):\n      " + "\n      ".join(sqls))
    statements = ", ".join(f"{k} {m:g} (max {x})" for k, (m, x) in mix["statements"].items())
    orders, lines = shape
    kinds = sorted(timed["by_kind"].items(), key=lambda item: ["tote", "bin", "product", "qty"].index(item[0]))
    p99_row = Row(
        f"scans: server time per scan p99, {TASKS} tasks in flight",
        kind,
        f"{timed['p99'] * 1000:.2f} ms",
        f"{timed['bare_p99'] * 1000:.2f} ms (read + UPDATE)",
        f"{timed['p99'] / timed['bare_p99']:.2f}x",
        f"< {TARGET_P99_S * 1000:.0f} ms",
        timed["p99"] < TARGET_P99_S and not problems,
        [
            f"{timed['scans']:,} scans (tote, bin, item, typed qty) of {TASKS} claimed tasks by {TASKS} pickers, "
            f"round-robin, {orders} order(s) x {len(lines)} lines of {'/'.join(map(str, lines))} units a task; "
            f"time of the in-process WSGI call; max {timed['max'] * 1000:.1f} ms",
            f"after the run: check_stock clean, every task done, {info.get('pack_tasks', '?')} pack tasks opened"
            if not problems
            else "after the run: see the problems below",
            "by what next expected (scans, p50, p99): "
            + ", ".join(f"{k} {n:,} {p50 * 1000:.1f}/{p99 * 1000:.1f} ms" for k, (n, p50, p99) in kinds)
            + "; a task's last scan {:,} {:.1f}/{:.1f} ms ({} of the {} slowest 1 %)".format(
                timed["last"][0], timed["last"][1] * 1000, timed["last"][2] * 1000, timed["last_in_tail"], timed["tail"]
            ),
            f"SQL statements per scan incl. BEGIN/COMMIT (median, max): {statements}",
            f"CPU time of the calling thread per scan (median; on SQLite it includes the database's work, on "
            f"PostgreSQL not): WMS {timed['cpu_p50'] * 1000:.2f} ms, bare {timed['bare_cpu_p50'] * 1000:.2f} ms",
            *problems,
        ],
        {k: v for k, v in timed.items() if k != "errors"},
    )
    p50_row = Row(
        "scans: server time per scan p50",
        kind,
        f"{timed['p50'] * 1000:.2f} ms",
        f"{timed['bare_p50'] * 1000:.2f} ms (read + UPDATE)",
        f"{timed['p50'] / timed['bare_p50']:.2f}x",
    )
    passed = mix["max_scans_qty1_line"] == 2 and mix["taps_per_qty1_line"] == 0 and mix["max_tote_scans_order"] == 1
    taps_row = Row(
        "scans: scans + taps per 1-unit line; tote scans per order",
        kind,
        f"{mix['scans_per_qty1_line']:.2f} scans, {mix['taps_per_qty1_line']:.2f} taps; "
        f"{mix['tote_scans_per_order']:.2f} tote/order",
        target="2 scans, 0 taps; 1 tote/order",
        passed=passed and not mix["bad"],
        notes=[
            f"{mix['tasks']} tasks (single orders, clusters of 2, 4 and 8), {mix['orders']} orders, "
            f"{mix['lines_qty1']} one-unit lines (max {mix['max_scans_qty1_line']} scans), {mix['lines_multi']} "
            f"multi-unit lines ({mix['units_per_multi_line']:.1f} units on average): {mix['scans_per_multi_line']:.2f} "
            f"scans and {mix['taps_per_multi_line']:.2f} taps each (bin, first item, then the number typed)"
        ],
        data={k: v for k, v in mix.items() if k != "example_statements"},
    )
    return [p99_row, p50_row, taps_row]
