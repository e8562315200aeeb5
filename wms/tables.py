"""The managers' tables: each sorts by any of its columns, pages on the server and exports to CSV (streamed), with
the same query string on every page.

A page may hold several tables, so a table's state carries its name: ``<name>-sort=<column>`` (``-<column>``:
descending) and ``<name>-page=<n>``; ``?csv=<name>`` on the page's own address streams that table, whole, in the
order shown. A table reads from a SQL ``Select`` whose result columns are labelled with the column keys (sorted and
paged by the database, streamed in batches for CSV), or from a function returning the rows (lists that are small
by nature, e.g. one location's min/max rules): sorted and paged in Python.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, request, stream_with_context, url_for
from sqlalchemy import Select, select

from wms.csvcells import csv_text
from wms.extensions import db
from wms.timeutil import isoformat

#: rows per page of a table
PAGE_SIZE = 50
#: rows read per round trip while a CSV streams
CSV_BATCH = 2000

Source = Select | Callable[[], Iterable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Column:
    key: str
    #: the header (a lazy translation)
    label: Any
    numeric: bool = False
    #: in the CSV (a column of links or actions may stay on the page only)
    export: bool = True


@dataclass(frozen=True)
class Spec:
    """A table: its name in the query string, its columns, where its rows come from, and its order by default
    (a column key, ``-`` first for descending)."""

    name: str
    columns: tuple[Column, ...]
    source: Source
    default_sort: str
    #: rows per page (None: :data:`PAGE_SIZE`)
    page_size: int | None = None

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


@dataclass
class Table:
    spec: Spec
    rows: list[dict[str, Any]]
    sort: str
    descending: bool
    page: int
    has_next: bool
    #: the query string of the page, to keep every other table's state in its links
    args: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.spec.columns

    def _url(self, **changes: Any) -> str:
        args = {**self.args, **changes}
        args = {k: v for k, v in args.items() if v not in (None, "")}
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    def sort_url(self, key: str) -> str:
        """Sorted by ``key``: ascending first, descending when it is the ascending sort already; back to page 1."""
        flip = key == self.sort and not self.descending
        return self._url(**{f"{self.name}-sort": ("-" if flip else "") + key, f"{self.name}-page": None})

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"

    def page_url(self, page: int) -> str:
        return self._url(**{f"{self.name}-page": page if page > 1 else None})

    @property
    def csv_url(self) -> str:
        return self._url(csv=self.name, **{f"{self.name}-page": None})


def _sort_of(spec: Spec, args: Mapping[str, str]) -> tuple[str, bool]:
    wanted = args.get(f"{spec.name}-sort") or spec.default_sort
    descending = wanted.startswith("-")
    key = wanted.lstrip("-")
    if spec.column(key) is None:  # an unknown column: the default, not an error (links outlive column changes)
        descending = spec.default_sort.startswith("-")
        key = spec.default_sort.lstrip("-")
    return key, descending


def _page_of(spec: Spec, args: Mapping[str, str]) -> int:
    raw = args.get(f"{spec.name}-page") or "1"
    return max(1, min(int(raw), 100_000)) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def _ordered(query: Select, key: str, descending: bool) -> Select:
    inner = query.subquery()
    first = inner.c[key].desc() if descending else inner.c[key].asc()
    # The other columns break ties, so that a page boundary never shows a row twice or skips one.
    rest = [c.asc() for c in inner.c if c.key != key]
    return select(inner).order_by(first, *rest)


def _python_sort_key(value: Any) -> tuple:
    # None sorts first ascending; numbers and text never compare with each other within one column.
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)


def _all_rows(spec: Spec, key: str, descending: bool) -> Iterator[dict[str, Any]]:
    if isinstance(spec.source, Select):
        result = db.session.execute(_ordered(spec.source, key, descending), execution_options={"yield_per": CSV_BATCH})
        for row in result.mappings():
            yield dict(row)
        return
    rows = [dict(r) for r in spec.source()]
    rows.sort(key=lambda r: _python_sort_key(r.get(key)), reverse=descending)
    yield from rows


def table(spec: Spec, args: Mapping[str, str] | None = None) -> Table:
    """One page of ``spec``, sorted and paged by the query string ``args`` (the request's by default)."""
    args = dict(request.args.items()) if args is None else dict(args)
    args.pop("csv", None)
    key, descending = _sort_of(spec, args)
    page = _page_of(spec, args)
    size = spec.page_size or PAGE_SIZE
    if isinstance(spec.source, Select):
        query = _ordered(spec.source, key, descending).offset((page - 1) * size).limit(size + 1)
        rows = [dict(r) for r in db.session.execute(query).mappings()]
    else:
        everything = list(_all_rows(spec, key, descending))
        rows = everything[(page - 1) * size : page * size + 1]
    return Table(spec, rows[:size], key, descending, page, len(rows) > size, args)


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return isoformat(value) if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)
    return csv_text(str(value))


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """``rows`` as CSV text, a line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_response(rows: Iterable[list[str]], filename: str) -> Response:
    """A streamed CSV download of ``rows`` (header first) named ``filename``."""
    response = Response(stream_with_context(csv_lines(rows)), mimetype="text/csv")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in filename)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


def export(spec: Spec, args: Mapping[str, str] | None = None) -> Response:
    """The whole of ``spec`` in the order the page shows it, as a streamed CSV (text cells safe for spreadsheets)."""
    args = dict(request.args.items()) if args is None else dict(args)
    key, descending = _sort_of(spec, args)
    columns = [c for c in spec.columns if c.export]

    def rows() -> Iterator[list[str]]:
        yield [str(c.label) for c in columns]
        for row in _all_rows(spec, key, descending):
            yield [csv_cell(row.get(c.key)) for c in columns]

    return csv_response(rows(), f"{spec.name}.csv")


def tables_or_csv(specs: Iterable[Spec]) -> dict[str, Table] | Response:
    """The page's tables, each on the page its query string asks; or, for ``?csv=<name>``, that table's CSV."""
    specs = list(specs)
    wanted = request.args.get("csv")
    for spec in specs:
        if spec.name == wanted:
            return export(spec)
    return {spec.name: table(spec) for spec in specs}
