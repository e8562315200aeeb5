"""Security headers on every response: pages and the JSON API.

Pages load nothing from elsewhere and run no inline script unless the page asked for a nonce
(``{{ csp_nonce }}`` in a template, ``csp_nonce()`` in a view): then its own inline ``<script>`` and
``<style>`` blocks carrying that nonce run, and nothing else inline does. No page may be framed (clickjacking)
and no response may be sniffed into another type. A blueprint that sets its own Content-Security-Policy keeps
it; the other headers are added to every response.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_content_length

#: on every response, pages and API
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
#: pages: no script, nothing from elsewhere, never framed
STRICT_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: the JSON API: nothing a browser could render or run
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def csp_nonce() -> str:
    """The nonce of this response's inline scripts and styles (made on first use, one per request)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def nonce_csp(nonce: str) -> str:
    """The page policy that also lets inline blocks carrying ``nonce`` run."""
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


class _LazyNonce:
    """``{{ csp_nonce }}`` in any template: the nonce is made only when a page uses it, so a page without inline
    blocks keeps the policy without any."""

    def __str__(self) -> str:
        return csp_nonce()

    __html__ = __str__


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        policy = API_CSP
    elif "csp_nonce" in g:
        policy = nonce_csp(g.csp_nonce)
    else:
        policy = STRICT_CSP
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


class _StrictBodyLimit:
    """A request body without a length (``Transfer-Encoding: chunked``) read through this raises 413 past
    ``limit`` bytes. Werkzeug stops reading such a body at the limit without saying so, which cut a JSON body
    or a form silently instead of refusing it."""

    def __init__(self, stream: Any, limit: int):
        self._stream = stream
        self._limit = limit
        self._read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read() if size is None or size < 0 else self._stream.read(size)
        self._read += len(data)
        if self._read > self._limit or (self._read == self._limit and data and self._stream.read(1)):
            raise RequestEntityTooLarge()
        return data


class _BodyLimitMiddleware:
    def __init__(self, wsgi_app: Any, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        # Werkzeug's rule for "no length": no Content-Length, or one it ignores because the body is chunked.
        if limit is not None and get_content_length(environ) is None and "wsgi.input" in environ:
            environ["wsgi.input"] = _StrictBodyLimit(environ["wsgi.input"], int(limit))
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = _BodyLimitMiddleware(app.wsgi_app, app)  # type: ignore[method-assign]
    app.after_request(_add_headers)
    app.context_processor(lambda: {"csp_nonce": _LazyNonce()})
