"""Stand-ins for hardware, for tests and demos: :class:`FakePrinter` (a ZPL printer on loopback TCP) and
:class:`VirtualScanner` (a serial scanner on a pty). Both also run from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.simulators.fake_printer import FakePrinter, PrintedFormat, PrinterMode
    from devices.simulators.virtual_scanner import VirtualScanner

__all__ = ["FakePrinter", "PrintedFormat", "PrinterMode", "VirtualScanner"]

_HOMES = {
    "FakePrinter": "fake_printer",
    "PrintedFormat": "fake_printer",
    "PrinterMode": "fake_printer",
    "VirtualScanner": "virtual_scanner",
}


def __getattr__(name: str) -> Any:
    # Imported lazily so that `python -m devices.simulators.fake_printer` does not import its own module twice.
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
