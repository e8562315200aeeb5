"""Hardware for the WMS, without Flask and without ``wms``: scan parsing, serial scanners, label printers and
their simulators. Needs only pyserial and biip.

- :mod:`devices.scan`: :func:`parse_scan` turns any scanned string into a typed :class:`ScanResult` (GTINs,
  GS1-128 / DataMatrix / digital links, and the WMS's own ``$X:...`` codes, documented there).
- :mod:`devices.serial_scanner`: :class:`SerialScanner` reads codes from a pyserial port and reconnects.
- :mod:`devices.printers`: :func:`open_printer` for ``zpl+tcp``, ``zpl+serial``, ``zpl+file``, ``cups``,
  ``pdf+cups`` and ``pdf+dir`` URLs; ``send`` and ``status``.
- :mod:`devices.simulators`: a fake ZPL printer and a virtual serial scanner.

``python -m devices --help`` has small command-line tools (parse, scan, status, print).
"""

from devices.printers import (
    Printer,
    PrinterError,
    PrinterNotReady,
    PrinterState,
    PrinterStatus,
    open_printer,
    parse_host_status,
    with_copies,
)
from devices.scan import (
    ScanError,
    ScanKind,
    ScanResult,
    encode_bin,
    encode_location,
    encode_order,
    encode_pickup,
    encode_return,
    encode_tote,
    encode_wave,
    parse_scan,
)
from devices.serial_scanner import LineFramer, ScannerState, SerialScanner

__all__ = [
    "LineFramer",
    "Printer",
    "PrinterError",
    "PrinterNotReady",
    "PrinterState",
    "PrinterStatus",
    "ScanError",
    "ScanKind",
    "ScanResult",
    "ScannerState",
    "SerialScanner",
    "encode_bin",
    "encode_location",
    "encode_order",
    "encode_pickup",
    "encode_return",
    "encode_tote",
    "encode_wave",
    "open_printer",
    "parse_host_status",
    "parse_scan",
    "with_copies",
]
