"""Browser tests of the handheld pages: a real Chromium (the system's, through Playwright) against the app served
on a temporary SQLite file by a werkzeug server in a thread.

They skip, saying why, only when Chromium (``/usr/bin/chromium``) or the ``playwright`` package is missing; CI
installs both (``.ci/run``). One browser per session; each test gets its own context (cookies, IndexedDB) at
360x640, and its own delivery references and products, so the tests share the server without cleaning it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.live import LiveServer, start_server
from tests.factories import fast_password_hashing
from tests.web.staff import PASSWORD

CHROMIUM = os.environ.get("WMS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: the handheld the pages are made for
HANDHELD = {"width": 360, "height": 640}

try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None
    Page = object  # type: ignore[assignment,misc]


def _missing() -> str | None:
    if sync_playwright is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=f"browser tests: {reason}"))


# --- the server ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    mp = pytest.MonkeyPatch()
    fast_password_hashing(mp)
    server = start_server(tmp_path_factory.mktemp("hh-live"))
    try:
        yield server
    finally:
        server.stop()
        mp.undo()


# --- the browser ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    reason = _missing()
    if reason:
        pytest.skip(f"browser tests: {reason}")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=HANDHELD, has_touch=True, locale="en-GB")
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


def sign_in(page: Page, server: LiveServer, username: str, next_path: str = "/hh") -> None:
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{next_path}")
    wait_ready(page)


def wait_ready(page: Page) -> None:
    page.wait_for_selector(".hh-app[data-ready='1']", state="attached")


def scan(page: Page, code: str) -> None:
    """What a keyboard-wedge scanner does: the code as a fast burst of keys, then Enter."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def type_slowly(page: Page, text: str) -> None:
    """A person on the keyboard: well apart from a scanner's burst."""
    page.keyboard.type(text, delay=120)
    page.keyboard.press("Enter")


def wait_until(check: Callable[[], object], timeout: float = 10.0, what: str = "the page") -> object:
    """Poll ``check`` until it answers something true (the CSP forbids ``wait_for_function``'s eval)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # the page navigating meanwhile
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def text_of(page: Page, selector: str) -> str:
    return page.inner_text(selector)


def wait_text(page: Page, selector: str, expected: str, timeout: float = 10.0) -> str:
    def check() -> str | None:
        text = text_of(page, selector)
        return text if expected in text else None

    try:
        return wait_until(check, timeout, f"{expected!r} in {selector}")
    except AssertionError as exc:
        said = text_of(page, selector)
        raise AssertionError(f"{exc}; {selector} says {said!r}; message: {_message(page)!r}") from None


def _message(page: Page) -> str:
    try:
        return page.inner_text("#hh-msg")
    except Exception:
        return "?"


def flashes(page: Page) -> tuple[str, int]:
    """The last full-screen flash (``ok``/``error``) and how many there were."""
    node = page.locator("#hh-flash")
    return node.get_attribute("data-last") or "", int(node.get_attribute("data-count") or 0)


def unsent(page: Page) -> int:
    node = page.locator("[data-unsent]")
    return int(node.get_attribute("data-n") or 0)
