"""Screenshots of every handheld screen at 360x640, in Polish and English (a tool, not a test).

    python3 -m tests.browser.shots [OUT_DIR]      # default /tmp/hh-shots

Starts the app on a temporary SQLite file (tests/browser/live.py), opens a put-away and a count, and photographs
home, the task lists, the work screen (asking for the item, for the bin, after a wrong scan, done), receive with
scanned lines, move, and the quantity panel. Look at them for what a picker with gloves would struggle with.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import select

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, HANDHELD, scan, sign_in, wait_ready, wait_text
from tests.browser.live import GTINS, pick_wave, start_server
from wms.extensions import db
from wms.locations.models import Bin
from wms.tasks.kinds.count import open_count_task
from wms.tasks.models import Task
from wms.tasks.service import receive
from wms.uow import unit_of_work


def _seed(server) -> dict[str, int]:
    with server.app.app_context():
        receive("WH1", "DOCK", "PO-2024-118", [{"sku": "KT-1", "qty": 4}, {"sku": "BOX-9", "qty": 2}], actor="demo")
        receive("WH1", "DOCK", "PO-2024-119", [{"sku": "BOX-9", "qty": 6}], actor="demo")
        with unit_of_work() as session:
            bin_ = session.execute(select(Bin).where(Bin.code == "B-01")).scalar_one()
            open_count_task(session, bin_)
        ids = db.session.execute(select(Task.id, Task.kind).order_by(Task.id)).all()
        db.session.remove()
    return {"putaway": ids[0][0], "putaway2": ids[1][0], "count": next(i for i, k in ids if k == "count")}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    server = start_server(Path(tempfile.mkdtemp(prefix="hh-shots-")))
    tasks = _seed(server)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for user, lang in (("ewa", "pl"), ("piotr", "en")):
            ctx = browser.new_context(viewport=HANDHELD, has_touch=True, device_scale_factor=1)
            page = ctx.new_page()

            def shot(name: str, page=page, lang=lang) -> None:
                page.screenshot(path=str(out / f"{lang}-{name}.png"))

            sign_in(page, server, user)
            shot("01-home")
            page.goto(f"{server.url}/hh/tasks?kind=putaway")
            wait_ready(page)
            shot("02-putaway-list")
            page.goto(f"{server.url}/hh/tasks/{tasks['putaway']}")
            wait_ready(page)
            shot("03-task-item")
            scan(page, "A-02")
            page.wait_for_timeout(400)
            shot("04-task-wrong-item")
            scan(page, GTINS["KT-1"])
            wait_text(page, "#hh-next", "A-01")
            page.wait_for_timeout(350)
            shot("05-task-bin")
            page.click("#hh-qty")
            shot("06-quantity-panel")
            page.click("#hh-qty-cancel")
            page.goto(f"{server.url}/hh/tasks/{tasks['count']}")
            wait_ready(page)
            shot("07-count")
            page.goto(f"{server.url}/hh/receive")
            wait_ready(page)
            shot("08-receive-start")
            scan(page, f"PO-{lang}-77")
            scan(page, GTINS["KT-1"])
            scan(page, GTINS["KT-1"])
            scan(page, f"01{'0' + GTINS['LOT-1']}17271231" + "10L-4471")
            wait_text(page, "#hh-lines", "L-4471")
            page.wait_for_timeout(350)
            shot("09-receive-lines")
            page.click("#hh-receive")
            page.wait_for_selector("#hh-received:not([hidden])")
            page.wait_for_timeout(350)
            shot("10-received")
            page.goto(f"{server.url}/hh/move")
            wait_ready(page)
            shot("11-move")
            scan(page, "A-01")
            scan(page, GTINS["KT-1"])
            page.wait_for_timeout(500)
            shot("12-move-item")
            page.goto(f"{server.url}/hh/tasks/{tasks['putaway2']}")
            wait_ready(page)
            ctx.set_offline(True)
            scan(page, GTINS["BOX-9"])
            page.wait_for_selector("[data-unsent]:not([hidden])")
            shot("13-offline-unsent")
            ctx.set_offline(False)
            page.wait_for_selector("[data-unsent][hidden]", state="attached")
            _order_id, pick_id = pick_wave(server, f"SHOT-{lang}", [("KT-1", 2)])
            page.goto(f"{server.url}/hh/tasks?kind=pick")
            wait_ready(page)
            shot("14-pick-list")
            page.goto(f"{server.url}/hh/tasks/{pick_id}")
            wait_ready(page)
            shot("15-pick-tote")
            scan(page, f"T-{lang}")
            wait_text(page, "#hh-next", "A-01")
            scan(page, "A-01")
            scan(page, GTINS["KT-1"])
            page.wait_for_timeout(500)
            shot("16-pick-qty")
            page.keyboard.type("1", delay=150)
            page.keyboard.press("Enter")
            page.wait_for_timeout(500)
            page.goto(f"{server.url}/hh/tasks?kind=pack")
            wait_ready(page)
            page.click("[data-claim]")
            wait_ready(page)
            shot("17-pack-tote")
            scan(page, f"T-{lang}")
            scan(page, GTINS["KT-1"])
            scan(page, GTINS["KT-1"])
            page.wait_for_selector("#hh-ship:not([hidden])")
            page.wait_for_timeout(350)
            shot("18-pack-ship")
            page.screenshot(path=str(out / f"{lang}-19-pack-ship-full.png"), full_page=True)
            ctx.close()
        browser.close()
    server.stop()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/hh-shots"))
