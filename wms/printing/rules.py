"""Pure rules of the print queue: printer URLs (and where they may point), what a printer's answer means for a job,
retry backoff, give-up, idempotency keys, and the test label. No database, no I/O."""

from __future__ import annotations

import fnmatch
import hashlib
import ipaddress
import json
import posixpath
import random
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from devices.printers import (
    PdfDirPrinter,
    PrinterState,
    PrinterStatus,
    ZplFilePrinter,
    ZplSerialPrinter,
    ZplTcpPrinter,
    open_printer,
)
from wms.errors import ValidationError

#: printer URL scheme -> what the printer takes
SCHEME_FORMATS: Mapping[str, str] = {
    "zpl+tcp": "zpl",
    "zpl+serial": "zpl",
    "zpl+file": "zpl",
    "cups": "zpl",
    "pdf+cups": "pdf",
    "pdf+dir": "pdf",
}
URL_FORMS = (
    "zpl+tcp://HOST:9100, zpl+serial:///dev/ttyUSB0?baud=9600, zpl+file:///dev/usb/lp0, cups://QUEUE, "
    "pdf+cups://QUEUE or pdf+dir:///path"
)

#: states in which the printer answered and only needs a person (paper, head, ribbon, pause): a job waits for
#: them as long as it takes and never fails
WAITING_STATES = ("paper out", "head open", "ribbon out", "paused")

#: ``last_state`` of a printer that is ready
READY_STATE = "ready"

#: the label kind of ``wms printer test``
TEST_KIND = "test"
#: a valid EAN-13 for the test label's barcode
TEST_GTIN = "5901234123457"

MAX_COPIES = 999
MAX_KEY_LENGTH = 200


def printer_format(url: str) -> str:
    """``"zpl"`` or ``"pdf"`` for a printer URL of API.md; raises ValidationError naming ``url`` for anything
    else (unknown scheme, no host, relative path, bad port or option). Does no I/O."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError.one("url", f"a printer URL is needed: {URL_FORMS}")
    url = url.strip()
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme not in SCHEME_FORMATS:
        raise ValidationError.one("url", f"{url!r} is not a printer URL; use {URL_FORMS}")
    try:
        printer = open_printer(url)
    except ValueError as exc:
        raise ValidationError.one("url", str(exc)) from None
    return printer.format


#: device files a ``zpl+file`` or ``zpl+serial`` printer may be, unless ``PRINTER_DEVICE_PATHS`` says otherwise
#: (``fnmatch`` patterns): USB and parallel printers, serial ports (also by id), Bluetooth serial, ptys
DEFAULT_DEVICE_PATHS = (
    "/dev/usb/lp*",
    "/dev/lp*",
    "/dev/tty*",
    "/dev/serial/*",
    "/dev/rfcomm*",
    "/dev/pts/*",
)
#: pyserial URL schemes a ``zpl+serial`` printer may take in ``?url=`` (``spy://`` would log to a file it names,
#: ``hwgrep://`` and ``alt://`` pick ports and classes by pattern)
SERIAL_URL_SCHEMES = ("socket", "rfc2217", "loop")
#: cloud instance metadata endpoints: never a printer, always refused
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
    }
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class PrinterUrlPolicy:
    """Where printer URLs may point (from the settings ``PRINTER_DEVICE_PATHS``, ``PRINTER_DIR_ROOT``,
    ``PRINTER_ALLOW_LINK_LOCAL``)."""

    #: ``fnmatch`` patterns of the device files ``zpl+file`` / ``zpl+serial`` may use
    device_paths: tuple[str, ...] = DEFAULT_DEVICE_PATHS
    #: the absolute folder under which ``pdf+dir`` hot folders (and ``zpl+file`` files) must lie
    dir_root: str = "/nonexistent"
    #: TCP printers on link-local addresses (169.254/16, fe80::/10) allowed; metadata addresses never are
    allow_link_local: bool = False


def device_patterns(value: Any) -> tuple[str, ...]:
    """The ``PRINTER_DEVICE_PATHS`` setting as patterns: a list, or a string separated by ``:`` or ``,``; empty
    or unset: :data:`DEFAULT_DEVICE_PATHS`."""
    if value is None or value == "":
        return DEFAULT_DEVICE_PATHS
    items = value.replace(",", ":").split(":") if isinstance(value, str) else list(value)
    patterns = tuple(str(item).strip() for item in items if str(item).strip())
    return patterns or DEFAULT_DEVICE_PATHS


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo client, NAT64): a printer at
    ``::ffff:169.254.169.254`` is a printer at 169.254.169.254."""
    found = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.append(address.teredo[1])
    if address in _NAT64 or address.packed[:12] == bytes(12):
        found.append(ipaddress.IPv4Address(address.packed[12:]))
    return found


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` is written as, also in the old IPv4 forms a resolver takes (``2852039166``,
    ``0xa9.0xfe.0xa9.0xfe``, ``169.254.43518``); None for a name. No I/O."""
    name = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if name and all(c in "0123456789abcdefxABCDEFX." for c in name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_link_local: bool = False) -> str:
    """Why a printer may not be reached at ``address`` ("" when it may): a cloud metadata address, or a link-local
    one (unless allowed). Loopback and private networks are allowed (a local relay, the printers of the shop)."""
    candidates = [address]
    if isinstance(address, ipaddress.IPv6Address):
        candidates += _embedded_ipv4(address)
    for candidate in candidates:
        if candidate in METADATA_ADDRESSES:
            return f"{address} is a cloud metadata address, not a printer"
        if candidate.is_link_local and not allow_link_local:
            return f"{address} is a link-local address (set PRINTER_ALLOW_LINK_LOCAL to allow printers there)"
    return ""


def forbidden_host(host: str, allow_link_local: bool = False) -> str:
    """Why a printer may not be reached at ``host`` as written ("" when it may). No I/O: a name is judged by the
    known metadata names only; the print worker judges what it resolves to when it connects."""
    name = host.strip("[]").rstrip(".").lower()
    if name in METADATA_NAMES:
        return f"{host} is a cloud metadata address, not a printer"
    address = host_address(name)
    return forbidden_address(address, allow_link_local) if address is not None else ""


def _device_allowed(path: str, policy: PrinterUrlPolicy) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in policy.device_paths)


def _under(path: str, root: str) -> bool:
    root = posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def check_printer_url(url: str, policy: PrinterUrlPolicy) -> str:
    """``"zpl"`` or ``"pdf"`` for a printer URL that is well formed (:func:`printer_format`) and points where
    printers may be: device files matching ``policy.device_paths`` (``zpl+file``, ``zpl+serial``; a ``zpl+file``
    may also be a file under ``policy.dir_root``), hot folders under ``policy.dir_root`` (``pdf+dir``), TCP hosts
    that are not link-local (unless allowed) nor cloud metadata; no ``..`` and no control characters anywhere.
    Raises ValidationError naming ``url``. No I/O: the paths are judged as written (the folders are the
    administrator's; nobody else makes links in them)."""
    fmt = printer_format(url)
    url = url.strip()
    decoded = unquote(url)
    if ".." in decoded:
        raise ValidationError.one("url", f"{url!r}: a printer URL may not contain '..'")
    if any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        raise ValidationError.one("url", f"{url!r}: a printer URL may not contain control characters")
    printer = open_printer(url)
    problem = ""
    if isinstance(printer, ZplTcpPrinter):
        problem = forbidden_host(printer.host, policy.allow_link_local)
    elif isinstance(printer, ZplFilePrinter):
        path = posixpath.normpath(printer.path)
        if not (_device_allowed(path, policy) or _under(path, policy.dir_root)):
            problem = (
                f"{printer.path} is neither a printer device ({', '.join(policy.device_paths)}) nor a file under "
                f"{policy.dir_root}"
            )
    elif isinstance(printer, ZplSerialPrinter):
        problem = _serial_problem(printer.port_url, policy)
    elif isinstance(printer, PdfDirPrinter) and not _under(posixpath.normpath(printer.directory), policy.dir_root):
        problem = f"hot folders must be under {policy.dir_root} (PRINTER_DIR_ROOT), not {printer.directory}"
    if problem:
        raise ValidationError.one("url", problem)
    return fmt


def _serial_problem(port_url: str, policy: PrinterUrlPolicy) -> str:
    if "://" not in port_url:
        path = posixpath.normpath(port_url)
        if not _device_allowed(path, policy):
            return f"{port_url} is not a serial device a printer may use ({', '.join(policy.device_paths)})"
        return ""
    parts = urlsplit(port_url)
    scheme = parts.scheme.lower()
    if scheme not in SERIAL_URL_SCHEMES:
        return f"serial URL {port_url!r}: use a device path or {', '.join(s + '://' for s in SERIAL_URL_SCHEMES)}"
    if scheme == "loop":
        return ""
    if not parts.hostname:
        return f"serial URL {port_url!r}: no host"
    return forbidden_host(parts.hostname, policy.allow_link_local)


def tcp_hosts(url: str) -> list[str]:
    """The network hosts a printer URL connects to (``zpl+tcp``'s host, a serial ``socket://`` or ``rfc2217://``
    host), for the check of what they resolve to; [] for the others. Raises ValueError for a malformed URL."""
    printer = open_printer(url)
    if isinstance(printer, ZplTcpPrinter):
        return [printer.host]
    if isinstance(printer, ZplSerialPrinter) and "://" in printer.port_url:
        parts = urlsplit(printer.port_url)
        if parts.scheme.lower() in ("socket", "rfc2217") and parts.hostname:
            return [parts.hostname]
    return []


def forbidden_resolution(addresses: Iterable[str], allow_link_local: bool = False) -> str:
    """Why a printer whose name resolved to ``addresses`` may not be reached ("" when it may)."""
    for text in addresses:
        address = host_address(text)
        if address is not None and (problem := forbidden_address(address, allow_link_local)):
            return problem
    return ""


def state_text(status: PrinterStatus) -> str:
    """A printer's status as stored in ``Printer.last_state`` and shown to people: ``ready``, ``paper out``,
    ``head open, paper out``, ``paused``, ``unreachable: connection refused``, ``unreachable: no answer ...``."""
    if status.state is PrinterState.NO_ANSWER:
        return f"unreachable: {status.reason}"
    return status.reason


def is_waiting_state(state: str | None) -> bool:
    """Whether ``state`` (a ``state_text``, or a reason a station agent reported) is one a job waits out forever:
    the printer answered and needs paper, ribbon, a closed head or to be resumed."""
    text = (state or "").strip().lower()
    return any(text.startswith(s) for s in WAITING_STATES)


def retry_delay(failures: int, max_delay: float, base: float = 1.0, jitter: bool = True) -> float:
    """Seconds until the next try after ``failures`` consecutive not-ready answers (1, 2, ...): ``base`` doubled
    each time, capped at ``max_delay``; with ``jitter``, 80-100 % of that so printers coming back do not get every
    worker at once."""
    failures = max(1, failures)
    delay = min(float(max_delay), float(base) * 2 ** min(failures - 1, 30))
    if jitter:
        delay *= random.uniform(0.8, 1.0)  # noqa: S311 (not cryptography)
    return max(0.0, delay)


def unreachable_since(state: str, previous: datetime | None, now: datetime) -> datetime | None:
    """The new start of the give-up clock after a not-ready answer: kept (or started now) while the printer is
    unreachable; stopped (None) while it answers with a waiting state (paper out never counts towards giving up)."""
    if is_waiting_state(state):
        return None
    return previous or now


def should_give_up(state: str, since: datetime | None, now: datetime, give_up_seconds: float) -> bool:
    """Whether a job whose printer answered ``state`` gives up: only for an unreachable printer, and only once it
    has been unreachable for more than ``give_up_seconds`` since ``since``. 0 or less: never give up."""
    if give_up_seconds <= 0 or since is None or is_waiting_state(state):
        return False
    return now - since > timedelta(seconds=give_up_seconds)


def lease_seconds(jobs: int, printer_timeout: float, margin: float) -> float:
    """How long a claim of ``jobs`` jobs of one printer is held: for each job a status check and a send (each up
    to the printer's timeout, plus the transfer), the jobs one after the other, plus ``margin``."""
    return max(1, jobs) * (2 * printer_timeout + 1.0) + printer_timeout + margin


def idempotency_key(*parts: Any) -> str:
    """A stable key from what makes a print request the same request, e.g.
    ``idempotency_key("pickup", order_id, "ready")`` or a client's request id. Long keys are hashed to fit."""
    if not parts:
        raise ValueError("an idempotency key needs at least one part")
    text = ":".join(str(p) for p in parts)
    if len(text) <= MAX_KEY_LENGTH:
        return text
    return text[:100] + ":" + hashlib.sha256(text.encode()).hexdigest()


def content_key(printer_id: int, kind: str, data: Mapping[str, Any], copies: int) -> str:
    """A key made from the content of a request (same printer, kind, data and copies): for callers that have no
    natural key but must not print twice when a request is retried."""
    body = json.dumps([printer_id, kind, data, copies], sort_keys=True, separators=(",", ":"), default=str)
    return "content:" + hashlib.sha256(body.encode()).hexdigest()


def check_copies(copies: Any) -> int:
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise ValidationError.one("copies", f"must be a whole number 1-{MAX_COPIES}")
    return copies


def check_kind(kind: str, fmt: str, kinds: Mapping[str, tuple[str, ...]]) -> None:
    """``kind`` must be a labels kind the printer's format has (or ``test``); raises ValidationError."""
    if kind == TEST_KIND:
        return
    if kind not in kinds:
        raise ValidationError.one("kind", f"unknown label kind {kind!r}; kinds: {', '.join([*kinds, TEST_KIND])}")
    if fmt not in kinds[kind]:
        raise ValidationError.one("kind", f"a {kind} label is {'/'.join(kinds[kind])} only; this printer takes {fmt}")


def test_label(printer_name: str, requested_at: str) -> tuple[str, dict[str, Any]]:
    """The labels kind and data of the test label: a product label naming the printer and the time."""
    return "product", {"sku": "TEST", "name": f"WMS test label: {printer_name} {requested_at}", "gtin": TEST_GTIN}
