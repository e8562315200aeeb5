"""Screenshots of the store clerk's screens, in Polish and English, at 360x640 (handheld) and 1280x800 (a counter
PC), and of the manager's returns page (a tool, not a test).

    python3 -m tests.browser.shots_store [OUT_DIR]      # default /tmp/store-shots

Starts the app on a temporary SQLite file (tests/browser/live.py) with two pickup orders at ST1 (one to stage, one
staged) and a transfer from WH1 in transit to it, then photographs the clerk's home, the stage list and task, the
counter (empty, the order found with a line declined, after an unknown code, with a counter station's scanner),
returns intake (empty, an item scanned), the transfers to receive and the receiving (the label step, "Damaged" on),
and the manager's /returns (empty here: tests/web/returns shows it with data) and /transfers.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, HANDHELD, scan, sign_in, type_slowly, wait_ready, wait_text
from tests.browser.live import GTINS, pickup_stage, start_server
from tests.web.staff import PASSWORD
from wms.auth.service import set_user_language
from wms.extensions import db

COUNTER_PC = {"width": 1280, "height": 800}


def _stage_by_service(server, order_id: int, task_id: int, code: str) -> None:
    from wms.auth.models import User
    from wms.tasks.service import apply_scan

    with server.app.app_context():
        kasia = db.session.execute(db.select(User).where(User.username == "kasia")).scalar_one()
        for n, (scan_code, qty) in enumerate([("S-01", None), (GTINS["KT-1"], 1), (code, None), ("PU-01", None)]):
            apply_scan(task_id, f"shot-{n}", scan_code, qty, kasia)
        db.session.remove()


def _transfer_in_transit(server) -> tuple[int, str]:
    """A transfer of 2 x KT-1 from WH1 to ST1, waved, picked, packed and shipped by piotr's scans: (its id, its
    parcel's SSCC)."""
    from tests.factories import make_bin
    from wms.auth.models import User
    from wms.picking.service import release_wave
    from wms.shipping.service import create_shipment
    from wms.tasks.models import Task
    from wms.tasks.service import apply_scan, get_task
    from wms.transfers.service import create_transfer

    with server.app.app_context():
        make_bin("ST1", "RCV", "dock", 70)
        transfer = create_transfer("WH1", "ST1", [{"sku": "KT-1", "qty": 2}], actor="boss")
        piotr = db.session.execute(db.select(User).where(User.username == "piotr")).scalar_one()
        tasks = release_wave("WH1", order_ids=[transfer.order_id])["tasks"]
        n = 0
        for kind in ("pick", "pack"):
            if kind == "pack":
                tasks = list(db.session.execute(db.select(Task.id).where(Task.kind == "pack")).scalars())
            for task_id in tasks:
                step = get_task(task_id, piotr)["next"]
                while step["expect"] != "nothing":
                    n += 1
                    code = {"bin": step.get("bin"), "product": GTINS["KT-1"], "tote": "T-0700"}.get(step["expect"])
                    qty = step["qty"] if step["expect"] == "qty" else None
                    step = apply_scan(task_id, f"shot-tr-{n}", code, qty, piotr)["task"]["next"]
        shipment = create_shipment(None, "test", None, [{"weight_g": 800}], user=piotr, transfer_id=transfer.id)
        db.session.remove()
    return transfer.id, shipment["parcels"][0]["sscc"]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    server = start_server(Path(tempfile.mkdtemp(prefix="store-shots-")))
    _, stage_id, _ = pickup_stage(server, "WEB-PU-7", [("KT-1", 1)])
    ready_id, ready_task, ready_code = pickup_stage(server, "WEB-PU-8", [("KT-1", 1)])
    _stage_by_service(server, ready_id, ready_task, ready_code)
    transfer_id, sscc = _transfer_in_transit(server)
    with server.app.app_context():
        from wms.printing.service import add_printer

        folder = server.app.config["PRINTER_DIR_ROOT"]
        add_printer("ST1-counter-pdf", f"pdf+dir://{folder}/counter", "ST1", station_code="ST1-COUNTER")
        db.session.remove()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for lang in ("pl", "en"):
            with server.app.app_context():
                set_user_language("kasia", lang, actor="shots")
                set_user_language("boss", lang, actor="shots")
                db.session.remove()
            for size_name, size in (("phone", HANDHELD), ("pc", COUNTER_PC)):
                ctx = browser.new_context(viewport=size, has_touch=size_name == "phone", device_scale_factor=1)
                page = ctx.new_page()

                def shot(name: str, page=page, lang=lang, size_name=size_name) -> None:
                    page.wait_for_timeout(400)  # after the answer's flash
                    page.screenshot(path=str(out / f"{lang}-{size_name}-{name}.png"), full_page=True)

                sign_in(page, server, "kasia")
                shot("01-home")
                page.goto(f"{server.url}/hh/tasks?kind=stage")
                wait_ready(page)
                shot("02-stage-list")
                page.goto(f"{server.url}/hh/tasks/{stage_id}")
                wait_ready(page)
                shot("03-stage-bin")
                page.goto(f"{server.url}/hh/counter")
                wait_ready(page)
                shot("04-counter")
                scan(page, ready_code)
                wait_text(page, "#hh-pickup-title", "PU-01")
                page.locator(".hh-counter-line [data-declined]").fill("1")
                page.locator(".hh-counter-line [data-reason]").fill("zły kolor" if lang == "pl" else "wrong colour")
                shot("05-counter-order")
                scan(page, "ZZZZZZZZ")
                page.wait_for_timeout(600)
                shot("06-counter-unknown-code")
                page.goto(f"{server.url}/hh/returns")
                wait_ready(page)
                shot("07-returns")
                type_slowly(page, str(ready_id))
                scan(page, GTINS["KT-1"])
                page.locator(".hh-return-lines li").wait_for()
                page.locator(".hh-return-lines [data-disposition]").select_option("quarantine")
                shot("08-returns-item")
                page.goto(f"{server.url}/hh/tasks?kind=transfer_receive")
                wait_ready(page)
                shot("10-transfers-to-receive")
                page.locator(".hh-row").first.click()
                page.wait_for_url("**/hh/tasks/*")
                wait_ready(page)
                shot("11-transfer-label")
                if lang == "pl" and size_name == "phone":  # the label once: the later shots see the item step
                    scan(page, sscc)
                wait_text(page, "#hh-next", "2")
                page.click("#hh-damaged")
                shot("12-transfer-damaged-on")
                page.goto(f"{server.url}/hh/counter?station=ST1-COUNTER")
                wait_ready(page)
                page.wait_for_timeout(800)
                shot("13-counter-with-station")
                ctx.close()
            ctx = browser.new_context(viewport=COUNTER_PC, device_scale_factor=1)
            page = ctx.new_page()
            page.goto(f"{server.url}/login?next=/returns")
            page.fill("#username", "boss")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/returns")
            page.screenshot(path=str(out / f"{lang}-pc-09-returns-page.png"), full_page=True)
            page.goto(f"{server.url}/transfers")
            page.screenshot(path=str(out / f"{lang}-pc-14-transfers-page.png"), full_page=True)
            ctx.close()
        browser.close()
    server.stop()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/store-shots"))
