"""Schemathesis, an independent client driven only by ``/api/v1/openapi.json``, against the app in process.

For every operation it generates requests the document allows (a bounded number each) and checks that the app
never answers 5xx, that every answer conforms to the document (status, content type, body schema), and that no
allowed request is refused, except where the document cannot know the answer: an unknown reference (404 for
an id or code in the path, 422 naming an unknown sku or location inside a body) and a refusal the state of the
stock decides (409). Requests the document forbids never give a 5xx either. Every 405 carries the ``Allow``
header RFC 9110 requires. Run with ``-s`` to see how many requests were sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    CheckContext,
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import make_world
from tests.integration.printing.station_helpers import make_station, station_token
from wms.api.openapi import ENDPOINTS
from wms.auth.service import create_user
from wms.channels.service import create_token

#: generated requests per operation: enough to meet every branch of a schema, few enough for a quick suite
EXAMPLES_PER_OPERATION = 20
NEGATIVE_EXAMPLES_PER_OPERATION = 10
STATION = "ST1-C1"

#: refusals an allowed request may get, because they depend on what exists, not on the request's shape
EXPECTED_REFUSALS = {404, 409}
#: a 422 detail about a fact the document cannot state: what exists (an unknown sku or location inside a body,
#: a barcode another product has), a GTIN's check digit, the time zones the server's tz database knows, one field
#: bounded by another (a max at least the min)
_UNKNOWN_REFERENCE = re.compile(
    r"unknown (sku|location|bin|product|station|printer)|^no (product|location|bin|order|printer|job)"
    r"|does not offer pickup|belongs to another product|wrong check digit|is not an IANA time zone"
    r"|^at least the min \(",
    re.IGNORECASE,
)

OPERATIONS = [(method.upper(), f"/api/v1{path}") for method, path, *_ in ENDPOINTS]
requests_sent = {"count": 0}


def _refers_to_something_unknown(response) -> bool:
    try:
        details = response.json()["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return False
    return (
        isinstance(details, list)
        and bool(details)
        and all(isinstance(d, dict) and _UNKNOWN_REFERENCE.search(str(d.get("message", ""))) for d in details)
    )


def allowed_request_is_accepted(ctx: CheckContext, response, case) -> None:
    status = response.status_code
    if status < 400 or status >= 500 or status in EXPECTED_REFUSALS:
        return
    if not case.operation.definition.raw.get("security") and status in (401, 429):
        return  # signing in: which names and passwords exist is data (and failures are throttled)
    if status == 422 and _refers_to_something_unknown(response):
        return
    raise AssertionError(
        f"{case.operation.label} refused a request its schema allows: {status} {response.text[:500]}\n"
        f"path={case.path_parameters} query={case.query} body={case.body!r}"
    )


@pytest.fixture
def tokens(app) -> dict[str, Callable[[], str]]:
    """A token of each scope, by scope; staff tokens are new each time (signing out revokes one)."""
    world = make_world(stock_a=50, stock_b=50)
    make_station(STATION, "ST1")
    create_user("manager", "manager", password="manager-password")
    station = station_token(STATION)
    return {
        "integration": lambda: world.integration,
        "channel": lambda: world.web,
        "station": lambda: station,
        "staff": lambda: create_token("staff", username="manager"),
    }


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_allowed_requests_are_accepted_and_answers_match_the_document(app, tokens, method, path):
    fuzz(
        app,
        tokens,
        method,
        path,
        GenerationMode.POSITIVE,
        EXAMPLES_PER_OPERATION,
        [
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            allowed_request_is_accepted,
        ],
    )


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_requests_the_document_forbids_never_give_5xx(app, tokens, method, path):
    """Wrong types, missing fields, values out of bounds: refused with a 4xx, never a server error. (Whether each
    is refused is not checked: unknown query parameters are ignored on purpose, as unknown body keys are.)"""
    fuzz(app, tokens, method, path, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES_PER_OPERATION, [not_a_server_error])


def fuzz(app, tokens, method: str, path: str, mode: GenerationMode, examples: int, checks: list) -> None:
    """Send ``examples`` requests of ``mode`` generated for the operation, each checked by ``checks``."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    scope = _scope(operation)
    # A station token reaches only its own station; the long poll would hold every example for up to 25 s.
    fixed_path = {"code": STATION} if scope == "station" else None
    fixed_query = {"wait": 0} if path.endswith("/jobs") and method == "GET" else None

    @settings(
        max_examples=examples, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(mode, path_parameters=fixed_path, query=fixed_query))
    def run(case):
        requests_sent["count"] += 1
        headers = {"Authorization": f"Bearer {tokens[scope]()}"} if scope else {}
        case.validate_response(case.call(headers=headers), checks=checks)

    run()


def _scope(operation) -> str | None:
    security = operation.definition.raw["security"]
    return next(iter(security[0])) if security else None


@pytest.fixture(scope="module", autouse=True)
def report_requests_sent():
    yield
    print(f"\nschemathesis sent {requests_sent['count']} requests")


#: a value for each path parameter that routes (the 405 check needs a path that exists)
_SAMPLE_PATH_VALUES = {"code": "WH1", "location": "WH1", "bin": "A-01", "sku": "A", "id": "1"}


def test_every_405_carries_the_allow_header(app, tokens):
    """RFC 9110: a 405 lists the methods the resource supports, here at least the documented ones."""
    document = app.test_client().get("/api/v1/openapi.json").json
    checked = 0
    for path, operations in document["paths"].items():
        url = re.sub(r"\{(\w+)\}", lambda m: _SAMPLE_PATH_VALUES[m.group(1)], path)
        documented = {method.upper() for method in operations}
        for method in {"GET", "PUT", "POST", "DELETE", "PATCH"} - documented:
            response = app.test_client().open(url, method=method)
            assert response.status_code == 405, (method, url, response.status_code)
            assert response.json["error"]["code"] == "method_not_allowed"
            allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
            assert documented <= allowed, (method, url, response.headers.get("Allow"))
            checked += 1
    assert checked > 50
