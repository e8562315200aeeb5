"""The printers of this PC: the only places a station agent prints to.

The server's jobs name a printer (``"printer": {"name": "KRK-counter-zebra"}``); this PC's configuration maps the
name to a printer URL of :func:`devices.printers.open_printer`. A job for a name that is not configured here is
refused, so a server (or someone posing as it) can never make the agent write a file or open a connection of its
choosing.

The configuration comes from ``--printer NAME=URL`` (repeatable) and/or a TOML file (``--printers FILE``)::

    # /etc/wms-station/printers.toml
    [printers]
    KRK-counter-zebra = "zpl+tcp://127.0.0.1:9100"
    KRK-counter-a4 = "pdf+cups://Office_A4"
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from devices.printers import open_printer

#: a printer name as the server has it (``printer.name`` is at most 64 characters)
MAX_NAME = 64


class PrinterConfigError(ValueError):
    """The printer configuration cannot be used; the message names the line or entry."""


class LocalPrinters:
    """Printer name -> printer URL of this PC, checked when made (each URL is parsed by ``open_printer``, which
    does no I/O). :meth:`open` returns a printer for a configured name, or None for any other."""

    def __init__(
        self,
        printers: Mapping[str, str] | None = None,
        *,
        factory: Callable[[str], Any] | None = None,
    ) -> None:
        self._urls: dict[str, str] = {}
        self._factory = factory or open_printer
        for name, url in (printers or {}).items():
            self.add(name, url)

    def add(self, name: str, url: str) -> None:
        """Configure printer ``name`` at ``url``; raises PrinterConfigError for a bad name or URL, or a name
        given twice."""
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            raise PrinterConfigError(f"printer name {name!r}: use 1-{MAX_NAME} characters, as the WMS names it")
        name = name.strip()
        if not isinstance(url, str) or not url.strip():
            raise PrinterConfigError(f"printer {name}: no URL")
        if name in self._urls:
            raise PrinterConfigError(f"printer {name} is configured twice")
        try:
            open_printer(url.strip())
        except ValueError as exc:
            raise PrinterConfigError(f"printer {name}: {exc}") from None
        self._urls[name] = url.strip()

    def url(self, name: str) -> str | None:
        """The URL configured for ``name`` (None: not a printer of this PC)."""
        return self._urls.get(name) if isinstance(name, str) else None

    def open(self, name: str) -> Any | None:
        """A ``devices.printers.Printer`` for ``name``, or None when this PC has no printer of that name."""
        url = self.url(name)
        return None if url is None else self._factory(url)

    def names(self) -> list[str]:
        return sorted(self._urls)

    def __len__(self) -> int:
        return len(self._urls)

    def __bool__(self) -> bool:
        return bool(self._urls)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._urls

    def describe(self) -> str:
        """``name -> url, ...`` for the start-up log line."""
        return ", ".join(f"{name} -> {self._urls[name]}" for name in self.names()) or "none"


def parse_pair(text: str) -> tuple[str, str]:
    """``NAME=URL`` (as ``--printer`` takes it) -> (name, url); raises PrinterConfigError."""
    name, sep, url = text.partition("=")
    if not sep or not name.strip() or not url.strip():
        raise PrinterConfigError(f"{text!r}: use NAME=URL, e.g. KRK-counter-zebra=zpl+tcp://127.0.0.1:9100")
    return name.strip(), url.strip()


def read_file(path: str | Path) -> dict[str, str]:
    """The ``[printers]`` table of a TOML file: name -> URL. Raises PrinterConfigError naming the problem."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PrinterConfigError(f"{path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PrinterConfigError(f"{path}: not TOML ({exc})") from None
    table = data.get("printers")
    if not isinstance(table, dict):
        raise PrinterConfigError(f'{path}: needs a [printers] table of NAME = "URL" lines')
    for name, url in table.items():
        if not isinstance(url, str):
            raise PrinterConfigError(f'{path}: printer {name}: the URL must be a string ("zpl+tcp://...")')
    return dict(table)


def load(files: Iterable[str | Path] = (), pairs: Iterable[str] = ()) -> LocalPrinters:
    """The printers of the files (in order) and of ``NAME=URL`` pairs; a name given twice is an error."""
    printers = LocalPrinters()
    for path in files:
        for name, url in read_file(path).items():
            printers.add(name, url)
    for pair in pairs:
        printers.add(*parse_pair(pair))
    return printers
