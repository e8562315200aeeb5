from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.simulators.fake_printer import FakePrinter


@pytest.fixture
def fake_printer() -> Iterator[FakePrinter]:
    printer = FakePrinter().start()  # 127.0.0.1, any free port
    try:
        yield printer
    finally:
        printer.stop()
