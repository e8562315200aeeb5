from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.simulators.fake_printer import FakePrinter
from tests.factories import make_bin, make_location, make_product


@pytest.fixture
def fake() -> Iterator[FakePrinter]:
    printer = FakePrinter().start()  # 127.0.0.1, any free port
    try:
        yield printer
    finally:
        printer.stop()


@pytest.fixture
def fast(request, monkeypatch):
    """Short retries and leases, so that the tests do not wait for the production timings."""
    app = request.getfixturevalue("any_app") if "any_app" in request.fixturenames else request.getfixturevalue("app")
    for key, value in {"PRINT_RETRY_BASE": 0.05, "PRINT_RETRY_MAX": 0.2, "PRINT_LEASE_MARGIN": 0.5}.items():
        monkeypatch.setitem(app.config, key, value)
    return app


@pytest.fixture
def hot_root(request, tmp_path, monkeypatch):
    """``tmp_path`` as the folder hot folders (``pdf+dir``) and ZPL files must be under (PRINTER_DIR_ROOT)."""
    app = request.getfixturevalue("any_app") if "any_app" in request.fixturenames else request.getfixturevalue("app")
    monkeypatch.setitem(app.config, "PRINTER_DIR_ROOT", str(tmp_path))
    return tmp_path


def url_of(fake: FakePrinter, timeout: float = 0.5) -> str:
    return f"{fake.url}?timeout={timeout:g}"


def make_site() -> None:
    make_location("WH1", "warehouse")
    make_location("ST1", "store")
    make_bin("WH1", "A-01-01")
    make_product("SKU-1", "Kubek ceramiczny 300 ml")
