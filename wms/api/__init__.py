"""API v1: thin JSON endpoints over the services. Authentication, body parsing and validation live here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import pydantic
from flask import Blueprint, current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from wms.auth.models import User
from wms.auth.service import known_user
from wms.channels.service import Principal, authenticate
from wms.errors import BadRequest, Forbidden, PayloadTooLarge, Unauthorized, ValidationError
from wms.extensions import csrf, db

bp = Blueprint("api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=pydantic.BaseModel)


@bp.before_request
def _screen_request() -> None:
    # Every endpoint, also those that take no body: a request over the limit is refused before any work.
    limit = current_app.config["MAX_BODY"]
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    if request.content_length is None:
        # A chunked body says its size only by ending: read it now (through wms.security's limit, 413 one byte
        # past it), so that it too is refused before the token is looked up. Kept for the endpoint to parse.
        request.get_data(cache=True)
    # No name contains NUL, and PostgreSQL cannot even compare a text with one: refuse it here rather than fail
    # in the database.
    if "\x00" in request.path or any("\x00" in value for _key, value in request.args.items(multi=True)):
        raise BadRequest("the URL contains a NUL character")


def _principal() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    # PostgreSQL: in the request's own transaction, which its unit of work goes on in (wms.uow); on SQLite a read
    # there would be ended again before a write's BEGIN IMMEDIATE: its own connection costs less.
    session = db.session() if db.engine.dialect.name == "postgresql" else None
    return authenticate(token.strip(), session)


def require(scope: str, staff_roles: tuple[str, ...] | None = None) -> Callable[[F], F]:
    """Endpoint decorator: a bearer token of ``scope`` (401 without a valid token, 403 for another scope).
    A ``station`` token reaches only its own station: the endpoint's ``code`` path parameter (403 otherwise).
    ``staff_roles``: the staff roles that may call it too, as :func:`require_staff` lets them (a staff token, or a
    signed-in page's session with its CSRF token; ``g.user`` and ``g.device`` are set then, else not)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if staff_roles is not None:
                # The endpoint tells a staff caller from a token of ``scope`` by ``g.user``.
                g.pop("user", None)
                g.pop("principal", None)
                if not request.headers.get("Authorization") and current_user.is_authenticated:
                    _staff_with_role(staff_roles, None)
                    return view(*args, **kwargs)
            principal = _principal()
            if staff_roles is not None and principal.scope == "staff":
                _staff_with_role(staff_roles, principal)
                return view(*args, **kwargs)
            if principal.scope != scope:
                raise Forbidden(f"this endpoint needs a {scope} token, not a {principal.scope} token")
            if scope == "station" and kwargs.get("code") != principal.station_code:
                raise Forbidden("this token belongs to another station", {"station": principal.station_code})
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def require_staff(*roles: str) -> Callable[[F], F]:
    """Endpoint decorator of the staff API: a staff bearer token, or the session of a signed-in user (the /hh
    pages) with the CSRF token in an ``X-CSRFToken`` header on anything but GET/HEAD/OPTIONS. Puts the User on
    ``g.user`` and the device its token was issued to (or None) on ``g.device``.

    401 without either; 403 for another kind of token, a missing or wrong CSRF token, or a role not in ``roles``
    (no ``roles``: every staff role).
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            _staff_with_role(roles, None)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _staff_with_role(roles: tuple[str, ...], principal: Principal | None) -> None:
    """Put the staff caller on ``g.user`` and ``g.device``; 403 for a role not in ``roles`` (none: every role)."""
    g.user, g.device = _staff_caller(principal)
    if roles and g.user.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)}", {"role": g.user.role})


def _staff_caller(principal: Principal | None = None) -> tuple[User, str | None]:
    if principal is not None or request.headers.get("Authorization"):
        principal = principal or _principal()
        if principal.scope != "staff":
            raise Forbidden(f"this endpoint needs a staff token, not a {principal.scope} token")
        g.principal = principal
        user = known_user(principal.user_id, principal.username, principal.role, principal.location_id)
        return user, principal.device
    if not current_user.is_authenticated:
        raise Unauthorized("sign in, or send a staff bearer token")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            csrf.protect()  # the API blueprint is exempt as a whole: cookie callers are checked here
        except CSRFError as exc:
            raise Forbidden(f"CSRF check failed: {exc.description}") from None
    return current_user._get_current_object(), None


def field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def parse_body(model: type[M], path_errors: list[dict[str, str]] | None = None) -> M:
    """Validate the JSON body against ``model``: 400 for a body that is not JSON, 413 when too large,
    422 listing every invalid field (with ``path_errors``, the invalid path parameters, first)."""
    if request.mimetype != "application/json":
        raise BadRequest("the body must be JSON, sent with Content-Type: application/json")
    limit = current_app.config["MAX_BODY"]
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    try:
        body = model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise BadRequest("the body is not valid JSON", [e["msg"] for e in errors]) from None
        if any(e["type"] == "model_type" and not e["loc"] for e in errors):
            raise BadRequest("the body must be a JSON object") from None
        raise ValidationError((path_errors or []) + [_field_error(e) for e in errors]) from None
    if path_errors:
        raise ValidationError(path_errors)
    return body


def parse_no_body() -> None:
    """For a POST that takes no body: nothing, or a JSON object (ignored). 400 for anything else, so that a
    client that sent something by mistake learns it before anything changes."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    if request.mimetype != "application/json":
        raise BadRequest("the body must be JSON, sent with Content-Type: application/json")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON", [str(exc)]) from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")


_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def check_path(
    codes: dict[str, tuple[str, int]] | None = None, skus: dict[str, tuple[str, int]] | None = None
) -> list[dict[str, str]]:
    """Path parameters that cannot be stored, as 422 details for :func:`parse_body`. ``codes`` and ``skus`` map
    a parameter's name to (value, longest length); a code must look like the codes bodies accept, a sku must
    have no surrounding blanks (bodies strip them, so they could never name it)."""
    errors = []
    for name, (value, longest) in (codes or {}).items():
        if len(value) > longest:
            errors.append({"field": name, "message": f"must be at most {longest} characters"})
        elif not _CODE.fullmatch(value):
            errors.append(
                {"field": name, "message": "letters, digits and . _ / - only, starting with a letter or digit"}
            )
    for name, (value, longest) in (skus or {}).items():
        if len(value) > longest:
            errors.append({"field": name, "message": f"must be at most {longest} characters"})
        elif not value.strip() or value != value.strip() or not value.isprintable():
            errors.append({"field": name, "message": "must be printable, without leading or trailing blanks"})
    return errors


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    message = error["msg"]
    path = field_path(error["loc"])
    # Model-level rules say "field: message" to name the field they are about.
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
        head, sep, rest = message.partition(": ")
        if sep and " " not in head:
            return {"field": f"{path}.{head}" if path else head, "message": rest}
    if error["type"] == "missing":
        message = "is required"
    return {"field": path, "message": message}


from wms.api import (  # noqa: E402,F401
    availability,
    counts,
    integration,
    openapi,
    orders,
    pickups,
    returns,
    shipments,
    staff,
    stations,
    tasks,
    transfers,
    waves,
    webhooks,
)
