"""Screenshots of the managers' pages, in Polish and English, at 1280x800 (a tool, not a test).

    python3 -m tests.browser.shots_manager [OUT_DIR]      # default /tmp/manager-shots

Starts the app on a temporary SQLite file (tests/browser/live.py) with a little work in it (a wave, a flagged order,
a min/max below its minimum, a stock check), then photographs /stock (as you type), a product's page with its chart
and stock card, /flow, /exceptions, /health, /replenishment, /transfers, /returns, /waves and the home page.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import update

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.live import pick_wave, start_server
from tests.web.staff import PASSWORD
from wms.auth.service import set_user_language
from wms.extensions import db

DESKTOP = {"width": 1280, "height": 800}
PAGES = [
    "/stock/KT-1",
    "/flow",
    "/exceptions",
    "/health?location=WH1",
    "/replenishment",
    "/transfers",
    "/returns",
    "/waves",
    "/products?sort=-on_hand",
    "/",
]


def _some_work(server) -> None:
    from wms.orders.models import Order
    from wms.stock.checks import run_check
    from wms.transfers.replenishment import set_min_max

    order_id, _task = pick_wave(server, "WEB-SHOT-1", [("KT-1", 2)])
    with server.app.app_context():
        db.session.execute(update(Order).where(Order.id == order_id).values(attention="bin A-01 was short"))
        db.session.commit()
        set_min_max("ST2", "KT-1", 10, 15, actor="boss")
        run_check()
        db.session.remove()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    server = start_server(Path(tempfile.mkdtemp(prefix="manager-shots-")))
    _some_work(server)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for lang in ("pl", "en"):
            with server.app.app_context():
                set_user_language("boss", lang, actor="shots")
                db.session.remove()
            ctx = browser.new_context(viewport=DESKTOP, device_scale_factor=1)
            page = ctx.new_page()
            page.goto(f"{server.url}/login?next=/stock")
            page.fill("#username", "boss")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/stock")
            page.fill("#q", "kt")
            page.wait_for_timeout(600)
            page.screenshot(path=str(out / f"{lang}-01-stock-search.png"), full_page=True)
            for n, path in enumerate(PAGES, start=2):
                page.goto(f"{server.url}{path}")
                page.wait_for_timeout(700)  # the charts fetch their data
                name = path.strip("/").split("?")[0].replace("/", "-") or "home"
                page.screenshot(path=str(out / f"{lang}-{n:02d}-{name}.png"), full_page=True)
            ctx.close()
        browser.close()
    server.stop()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/manager-shots"))
