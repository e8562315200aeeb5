"""The ``wms`` commands, run with Flask's CLI runner against the test app (and ``wms serve`` as a real process)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from click import _termui_impl as click_termui
from flask_migrate import upgrade
from sqlalchemy import select, text

from tests.factories import add_stock, fast_password_hashing, make_bin, make_location, make_product
from wms import create_app
from wms.auth.service import authenticate_user, find_user, resume_session, start_session
from wms.catalog.models import Product
from wms.channels.models import Channel
from wms.channels.service import authenticate, list_tokens
from wms.cli import main
from wms.errors import Unauthorized
from wms.extensions import db


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def wms(app):
    """Run ``wms ARGS`` against the test app; returns click's Result."""
    runner = app.test_cli_runner()

    def run(*args, input=None):
        result = runner.invoke(main, list(args), input=input)
        db.session.rollback()  # see what the command committed
        return result

    return run


def one_line_error(result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], result.stderr


# --- create-user -------------------------------------------------------------------------------------------


def test_create_user_with_password(wms):
    make_location("ST1", "store")
    result = wms("create-user", "Kasia", "--role", "clerk", "--location", "ST1", "--password", "sekret-123")
    assert result.exit_code == 0, result.output
    assert "created clerk kasia at ST1" in result.stdout
    assert authenticate_user("kasia", "sekret-123").location.code == "ST1"


def test_create_user_asks_for_the_password_twice(wms):
    # The first pair differs: asked again; the second pair matches.
    result = wms("create-user", "boss", "--role", "manager", input="sekret-123\nsekret-124\nsekret-123\nsekret-123\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert "sekret-123" not in result.output  # hidden input is not echoed
    assert authenticate_user("boss", "sekret-123") is not None


def test_create_user_with_a_language(wms):
    make_location("WH1", "warehouse")
    password = ["--password", "sekret-123"]
    result = wms("create-user", "ola", "--role", "picker", "--location", "WH1", *password, "--language", "pl")
    assert result.exit_code == 0, result.output
    assert find_user("ola").language == "pl"
    result = wms("create-user", "hans", "--role", "manager", *password, "--language", "de")
    assert result.exit_code == 2 and "'de' is not one of 'pl', 'en'" in result.output
    assert find_user("hans") is None


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--role", "clerk"], "a clerk needs a home location"),
        (["--role", "clerk", "--location", "WH1"], "must be a store"),
        (["--role", "picker", "--location", "NOPE"], "unknown location 'NOPE'"),
        (["--role", "manager", "--password", "short"], "at least 8 characters"),
    ],
)
def test_create_user_errors_are_one_line(wms, args, fragment):
    make_location("WH1", "warehouse")
    if "--password" not in args:
        args = [*args, "--password", "sekret-123"]
    result = wms("create-user", "piotr", *args)
    one_line_error(result, fragment)
    assert find_user("piotr") is None


def test_create_user_twice(wms):
    assert wms("create-user", "boss", "--role", "admin", "--password", "sekret-123").exit_code == 0
    one_line_error(wms("create-user", "BOSS", "--role", "admin", "--password", "sekret-123"), "exists already")


def test_create_user_unknown_role_is_a_usage_error(wms):
    result = wms("create-user", "x", "--role", "owner", "--password", "sekret-123")
    assert result.exit_code == 2 and "owner" in result.output


# --- create-channel, create-token ----------------------------------------------------------------------------


def test_create_channel_prints_a_token_that_authenticates(wms):
    make_location("WH1", "warehouse")
    make_location("ST2", "store", ships=True)
    result = wms("create-channel", "WEB", "--name", "Sklep internetowy", "--ship-from", "WH1, ST2", "--buffer", "3")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()  # stdout is the token alone, for TOKEN=$(wms create-channel ...)
    principal = authenticate(token)
    assert principal.scope == "channel" and principal.channel_code == "WEB" and principal.channel_buffer == 3
    channel = db.session.execute(select(Channel).where(Channel.code == "WEB")).scalar_one()
    assert channel.name == "Sklep internetowy"
    assert [link.location.code for link in channel.ship_from] == ["WH1", "ST2"]
    assert "ships from WH1, ST2" in result.stderr and "shown only now" in result.stderr


def test_create_channel_errors(wms):
    one_line_error(wms("create-channel", "WEB", "--ship-from", "NOPE"), "unknown location(s): NOPE")
    assert wms("create-channel", "WEB").exit_code == 0
    one_line_error(wms("create-channel", "WEB"), "channel WEB exists already")
    assert wms("create-channel", "APP", "--buffer", "-1").exit_code == 2


def test_create_token_prints_an_integration_token(wms):
    result = wms("create-token", "--scope", "integration", "--name", "ERP")
    assert result.exit_code == 0, result.output
    assert authenticate(result.stdout.strip()).scope == "integration"
    assert wms("create-token", "--scope", "channel").exit_code == 2


def test_create_token_for_staff_and_with_an_expiry(wms):
    make_location("WH1", "warehouse")
    assert (
        wms("create-user", "piotr", "--role", "picker", "--location", "WH1", "--password", "sekret-123").exit_code == 0
    )
    result = wms("create-token", "--scope", "staff", "--user", "Piotr", "--device", "TC52 #7")
    assert result.exit_code == 0, result.output
    principal = authenticate(result.stdout.strip())
    assert (principal.scope, principal.username, principal.device) == ("staff", "piotr", "TC52 #7")
    result = wms("create-token", "--scope", "integration", "--name", "ERP", "--expires-in", "30")
    assert result.exit_code == 0 and "expires in 30 days" in result.stderr
    (erp,) = [t for t in list_tokens() if t.name == "ERP"]
    assert (erp.expires_at.replace(tzinfo=None) - erp.created_at.replace(tzinfo=None)).days == 30
    assert wms("create-token", "--scope", "staff").exit_code == 2  # which user?
    assert wms("create-token", "--scope", "integration", "--user", "piotr").exit_code == 2
    assert wms("create-token", "--scope", "integration", "--expires-in", "0").exit_code == 2
    one_line_error(wms("create-token", "--scope", "staff", "--user", "ghost"), "unknown user 'ghost'")


# --- tokens, revoke-token, users ------------------------------------------------------------------------------


def test_tokens_lists_every_token_and_never_a_secret(wms):
    make_location("WH1", "warehouse")
    channel = wms("create-channel", "WEB").stdout.strip()
    erp = wms("create-token", "--scope", "integration", "--name", "ERP", "--expires-in", "7").stdout.strip()
    wms("create-user", "piotr", "--role", "picker", "--location", "WH1", "--password", "sekret-123")
    staff = wms("create-token", "--scope", "staff", "--user", "piotr").stdout.strip()
    authenticate(erp)
    result = wms("tokens")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "id",
        "scope",
        "name",
        "channel/station/user",
        "created",
        "last",
        "used",
        "expires",
        "revoked",
    ]
    assert len(lines) == 4
    assert "channel" in lines[1] and "WEB" in lines[1]
    assert "ERP" in lines[2] and lines[2].count("-") >= 4  # last used, expires: dates; revoked: "-"
    assert "piotr" in lines[3]
    for token in (channel, erp, staff):
        assert token not in result.output and token[5:15] not in result.output


def test_revoke_token_refuses_its_next_request(wms):
    token = wms("create-token", "--scope", "integration", "--name", "ERP").stdout.strip()
    (listed,) = list_tokens()
    result = wms("revoke-token", str(listed.id))
    assert result.exit_code == 0 and f"revoked integration token {listed.id} (ERP)" in result.stdout
    with pytest.raises(Unauthorized):
        authenticate(token)
    assert list_tokens()[0].revoked_at is not None
    one_line_error(wms("revoke-token", "999"), "no token 999")
    assert wms("revoke-token", "abc").exit_code == 2


def test_deactivate_and_activate_user(wms):
    make_location("WH1", "warehouse")
    wms("create-user", "piotr", "--role", "picker", "--location", "WH1", "--password", "sekret-123")
    token = wms("create-token", "--scope", "staff", "--user", "piotr").stdout.strip()
    _, key = start_session("piotr", "sekret-123", "127.0.0.1")
    result = wms("deactivate-user", "PIOTR")
    assert result.exit_code == 0 and "deactivated piotr" in result.stdout
    assert authenticate_user("piotr", "sekret-123") is None
    with pytest.raises(Unauthorized):
        authenticate(token)
    assert resume_session(str(find_user("piotr").id), key) is None
    result = wms("activate-user", "piotr")
    assert result.exit_code == 0 and "activated piotr" in result.stdout
    assert authenticate_user("piotr", "sekret-123") is not None
    one_line_error(wms("deactivate-user", "ghost"), "no user 'ghost'")
    one_line_error(wms("activate-user", "ghost"), "no user 'ghost'")


def test_set_password_asks_twice_hidden_and_ends_sessions(wms):
    wms("create-user", "boss", "--role", "manager", "--password", "sekret-123")
    _, key = start_session("boss", "sekret-123", "127.0.0.1")
    result = wms("set-password", "Boss", input="nowe-haslo-1\nnowe-haslo-2\nnowe-haslo-1\nnowe-haslo-1\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and "nowe-haslo" not in result.output
    assert "changed the password of boss" in result.stdout
    assert authenticate_user("boss", "nowe-haslo-1") is not None
    assert authenticate_user("boss", "sekret-123") is None
    assert resume_session(str(find_user("boss").id), key) is None
    result = wms("set-password", "boss", input="short\nshort\n")
    one_line_error(result, "at least 8 characters")
    assert wms("set-password", "ghost").exit_code == 1


# --- import-products ---------------------------------------------------------------------------------------

GOOD = [
    "KT-1,Patelnia żeliwna 24 cm,5907712000012,no",
    'GD-1,"Nasiona bazylii, 10 g",5907712000029|5901113000015,yes',
    "TL-1,Młotek 500 g,,",
]


def _csv(tmp_path, lines, name="products.csv", header="sku,name,barcodes,track_lots", bom=False):
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + "\n".join([header, *lines]) + "\n", encoding="utf-8")
    return str(path)


def test_import_products_reports_each_failed_line(wms, tmp_path):
    bad = [
        "KT-2,Nóż 20 cm,5907712000013,no",  # wrong check digit
        "KT-3,,5907712000036,no",  # a new product needs a name
        ",Bez sku,,",
        "KT-4,Deska,5907712000012,no",  # the barcode of KT-1
    ]
    result = wms("import-products", _csv(tmp_path, [*GOOD, *bad]))
    assert result.exit_code == 1, result.output
    assert "created 3, updated 0, failed 4" in result.stdout
    errors = result.stderr
    assert "line 5: barcodes[0]: 5907712000013 has a wrong check digit" in errors
    assert "line 6: name: is required for a new product" in errors
    assert "line 7: sku is empty" in errors
    assert "line 8: barcodes[0]: already belongs to KT-1" in errors
    assert "Traceback" not in result.output
    products = {p.sku: p for p in db.session.execute(select(Product)).scalars()}
    assert set(products) == {"KT-1", "GD-1", "TL-1"}
    assert products["GD-1"].track_lots and products["GD-1"].name == "Nasiona bazylii, 10 g"
    assert [b.code for b in products["GD-1"].barcodes] == ["5907712000029", "5901113000015"]


def test_import_products_again_updates_and_exits_0(wms, tmp_path):
    assert wms("import-products", _csv(tmp_path, GOOD)).exit_code == 0
    renamed = [GOOD[0].replace("24 cm", "26 cm"), *GOOD[1:]]
    result = wms("import-products", _csv(tmp_path, renamed, bom=True, header="sku, name, barcodes, track_lots"))
    assert result.exit_code == 0, result.output
    assert "created 0, updated 3, failed 0" in result.stdout
    assert db.session.execute(select(Product.name).where(Product.sku == "KT-1")).scalar_one().endswith("26 cm")


def test_import_products_draws_its_progress_bar(wms, tmp_path, monkeypatch):
    # The runner's stderr is not a terminal, where click hides the bar: pretend it is one, so the bar is drawn.
    monkeypatch.setattr(click_termui, "isatty", lambda _stream: True)
    lines = [f"SKU-{n},Produkt {n},," for n in range(7)]
    result = wms("import-products", "--batch-size", "2", _csv(tmp_path, lines))
    assert result.exit_code == 0, result.output
    assert "importing 7 products" in result.stderr and "100%" in result.stderr
    assert "created 7, updated 0, failed 0" in result.stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("name,barcodes\nX,\n", "has no sku column"),
        (b"sku,name\n\xff\xfe,x\n", "is not UTF-8 text"),
    ],
)
def test_import_products_refuses_unreadable_files(wms, tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    one_line_error(wms("import-products", str(path)), fragment)


def test_import_products_missing_file(wms, tmp_path):
    result = wms("import-products", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "does not exist" in result.output


# --- check -------------------------------------------------------------------------------------------------


def test_check_is_clean_then_finds_a_tampered_quant(wms):
    make_location("WH1", "warehouse")
    make_bin("WH1", "A-01")
    make_product("A")
    add_stock("WH1", "A-01", "A", 5)
    result = wms("check")
    assert result.exit_code == 0 and "stock agrees with the ledger" in result.stdout
    db.session.execute(text("UPDATE stock_quant SET qty = qty + 1"))
    db.session.commit()
    result = wms("check")
    assert result.exit_code == 1
    assert "quant A in WH1/A-01 (sellable): ledger says 5, stored 6" in result.stderr


# --- no schema, serve --------------------------------------------------------------------------------------


@pytest.fixture
def empty_app(tmp_path):
    empty = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}", "SECRET_KEY": "x", "TESTING": True})
    with empty.app_context():
        yield empty
        db.session.remove()
        db.engine.dispose()


def test_commands_on_a_database_without_schema_say_what_to_do(empty_app):
    runner = empty_app.test_cli_runner()
    for args in (["check"], ["serve"], ["create-token", "--scope", "integration"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output
        assert "wms db upgrade" in result.output, result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=2) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_serve_runs_gunicorn_from_any_directory(tmp_path):
    """`wms serve` as a real process started outside the project, on loopback only."""
    url = f"sqlite:///{tmp_path / 'wms.sqlite'}"
    migrated = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})
    with migrated.app_context():
        upgrade()
        db.engine.dispose()
    env = {**os.environ, "WMS_DATABASE_URL": url, "WMS_SECRET_KEY": "x"}
    cli = [sys.executable, "-c", "from wms.cli import main; main()"]
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200
        assert _get(f"http://127.0.0.1:{port}/") == (302, "/login")
        assert _get(f"http://127.0.0.1:{port}/login")[0] == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert f"WMS on http://127.0.0.1:{port}" in output
    assert "gthread" in output


def test_serve_says_when_the_database_is_unreachable():
    unreachable = create_app({"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_free_port()}/wms", "SECRET_KEY": "x"})
    with unreachable.app_context():
        result = unreachable.test_cli_runner().invoke(main, ["serve"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot reach the database postgresql+psycopg://postgres@127.0.0.1" in result.output
