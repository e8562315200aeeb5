"""Pure parts of devices.printers: ~HS parsing, copies, URL parsing, errors."""

from __future__ import annotations

import pytest

from devices.printers import (
    CupsPrinter,
    PdfDirPrinter,
    PrinterError,
    PrinterNotReady,
    PrinterState,
    PrinterStatus,
    ZplFilePrinter,
    ZplSerialPrinter,
    ZplTcpPrinter,
    open_printer,
    parse_host_status,
    with_copies,
)


def hs(paper: int = 0, pause: int = 0, formats: int = 0, head: int = 0, ribbon: int = 0, tt: int = 1) -> bytes:
    one = f"030,{paper},{pause},1218,{formats:03d},0,0,0,000,0,0,0"
    two = f"000,0,{head},{ribbon},{tt},2,6,0,00000000,1,000"
    return b"".join(b"\x02" + s.encode() + b"\x03\r\n" for s in (one, two, "1234,0"))


# --- ~HS ----------------------------------------------------------------------------------------------------


def test_ready() -> None:
    status = parse_host_status(hs(formats=2))
    assert status is not None and status.ready
    assert (status.state, status.reason, status.formats_in_buffer) == (PrinterState.READY, "ready", 2)


@pytest.mark.parametrize(
    ("flags", "state", "reason"),
    [
        ({"paper": 1}, PrinterState.PAPER_OUT, "paper out"),
        ({"pause": 1}, PrinterState.PAUSED, "paused"),
        ({"head": 1}, PrinterState.HEAD_OPEN, "head open"),
        ({"ribbon": 1}, PrinterState.RIBBON_OUT, "ribbon out"),
        ({"paper": 1, "pause": 1}, PrinterState.PAPER_OUT, "paper out, paused"),
        ({"head": 1, "paper": 1}, PrinterState.HEAD_OPEN, "head open, paper out"),
    ],
)
def test_flags(flags: dict[str, int], state: PrinterState, reason: str) -> None:
    status = parse_host_status(hs(**flags))
    assert status is not None and not status.ready
    assert (status.state, status.reason, str(status)) == (state, reason, reason)


def test_ribbon_flag_ignored_in_direct_thermal_mode() -> None:
    status = parse_host_status(hs(ribbon=1, tt=0))
    assert status is not None and status.ready


def test_answer_split_over_noise() -> None:
    assert parse_host_status(b"junk" + hs(paper=1)).state is PrinterState.PAPER_OUT


@pytest.mark.parametrize(
    "raw", [b"", b"~HS", b"\x02030,0,0,1218,000\x03\r\n", b"\x02x\x03\r\n\x02y\x03\r\n", hs()[:30]]
)
def test_no_or_garbled_answer(raw: bytes) -> None:
    assert parse_host_status(raw) is None


# --- copies -------------------------------------------------------------------------------------------------


def test_copies_add_pq() -> None:
    assert with_copies(b"^XA^FDx^FS^XZ", 3) == b"^XA^FDx^FS^PQ3^XZ"


def test_copies_multiply_existing_pq_and_keep_its_other_params() -> None:
    assert with_copies(b"^XA^PQ2,0,1,Y^FDx^FS^XZ", 3) == b"^XA^PQ6,0,1,Y^FDx^FS^XZ"


def test_copies_apply_to_every_format() -> None:
    zpl = b"^XA^FDa^FS^XZ\n^XA^FDb^FS^PQ2^XZ"
    assert with_copies(zpl, 2) == b"^XA^FDa^FS^PQ2^XZ\n^XA^FDb^FS^PQ4^XZ"


def test_one_copy_is_unchanged_and_zero_is_refused() -> None:
    assert with_copies(b"^XA^XZ", 1) == b"^XA^XZ"
    with pytest.raises(ValueError):
        with_copies(b"^XA^XZ", 0)


# --- URLs ---------------------------------------------------------------------------------------------------


def test_tcp_url() -> None:
    printer = open_printer("zpl+tcp://printer.local:9101")
    assert isinstance(printer, ZplTcpPrinter) and printer.format == "zpl"
    assert (printer.host, printer.port, printer.timeout) == ("printer.local", 9101, 5.0)
    assert open_printer("zpl+tcp://10.0.0.5").port == 9100
    assert open_printer("zpl+tcp://10.0.0.5?timeout=1.5").timeout == 1.5
    assert open_printer("zpl+tcp://10.0.0.5?timeout=1.5", timeout=3).timeout == 3


def test_serial_url() -> None:
    printer = open_printer("zpl+serial:///dev/ttyUSB0?baud=19200&xonxoff=1")
    assert isinstance(printer, ZplSerialPrinter)
    assert (printer.port_url, printer.baudrate, printer.flow, printer.ask_status) == (
        "/dev/ttyUSB0",
        19200,
        {"xonxoff": True},
        True,
    )
    assert open_printer("zpl+serial:///dev/ttyS0").baudrate == 9600
    loop = open_printer("zpl+serial:///?url=loop://&status=none")
    assert (loop.port_url, loop.ask_status) == ("loop://", False)


def test_file_dir_and_cups_urls() -> None:
    file_printer = open_printer("zpl+file:///dev/usb/lp0")
    assert isinstance(file_printer, ZplFilePrinter) and file_printer.path == "/dev/usb/lp0"
    pdf_dir = open_printer("pdf+dir:///srv/labels/")
    assert isinstance(pdf_dir, PdfDirPrinter) and pdf_dir.directory == "/srv/labels" and pdf_dir.format == "pdf"
    raw = open_printer("cups://Zebra_GX420")
    assert isinstance(raw, CupsPrinter) and (raw.queue, raw.format) == ("Zebra_GX420", "zpl")
    pdf = open_printer("pdf+cups://Office-A4")
    assert (pdf.queue, pdf.format) == ("Office-A4", "pdf")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://x", "unknown scheme"),
        ("zpl+tcp://", "no host"),
        ("zpl+tcp://host:99999", "port"),
        ("zpl+tcp://host:abc", "port"),
        ("zpl+tcp://host/queue", "no path"),
        ("zpl+serial://", "no port"),
        ("zpl+serial:///dev/ttyUSB0?baud=fast", "baud"),
        ("zpl+serial:///dev/ttyUSB0?status=maybe", "status"),
        ("zpl+serial:///dev/ttyUSB0?xonxoff=perhaps", "xonxoff"),
        ("zpl+file://relative/path", "three slashes"),
        ("zpl+file:///", "absolute path"),
        ("pdf+dir://host/path", "three slashes"),
        ("cups://", "queue"),
        ("cups://bad queue", "queue"),
        ("zpl+tcp://host?timeout=soon", "timeout"),
        ("zpl+tcp://host?timeout=0", "timeout"),
        ("/dev/usb/lp0", "expected"),
        ("", "expected"),
    ],
)
def test_bad_urls_raise_value_error_at_open(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        open_printer(url)


# --- errors -------------------------------------------------------------------------------------------------


def test_not_ready_is_retryable_and_carries_the_status() -> None:
    status = PrinterStatus(PrinterState.PAPER_OUT, "paper out")
    exc = PrinterNotReady(status, "zpl+tcp://p:9100")
    assert exc.retryable and exc.status is status
    assert str(exc) == "printer zpl+tcp://p:9100 not ready: paper out"
    assert isinstance(exc, PrinterError)
    assert not PrinterError("no such queue").retryable


@pytest.mark.parametrize("url", ["zpl+tcp://127.0.0.1:9", "zpl+file:///tmp/x.zpl", "cups://Q"])
def test_zpl_printers_refuse_pdf(url: str) -> None:
    with pytest.raises(ValueError, match="ZPL"):
        open_printer(url).send(b"%PDF-1.7\n...")


@pytest.mark.parametrize("url", ["pdf+dir:///tmp", "pdf+cups://Q"])
def test_pdf_printers_refuse_zpl(url: str) -> None:
    with pytest.raises(ValueError, match="PDF"):
        open_printer(url).send(b"^XA^XZ")
