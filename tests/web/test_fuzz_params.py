"""Odd values in every route's query and path parameters: never a 5xx, and nothing changes.

The routes come from ``app.url_map``, so a new route is covered without touching this file. For each route and
each of its parameters (the path's, the query names its view reads, and a few every list takes), hypothesis
draws odd values (Unicode digits, huge and negative numbers, NUL, blanks, very long text, percent-encoded junk)
and sends them with the credentials the route wants: a signed-in manager for pages, the token of the scope the
endpoint requires in the API. The other parameters stay valid, so a value is judged by the code that parses it.
After each route's examples every table holds as many rows as before and the ledger and stock are unchanged.

The number of requests sent is printed at the end of the run ("fuzz: N requests").
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import _clean
from tests.factories import make_channel, make_world, stock_snapshot
from tests.integration.printing.station_helpers import make_station, station_token
from tests.web.staff import PASSWORD, new_client, sign_in
from wms import create_app
from wms.auth.service import create_user
from wms.extensions import db
from wms.stock.models import StockMovement

#: drawn examples per (route, parameter), besides the four fixed ones; CI runs them on SQLite and PostgreSQL
EXAMPLES = 4
#: routes that end the caller's own session or token: a change by design, not a parsing question
SKIP_ENDPOINTS = {"auth.logout", "api.revoke_current_staff_token"}
#: requests that record a row by design whatever their parameters ("Check now"; the change feed notes the position a
#: channel has read, for the managers' feed-lag exception): that table may change, nothing else
RECORDS_BY_DESIGN = {"dashboard.run_stock_check": {"stock_check"}, "api.get_changes": {"channel_feed_read"}}
#: query names every route gets, whether or not its view reads them (a list's paging, a cursor)
COMMON_QUERY = ("limit", "after")
#: a valid value for each path parameter, by name (``code`` depends on the route)
VALID_PATH = {
    "sku": "A",
    "bin_code": "A-01",
    "kind": "product",
    "fmt": "zpl",
    "filename": "app.css",
    "order_id": "1",
    "job_id": "1",
    "webhook_id": "1",
    "printer_id": "1",
}

_QUERY_NAME = re.compile(
    r"""(?:args\.get(?:list)?\(\s*|args\[\s*|(?:query_int|page_int|_int_arg)\(\s*)"(\w+)\""""
    r"""|"(\w+)" in (?:request\.)?args\b"""
)
_FORM_NAME = re.compile(r"""(?:request\.form\.get\(\s*|request\.form\[\s*|source=request\.form.*?)"(\w+)\"""")
_SCOPE = re.compile(r"""@require\("(\w+)"\)|@(require_staff)\b""")

# Values sent as they are: percent-encodings that are broken, overlong or decode to surrogates or NUL.
RAW_JUNK = ["%", "%zz", "%00", "%C0%AF", "%ED%A0%80", "%FF%FE", "%E2%80%AE", "..%2F..%2F", "%25%32%35", "a%0D%0Ab"]
ODD = [
    "²",
    "٣",
    "１２",
    "𝟙",
    "Ⅻ",
    "\ufeff1",
    "-1",
    "-0",
    "+1",
    "1e3",
    "0x10",
    "1.5",
    " 7 ",
    "99999999999999999999",
    "9223372036854775808",
    "18446744073709551616",
    "9" * 5000,
    "",
    " ",
    "\x00",
    "1\x00",
    "\r\n",
    "\t",
    "null",
    "NaN",
    "true",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "'; DROP TABLE product;--",
    "A" * 3000,
    "\u202e",
    "../..",
    "\\",
    "//evil.example",
]
odd_values = st.one_of(
    st.sampled_from(ODD).map(lambda v: (v, False)),
    st.sampled_from(RAW_JUNK).map(lambda v: (v, True)),
    st.integers(min_value=2**31, max_value=2**80).map(lambda n: (str(n), False)),
    st.integers(min_value=-(2**80), max_value=-1).map(lambda n: (str(n), False)),
    st.text(max_size=40).map(lambda v: (v, False)),
)


def _view_source(app, endpoint: str) -> str:
    view = inspect.unwrap(app.view_functions[endpoint])
    try:
        return inspect.getsource(view)
    except (OSError, TypeError):
        return ""


def targets() -> list[tuple[str, str, str, str]]:
    """(method, rule, endpoint, parameter) for every route and parameter: ``path:<name>``, ``query:<name>`` or
    ``form:<name>``."""
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        source = _view_source(app, rule.endpoint)
        queries = dict.fromkeys([*(a or b for a, b in _QUERY_NAME.findall(source)), *COMMON_QUERY])
        # A page's POST may read a name from its form through the same helpers: try each name both ways.
        forms = dict.fromkeys([*_FORM_NAME.findall(source), *(a or b for a, b in _QUERY_NAME.findall(source))])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            params = [f"path:{name}" for name in sorted(rule.arguments)]
            params += [f"query:{name}" for name in queries]
            if method != "GET" and not rule.rule.startswith("/api/"):
                params += [f"form:{name}" for name in forms]
            found += [(method, rule.rule, rule.endpoint, param) for param in params]
    return found


TARGETS = targets()


class Sent:
    requests = 0


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
            reporter.ensure_newline()
            reporter.write_line(f"\nfuzz: {Sent.requests} requests over {len(TARGETS)} route parameters")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request) -> Iterator[dict]:
    """One world for the module (the test changes nothing, and checks it): WH1 and stores with stock, tokens of
    every scope, a station, and a signed-in manager."""
    app = request.getfixturevalue("sqlite_app_session" if request.param == "sqlite" else "pg_app_session")
    _clean(app)
    saved = {key: app.config.get(key) for key in ("STATION_EVENTS_SECONDS", "STATION_EVENTS_POLL")}
    app.config.update(STATION_EVENTS_SECONDS=0.05, STATION_EVENTS_POLL=0.01)
    with app.app_context():
        made = make_world(stock_a=10, stock_b=5)
        make_station("ST1-C1", "ST1")
        tokens = {
            "integration": made.integration,
            "channel": made.web,
            "station": station_token("ST1-C1"),
            "other_channel": make_channel("SHOP2"),
        }
        create_user("boss", "manager", None, PASSWORD)
        client = new_client(app)
        sign_in(client, "boss")
        yield {"app": app, "client": client, "tokens": tokens}
        db.session.remove()
    app.config.update(saved)
    _clean(app)


def snapshot(ignore: frozenset[str] | set[str] = frozenset()) -> dict:
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name in ("alembic_version", *ignore):
            continue
        counts[table.name] = db.session.execute(select(func.count()).select_from(table)).scalar_one()
    ledger = db.session.execute(select(func.coalesce(func.sum(StockMovement.qty), 0))).scalar_one()
    db.session.rollback()
    return {"counts": counts, "ledger": ledger, "stock": stock_snapshot()}


def build(rule: str, param: str, value: str, raw: bool) -> tuple[str, dict[str, str]]:
    """The URL (path and query) and form of one request: ``value`` in ``param``, valid values elsewhere."""
    encoded = value if raw else quote(value, safe="")
    kind, _, name = param.partition(":")
    form: dict[str, str] = {}

    def path_value(match: re.Match) -> str:
        arg = match.group(2)
        if kind == "path" and arg == name:
            return encoded
        if arg == "code":
            return "ST1-C1" if rule.startswith(("/stations", "/api/v1/stations")) else "WH1"
        return VALID_PATH.get(arg, "1")

    path = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", path_value, rule)
    query = ""
    if kind == "query":
        query = f"?{name}={encoded}"
    elif kind == "form":
        form[name] = value
    return path + query, form


def credentials(world, rule: str, endpoint: str) -> dict[str, str]:
    if not rule.startswith("/api/"):
        return {}
    match = _SCOPE.search(_view_source(world["app"], endpoint))
    if match is None or match.group(2):  # public, or staff: the manager's session cookie
        return {}
    return {"Authorization": f"Bearer {world['tokens'][match.group(1)]}"}


@pytest.mark.parametrize(("method", "rule", "endpoint", "param"), TARGETS, ids=lambda v: str(v)[:60])
def test_odd_parameters_never_fail_and_change_nothing(world, method, rule, endpoint, param):
    app, client = world["app"], world["client"]
    headers = credentials(world, rule, endpoint)
    ignore = RECORDS_BY_DESIGN.get(endpoint, set())
    with app.app_context():
        before = snapshot(ignore)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(odd=odd_values)
    @example(odd=("²", False))  # the reported ones, every time: a Unicode digit, ids past 32 and 64 bits, NUL
    @example(odd=("2147483648", False))
    @example(odd=("99999999999999999999", False))
    @example(odd=("\x00", False))
    def send(odd):
        value, raw = odd
        url, form = build(rule, param, value, raw)
        kwargs = {"data": form} if form else {}
        if method in ("POST", "PUT") and not form and rule.startswith("/api/"):
            kwargs = {"json": {}}
        response = client.open(url, method=method, headers=headers, **kwargs)
        Sent.requests += 1
        body = response.get_data()  # streamed answers fail while they are read
        assert response.status_code < 500, (method, url[:200], response.status_code, body[:300])

    send()
    with app.app_context():
        assert snapshot(ignore) == before, (method, rule, param)
