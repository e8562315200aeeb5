"""One parser for the values of query strings, path segments, form fields and the session.

``str.isdigit`` and ``int`` take far more than a person means by a number: ``"²".isdigit()`` is True and
``int("²")`` raises, ``int("٣")`` is 3, and ``int`` of a 5,000-digit string raises (Python's digit limit) while
one of 20 digits overflows every id column. Values here are ASCII digits only, within a range stated by the
caller, with no NUL anywhere. The API answers a bad value with 422 ``validation_error`` naming the parameter;
pages answer 400 with the same message. Nothing unparsed goes into a session.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from wms.errors import BadRequest, ValidationError

#: largest id of a PostgreSQL ``integer`` id column (most tables)
MAX_ID = 2**31 - 1
#: largest id of a ``bigint`` id column (print jobs, station scans, the ledger, the change log)
MAX_BIG_ID = 2**63 - 1
#: most pages a list may ask for (past the last page is the last page)
MAX_PAGE = 1_000_000_000

_WHOLE_NUMBER = re.compile(r"[0-9]{1,19}")


class InvalidParameter(ValidationError):
    """A query, path or form value that is not what the endpoint takes: 422 naming it (API), 400 (pages)."""


def parse_int(
    raw: str | None,
    field: str,
    *,
    minimum: int = 0,
    maximum: int = MAX_BIG_ID,
    default: int | None = None,
    blank_is_missing: bool = False,
) -> int | None:
    """``raw`` as a whole number from ``minimum`` to ``maximum``; ``default`` when absent (or blank, with
    ``blank_is_missing``: a filter form sends ``?printer=`` for "any"). Raises InvalidParameter naming ``field``
    for anything else."""
    if raw is None:
        return default
    value = raw.strip(" ")
    if value == "" and blank_is_missing:
        return default
    if "\x00" in value:
        raise InvalidParameter.one(field, "must not contain the NUL character")
    if not _WHOLE_NUMBER.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise InvalidParameter.one(field, f"must be a whole number from {minimum} to {maximum}")
    return int(value)


def query_int(
    name: str,
    *,
    minimum: int = 0,
    maximum: int = MAX_BIG_ID,
    default: int | None = None,
    source: Any = None,
    blank_is_missing: bool = False,
) -> int | None:
    """The query parameter ``name`` (or the field of ``source``, e.g. ``request.form``) parsed by
    :func:`parse_int`. Raises InvalidParameter (422 in the API)."""
    values = request.args if source is None else source
    return parse_int(
        values.get(name), name, minimum=minimum, maximum=maximum, default=default, blank_is_missing=blank_is_missing
    )


def page_int(
    name: str, *, minimum: int = 0, maximum: int = MAX_BIG_ID, default: int | None = None, source: Any = None
) -> int | None:
    """:func:`query_int` for staff pages (a blank field is a field left empty): a bad value is a 400 page that
    says what was wrong."""
    try:
        return query_int(name, minimum=minimum, maximum=maximum, default=default, source=source, blank_is_missing=True)
    except InvalidParameter as exc:
        abort(400, description=exc.message)


def session_int(session: Mapping[str, Any], key: str, *, maximum: int = MAX_BIG_ID, default: int = 0) -> int:
    """An int kept in the session, or ``default`` when what is there is not one in range: a cookie written by an
    older version (or by hand) must not break every page."""
    value = session.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        return default
    return value


class IdConverter(IntegerConverter):
    """``<int:...>`` path segments: ASCII digits within the id column's range, else the route does not match
    (404). Werkzeug's own takes any Unicode digit and any length, and a 20-digit id made the database fail."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 0, max: int | None = MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


class BigIdConverter(IdConverter):
    """``<bigint:...>``: ids of ``bigint`` columns."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 0, max: int | None = MAX_BIG_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse_nul() -> None:
    # No name, code or number contains NUL, and PostgreSQL cannot even compare a text with one: a page would fail
    # on whichever query first used the value. JSON bodies are checked by their schemas.
    if "\x00" in request.path or any("\x00" in value for _key, value in request.args.items(multi=True)):
        if request.path.startswith("/api/"):
            raise BadRequest("the URL contains a NUL character")
        abort(400, description="The address contains a NUL character.")
    # Pages only: the API takes no forms, and parsing one here would consume a body the endpoint refuses itself.
    if request.path.startswith("/api/") or request.mimetype not in _FORM_TYPES:
        return
    if any("\x00" in value for _key, value in request.form.items(multi=True)):
        abort(400, description="The form contains a NUL character.")


def init_app(app: Flask) -> None:
    """Register the id converters (before any blueprint adds its rules) and the NUL check of every request's URL
    and form."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["bigint"] = BigIdConverter
    app.before_request(_refuse_nul)
