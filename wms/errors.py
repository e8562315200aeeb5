"""Domain errors with stable codes, and the one place that maps them to HTTP.

Services raise :class:`WMSError` subclasses; the API answers
``{"error": {"code", "message", "details"}}``. Pages show an error page in the site's layout (not found,
forbidden, a failure on our side) or, for a refused form, flash the message and go back to the page it came from.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, flash, jsonify, redirect, render_template, request
from flask_babel import gettext
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from wms.extensions import db


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


class WrongScan(WMSError):
    """A scan that does not fit the task's next step; nothing changed. ``details``: ``{"expected", "scanned"}``;
    the message says what was expected ("This is A-01-2. Scan bin A-01-1.")."""

    code, status = "wrong_scan", 422


class WrongBin(WrongScan):
    code = "wrong_bin"


class WrongProduct(WrongScan):
    code = "wrong_product"


class WrongLot(WrongScan):
    code = "wrong_lot"


class WrongTote(WrongScan):
    code = "wrong_tote"


class OverQuantity(WrongScan):
    code = "over_quantity"


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


def N_(message: str) -> str:
    """Marks a message for translation (``pybabel extract -k N_``) where it is defined; it is translated when shown,
    in the page's language."""
    return message


#: Page errors: a title and what happened, in words for the person at the counter.
_PAGE_TEXT = {
    400: (N_("Bad request"), N_("The address or the form held something this page cannot use.")),
    401: (N_("Sign in first"), N_("This page is for signed-in staff.")),
    403: (N_("Not allowed"), N_("Your role or your location does not let you open this.")),
    404: (N_("Not found"), N_("There is nothing at this address: it was removed, or the link or code is wrong.")),
    405: (N_("Not allowed here"), N_("This address does not take that kind of request.")),
    409: (N_("Could not be done"), N_("It clashes with how things stand now: reload the page and look again.")),
    413: (N_("Too large"), N_("What was sent is larger than the WMS takes.")),
    422: (N_("Not accepted"), N_("Something entered is not valid.")),
    429: (N_("Too many attempts"), N_("Wait a little, then try again.")),
    500: (
        N_("Something went wrong"),
        N_("An error on our side stopped this page; nothing you did. It has been logged."),
    ),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _challenge(response: Response, status: int) -> tuple[Response, int]:
    # RFC 9110: a 401 names the scheme that would have worked (RFC 6750's Bearer; the API takes nothing else).
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="wms"'
    return response, status


def register_error_handlers(app: Flask, *, safe_path: Callable[[str | None], str | None]) -> None:
    """Map domain errors and HTTP errors to JSON (API) or to pages: an error page in the layout, or for a refused
    form a flashed message and a redirect back. ``safe_path`` returns a path only when it stays on this site
    (``wms.auth.rules.safe_next``; passed in because this module sits below every domain)."""

    def error_page(status: int, detail: str | None = None, reference: str | None = None, headers=None):
        title, what = _PAGE_TEXT.get(status, (f"Error {status}", "The request could not be done."))
        try:
            body = render_template(
                "errors/page.html",
                status=status,
                title=gettext(title),
                what=gettext(what),
                detail=detail,
                reference=reference,
                back=back_to(),
            )
        except Exception:
            # The layout itself failed (the database is gone, say): still say something, never a traceback.
            app.logger.exception("the error page for %s could not be rendered", status)
            body = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(what)}</p>"
        return body, status, headers or {}

    def back_to() -> str | None:
        """The page this request came from, when it is a page of this site other than the one that failed."""
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc and (referrer.netloc != request.host or referrer.scheme not in ("http", "https")):
            return None
        path = safe_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
        if path is None or (referrer.path == request.path and request.method in ("GET", "HEAD")):
            return None  # going back to the page that failed would only fail again
        return path

    @app.errorhandler(WMSError)
    def handle_wms_error(error: WMSError):
        if _wants_json():
            response, status = _challenge(jsonify(error.to_dict()), error.status)
            response.headers.update(getattr(error, "headers", None) or {})
            return response, status
        back = back_to()
        if back and request.method not in ("GET", "HEAD") and error.status not in (401, 403, 404):
            # A refused form: the message on the page it was sent from, where it can be corrected.
            flash(error.message, "error")
            return redirect(back), 303
        return error_page(error.status, error.message, headers=getattr(error, "headers", None))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if not _wants_json():
            status = error.code or 500
            if status < 400:
                return error
            # Werkzeug's stock description says nothing the page does not; a description of our own does.
            detail = error.description if error.description != type(error).description else None
            headers = {k: v for k, v in error.get_headers() if k.lower() in ("allow", "retry-after")}
            return error_page(status, None if status >= 500 else detail, headers=headers)
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
        reference = uuid.uuid4().hex[:12]
        app.logger.exception("unhandled error %s on %s %s", reference, request.method, request.path)
        if _wants_json():
            body = {"error": {"code": "internal_error", "message": "internal error", "details": None}}
            return jsonify(body), 500
        # The failed transaction must not be what the layout (user, print banner) reads through.
        try:
            db.session.rollback()
        except Exception:
            app.logger.exception("rolling back after error %s failed", reference)
        return error_page(500, reference=reference)
