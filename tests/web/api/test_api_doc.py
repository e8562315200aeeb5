"""The served OpenAPI document and ``docs/api.md`` name the same endpoints, and the app serves exactly what the
OpenAPI document names: an endpoint built but not documented (or documented but missing) fails here. The error
codes of the contract's table are named where the OpenAPI document lists error responses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
#: an endpoint as docs/api.md writes it: `METHOD /api/v1/path` (a query string after it is not part of the path)
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`\s?]*)")
#: a row of the Errors table: | status | when | codes |
ERROR_ROW = re.compile(r"^\| (\d{3}) \|[^|]*\|(.*)\|\s*$")
#: served, but not an operation of the document: it is the document
OPENAPI_URL = ("GET", "/api/v1/openapi.json")

#: Endpoints of docs/api.md that are not built yet. When one is built, take it out of this set and add it to the
#: OpenAPI document (wms/api/openapi.py): the tests below fail until both are done.
NOT_YET_BUILT = {
    # Staff API: floor endpoints
    # Staff API: store endpoints
}


def shape(method: str, path: str) -> tuple[str, str]:
    """``(METHOD, path)`` with every path parameter written ``{}``: docs, OpenAPI and Flask name them differently."""
    path = re.sub(r"<[^>]*>", "{}", path)  # Flask: <int:id>
    return method.upper(), re.sub(r"\{[^}]*\}", "{}", path)


def documented() -> set[tuple[str, str]]:
    return {shape(method, path) for method, path in ENDPOINT.findall(API_DOC.read_text(encoding="utf-8"))}


def error_table() -> dict[str, list[str]]:
    """Status -> the error codes docs/api.md's Errors table lists for it."""
    text = API_DOC.read_text(encoding="utf-8")
    table = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
    rows = (ERROR_ROW.match(line) for line in table.splitlines())
    return {row[1]: re.findall(r"`([a-z_]+)`", row[2]) for row in rows if row}


@pytest.fixture
def openapi(client) -> dict:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.get_json()


def served(openapi: dict) -> set[tuple[str, str]]:
    return {shape(method, path) for path, operations in openapi["paths"].items() for method in operations}


def routes(app) -> set[tuple[str, str]]:
    """Every method and path the app answers under /api/v1."""
    return {
        shape(method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_the_doc_is_read_as_intended():
    # The parsing above must find the contract, or the comparisons below would pass on nothing.
    found = documented()
    assert {shape("PUT", "/api/v1/locations/{code}"), shape("GET", "/api/v1/availability/changes")} <= found
    assert {shape("POST", "/api/v1/staff/tokens"), shape(*OPENAPI_URL)} <= found
    assert len(found) > 35
    assert error_table()["409"] == ["insufficient_stock", "invalid_state", "idempotency_conflict"]
    assert set(error_table()) == {"400", "401", "403", "404", "409", "413", "422"}


def test_every_endpoint_of_the_doc_is_in_the_openapi_document_and_back(openapi):
    expected = documented() - {shape(*e) for e in NOT_YET_BUILT} - {OPENAPI_URL}
    actual = served(openapi)
    assert sorted(expected - actual) == [], "in docs/api.md but not in the OpenAPI document"
    assert sorted(actual - expected) == [], "in the OpenAPI document but not in docs/api.md"


def test_the_app_serves_exactly_the_operations_of_the_openapi_document(app, openapi):
    assert sorted(routes(app) - served(openapi) - {OPENAPI_URL}) == [], "routes missing from the OpenAPI document"
    assert sorted(served(openapi) - routes(app)) == [], "operations of the OpenAPI document the app does not serve"


def test_not_yet_built_is_true(app):
    not_yet = {shape(*e) for e in NOT_YET_BUILT}
    assert sorted(not_yet - documented()) == [], "listed as not yet built but not in docs/api.md"
    assert sorted(not_yet & routes(app)) == [], "built now: take it out of NOT_YET_BUILT and into the OpenAPI document"


def test_error_codes_of_the_contract_are_named_by_the_openapi_error_responses(openapi):
    # Every description (and anything else, such as an enum of codes) of the responses with one status code.
    said: dict[str, str] = {}
    for operations in openapi["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                said[status] = said.get(status, "") + json.dumps(response)
    for status, codes in error_table().items():
        if status not in said:
            continue  # the document lists no such response: nothing to contradict
        missing = [code for code in codes if code not in said[status]]
        assert missing == [], f"the OpenAPI {status} responses never name {missing}"
