"""Domain errors with stable codes, and the one place that maps them to HTTP.

Services raise :class:`WMSError` subclasses; the API answers
``{"error": {"code", "message", "details"}}``, staff pages flash the message.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, flash, jsonify, redirect, request
from werkzeug.exceptions import HTTPException


class WMSError(Exception):
    """Base of every domain error. ``code`` is stable and part of the public API."""

    code = "error"
    status = 400

    def __init__(self, message: str, details: Any = None, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code
        if status:
            self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(WMSError):
    code, status = "bad_request", 400


class Unauthorized(WMSError):
    code, status = "unauthorized", 401


class Forbidden(WMSError):
    code, status = "forbidden", 403


class NotFound(WMSError):
    code, status = "not_found", 404


class InsufficientStock(WMSError):
    """Not enough available stock; ``details`` lists ``{"sku", "requested", "available"}`` per short line."""

    code, status = "insufficient_stock", 409


class InvalidState(WMSError):
    code, status = "invalid_state", 409


class IdempotencyConflict(WMSError):
    code, status = "idempotency_conflict", 409


class PayloadTooLarge(WMSError):
    code, status = "payload_too_large", 413


class TooManyAttempts(WMSError):
    """Too many failed sign-ins lately; ``retry_after``: seconds until another try is taken (``Retry-After``)."""

    code, status = "too_many_attempts", 429

    def __init__(self, retry_after: int):
        super().__init__(f"too many attempts, try again in {retry_after} s", {"retry_after": retry_after})
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class ValidationError(WMSError):
    """Well-formed but invalid input; ``details`` is a list of ``{"field", "message"}``, every field at once."""

    code, status = "validation_error", 422

    def __init__(self, errors: list[dict[str, str]] | str, field: str | None = None):
        if isinstance(errors, str):
            errors = [{"field": field or "", "message": errors}]
        message = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        super().__init__(message or "invalid input", errors)

    @classmethod
    def one(cls, field: str, message: str) -> ValidationError:
        return cls([{"field": field, "message": message}])


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "invalid_state",
    413: "payload_too_large",
    415: "bad_request",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _challenge(response: Response, status: int) -> tuple[Response, int]:
    # RFC 9110: a 401 names the scheme that would have worked (RFC 6750's Bearer; the API takes nothing else).
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="wms"'
    return response, status


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and HTTP errors to JSON (API) or a flashed message (pages)."""

    @app.errorhandler(WMSError)
    def handle_wms_error(error: WMSError):
        if _wants_json():
            response, status = _challenge(jsonify(error.to_dict()), error.status)
            response.headers.update(getattr(error, "headers", None) or {})
            return response, status
        flash(error.message, "error")
        return redirect(request.referrer or "/"), 303

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if not _wants_json():
            return error
        status = error.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = error.description or error.name
        if status == 413:
            message = f"request body is larger than {app.config['MAX_BODY']} bytes"
        body = {"error": {"code": code, "message": message, "details": None}}
        response, status = _challenge(jsonify(body), status)
        # The exception's own headers that say how to retry: RFC 9110 requires Allow on every 405.
        for name, value in error.get_headers():
            if name.lower() in ("allow", "retry-after"):
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            body = {"error": {"code": "internal_error", "message": "internal error", "details": None}}
            return jsonify(body), 500
        return "Internal error", 500
