"""Every response carries the security headers: pages a policy without outside content or framing, the API one
that allows nothing; a 401 of the API names the Bearer scheme; a chunked body over the limit is refused (413),
never cut."""

from __future__ import annotations

import io
import json
import re

import pytest

from tests.factories import Api, make_world

BASE = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def assert_security_headers(response):
    for name, value in BASE.items():
        assert response.headers.get(name) == value, (name, response.headers)
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    return policy


@pytest.mark.parametrize("url", ["/login", "/", "/products", "/no-such-page", "/print-jobs/99999999999999999999"])
def test_pages_and_their_errors_carry_the_headers(client, url):
    policy = assert_security_headers(client.get(url))
    assert "default-src 'self'" in policy and "script-src" not in policy


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/availability?sku=A"),
        ("GET", "/api/v1/openapi.json"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/nothing-here"),
        ("GET", "/healthz"),
    ],
)
def test_api_responses_carry_the_headers(client, method, url):
    policy = assert_security_headers(client.open(url, method=method))
    if url.startswith("/api/"):
        assert policy.startswith("default-src 'none'")


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_every_401_of_the_api_names_the_bearer_scheme(client, header):
    r = client.get("/api/v1/availability?sku=A", headers={"Authorization": header} if header else {})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json["error"]["code"] == "unauthorized"


def test_a_page_that_uses_a_nonce_gets_it_in_its_policy(app):
    from flask import render_template_string

    with app.test_request_context("/somewhere"):
        html = render_template_string('<script nonce="{{ csp_nonce }}">1</script>')
        response = app.process_response(app.make_response(html))
    nonce = re.search(r'nonce="([^"]+)"', html).group(1)
    assert f"script-src 'self' 'nonce-{nonce}'" in response.headers["Content-Security-Policy"]


# --- bodies without a length ---------------------------------------------------------------------------------


@pytest.fixture
def small_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    monkeypatch.setitem(app.config, "MAX_BODY", 2000)


def chunked(client, url, body: bytes, content_type: str, **headers):
    # What a WSGI server hands over for Transfer-Encoding: chunked: no length, a stream that ends by itself.
    return client.post(
        url,
        input_stream=io.BytesIO(body),
        headers={"Content-Type": content_type, "Transfer-Encoding": "chunked", **headers},
        environ_overrides={"wsgi.input_terminated": True},
    )


def receipt(lines: int) -> bytes:
    body = {"reference": "R-1", "location": "WH1", "bin": "A-01", "lines": [{"sku": "A", "qty": 1}] * lines}
    return json.dumps(body).encode()


def test_a_chunked_json_body_over_the_limit_is_a_413(app, client, small_limit):
    world = make_world(stock_a=0, stock_b=0)
    api = Api(client, world.integration)
    body = receipt(100)
    assert len(body) > 2000
    r = chunked(client, "/api/v1/receipts", body, "application/json", **api._headers())
    assert r.status_code == 413
    assert r.json["error"]["code"] == "payload_too_large"
    small = receipt(3)
    r = chunked(client, "/api/v1/receipts", small, "application/json", **api._headers())
    assert r.status_code == 201, r.get_data(as_text=True)


def test_a_body_of_exactly_the_limit_is_taken(app, client, small_limit):
    world = make_world(stock_a=0, stock_b=0)
    body = receipt(3)
    body = body[:-1] + b" " * (2000 - len(body)) + b"}"
    assert len(body) == 2000
    r = chunked(client, "/api/v1/receipts", body, "application/json", **Api(client, world.integration)._headers())
    assert r.status_code == 201, r.get_data(as_text=True)


def test_a_chunked_form_over_the_limit_is_a_413(client, small_limit):
    form = b"username=boss&password=" + b"x" * 3000
    r = chunked(client, "/login", form, "application/x-www-form-urlencoded")
    assert r.status_code == 413


def test_a_chunked_body_over_the_limit_is_refused_before_the_token_is_checked(client, small_limit):
    r = chunked(client, "/api/v1/receipts", receipt(100), "application/json", Authorization="Bearer nope")
    assert r.status_code == 413
    r = chunked(client, "/api/v1/receipts", receipt(3), "application/json", Authorization="Bearer nope")
    assert r.status_code == 401
