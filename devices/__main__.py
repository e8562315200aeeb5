"""Small command-line tools for setting up hardware at a station.

python -m devices parse CODE...              what the WMS reads in each code
python -m devices scan PORT_URL [--baud N]   print what a serial scanner sends, parsed, until Ctrl-C
python -m devices status PRINTER_URL         ask a printer how it is (exit 0 ready, 1 not ready)
python -m devices print PRINTER_URL FILE     send a ZPL or PDF file (exit 0 sent, 1 not ready, 2 error)
"""

from __future__ import annotations

import argparse
import json
import sys

from devices.printers import PrinterError, PrinterNotReady, open_printer
from devices.scan import ScanError, parse_scan
from devices.serial_scanner import ScannerState, SerialScanner


def _describe(code: str) -> str:
    try:
        return json.dumps(parse_scan(code).to_dict(), ensure_ascii=False)
    except ScanError as exc:
        return json.dumps({"error": exc.to_dict()}, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devices", description="Scanner and printer tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="parse scanned codes")
    parse.add_argument("codes", nargs="+")
    scan = commands.add_parser("scan", help="read a serial scanner and print parsed codes")
    scan.add_argument("port", help="pyserial URL: /dev/ttyACM0, socket://HOST:PORT, ...")
    scan.add_argument("--baud", type=int, default=9600)
    status = commands.add_parser("status", help="ask a printer for its status")
    status.add_argument("url")
    send = commands.add_parser("print", help="send a ZPL or PDF file to a printer")
    send.add_argument("url")
    send.add_argument("file", type=argparse.FileType("rb"))
    send.add_argument("--copies", type=int, default=1)
    args = parser.parse_args(argv)

    if args.command == "parse":
        for code in args.codes:
            print(_describe(code))
        return 0
    if args.command == "scan":

        def on_state(state: ScannerState, reason: str) -> None:
            print(f"# {state}: {reason}", file=sys.stderr, flush=True)

        scanner = SerialScanner(
            args.port, baudrate=args.baud, on_scan=lambda code: print(_describe(code), flush=True), on_state=on_state
        )
        try:
            scanner.run()
        except KeyboardInterrupt:
            scanner.stop()
        return 0
    try:
        printer = open_printer(args.url)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "status":
        result = printer.status()
        print(result.reason)
        return 0 if result.ready else 1
    try:
        printer.send(args.file.read(), copies=args.copies)
    except PrinterNotReady as exc:
        print(exc, file=sys.stderr)
        return 1
    except (PrinterError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print("sent")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
