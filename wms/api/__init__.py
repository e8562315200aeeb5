"""API v1: thin JSON endpoints over the services. Authentication, body parsing and validation live here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import pydantic
from flask import Blueprint, current_app, g, request

from wms.channels.service import Principal, authenticate
from wms.errors import BadRequest, Forbidden, PayloadTooLarge, ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=pydantic.BaseModel)


def _principal() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return authenticate(token.strip())


def require(scope: str) -> Callable[[F], F]:
    """Endpoint decorator: a bearer token of ``scope`` (401 without a valid token, 403 for another scope)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = _principal()
            if principal.scope != scope:
                raise Forbidden(f"this endpoint needs a {scope} token, not a {principal.scope} token")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def parse_body(model: type[M]) -> M:
    """Validate the JSON body against ``model``: 400 for a body that is not JSON, 413 when too large,
    422 listing every invalid field."""
    if request.mimetype != "application/json":
        raise BadRequest("the body must be JSON, sent with Content-Type: application/json")
    limit = current_app.config["MAX_BODY"]
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise BadRequest("the body is not valid JSON", [e["msg"] for e in errors]) from None
        if any(e["type"] == "model_type" and not e["loc"] for e in errors):
            raise BadRequest("the body must be a JSON object") from None
        raise ValidationError([_field_error(e) for e in errors]) from None


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


from wms.api import availability, integration, openapi, orders, webhooks  # noqa: E402,F401
