"""The app on a temporary SQLite file, served by werkzeug in a thread, with the shop of tests/web/staff.py and a
few products of the handheld tests; used by the browser tests and by ``shots.py``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade

from tests.factories import add_stock, gtin13, make_bin, make_channel, make_product, order_body
from tests.web.staff import make_shop
from wms import create_app
from wms.auth.service import create_user, set_user_language
from wms.extensions import db

#: products of the browser tests: GTINs by sku (KT-1's comes from make_shop)
GTINS = {"KT-1": "5901234123457", "LOT-1": gtin13(9101), "BOX-9": gtin13(9102)}


@dataclass
class LiveServer:
    url: str
    app: Flask
    _server: Any = field(repr=False, default=None)
    _thread: threading.Thread | None = field(repr=False, default=None)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


def start_server(folder: Path) -> LiveServer:
    """Migrate and seed a new database under ``folder`` and serve the app on a free port of 127.0.0.1.

    Users (password ``tests.web.staff.PASSWORD``): ``piotr`` picker at WH1 (English), ``ewa`` picker at WH1
    (Polish), ``kasia`` clerk at ST1, ``boss`` manager; bins DOCK (dock), A-01, A-02, B-01, C-01 (bulk, 3 x
    BOX-9), STAGE (staging) at WH1; store ST1 with S-01 (3 x KT-1), S-02 (2 x BOX-9), PU-01 (pickup) and RET
    (returns); a channel WEB that ships from WH1 (:func:`pick_wave` puts an order of it on a pick task)."""
    from werkzeug.serving import make_server

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'wms.sqlite'}",
            "SECRET_KEY": "browser-test-secret",
            "PRINTER_DIR_ROOT": str(folder),
        }
    )
    with app.app_context():
        upgrade()
        make_shop(folder)
        make_product("LOT-1", "Klej z partią", barcodes=[GTINS["LOT-1"]], track_lots=True)
        make_product("BOX-9", "Pudło", barcodes=[GTINS["BOX-9"]])
        make_bin("WH1", "STAGE", "staging", 99)
        make_bin("WH1", "C-01", "bulk", 20)
        add_stock("WH1", "C-01", "BOX-9", 3)  # counted by the count test: nobody else touches C-01
        make_channel("WEB", ship_from=["WH1"])
        # ST1 takes click & collect: a pickup shelf and a returns bin beside its shelf S-01 (3 x KT-1)
        make_bin("ST1", "S-02", "pick", 2)
        add_stock("ST1", "S-02", "BOX-9", 2)
        make_bin("ST1", "PU-01", "pickup", 80)
        make_bin("ST1", "RET", "returns", 90)
        create_user("ewa", "picker", "WH1", "sekret-123")
        set_user_language("ewa", "pl", actor="test")
        set_user_language("piotr", "en", actor="test")
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return LiveServer(f"http://127.0.0.1:{server.server_port}", app, server, thread)


def pick_wave(server: LiveServer, external_id: str, lines: list[tuple[str, int]]) -> tuple[int, int]:
    """An order of the WEB channel, reserved at WH1 and released in a wave: ``(order id, pick task id)``."""
    from wms.channels.models import Channel
    from wms.orders.service import place_order
    from wms.picking.service import release_wave

    with server.app.app_context():
        channel_id = db.session.execute(db.select(Channel.id).where(Channel.code == "WEB")).scalar_one()
        placed, _ = place_order(channel_id, order_body(external_id, lines))
        wave = release_wave("WH1", [placed.id], actor="boss")
        db.session.remove()
    return placed.id, wave["tasks"][0]


def pickup_stage(server: LiveServer, external_id: str, lines: list[tuple[str, int]]) -> tuple[int, int, str]:
    """A pickup order of the WEB channel at ST1 on the store's stock, with its stage task open (as ``wms worker``
    opens it): ``(order id, stage task id, pickup code)``."""
    from wms.channels.models import Channel
    from wms.orders.service import place_order
    from wms.tasks.kinds.stage import open_stage_tasks

    with server.app.app_context():
        channel_id = db.session.execute(db.select(Channel.id).where(Channel.code == "WEB")).scalar_one()
        body = order_body(external_id, lines, fulfilment="pickup", pickup_location="ST1")
        body.pop("ship_to", None)
        placed, _ = place_order(channel_id, body)
        (task_id,) = open_stage_tasks("ST1", order_ids=[placed.id])
        code = placed.pickup_code
        db.session.remove()
    return placed.id, task_id, code


def collected_pickup(server: LiveServer, external_id: str, lines: list[tuple[str, int]]) -> int:
    """A pickup order at ST1 staged (by ``kasia``'s scans) and handed over in full: its id."""
    from wms.auth.models import User
    from wms.pickups.service import hand_over
    from wms.tasks.service import apply_scan, get_task

    order_id, task_id, code = pickup_stage(server, external_id, lines)
    with server.app.app_context():
        kasia = db.session.execute(db.select(User).where(User.username == "kasia")).scalar_one()
        step, n = get_task(task_id, kasia)["next"], 0
        while step["expect"] != "nothing":
            n += 1
            scan_code = {"bin": step.get("bin"), "product": GTINS.get(step.get("sku") or ""), "order": code}.get(
                step["expect"], "PU-01"
            )
            qty = step["qty"] if step["expect"] == "product" else None
            step = apply_scan(task_id, f"live-{order_id}-{n}", scan_code, qty, kasia)["task"]["next"]
        hand_over(order_id, f"live-{order_id}", [{"sku": sku, "collected": qty} for sku, qty in lines], kasia)
        db.session.remove()
    return order_id


def store_bin(server: LiveServer, bin_code: str) -> list[tuple[str, int]]:
    """(status, units) of the quants in ST1's bin ``bin_code``; the books agree with the ledger (``wms check``)."""
    from wms.locations.models import Bin, Location
    from wms.stock.models import StockQuant
    from wms.stock.service import check_stock

    with server.app.app_context():
        rows = db.session.execute(
            db.select(StockQuant.status, StockQuant.qty)
            .join(Bin, Bin.id == StockQuant.bin_id)
            .join(Location, Location.id == Bin.location_id)
            .where(Location.code == "ST1", Bin.code == bin_code, StockQuant.qty > 0)
        ).all()
        assert check_stock() == []
        db.session.remove()
    return [tuple(row) for row in rows]
