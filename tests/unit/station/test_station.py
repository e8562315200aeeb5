"""The station agent's package on its own: what it imports, its printer configuration, HTTPS unless loopback, its
command line. No app, no database, no network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from station.agent import JobsAnswer, StationAgent, StationClient, is_loopback_host
from station.cli import station as station_command
from station.printers import LocalPrinters, PrinterConfigError, load, parse_pair

ROOT = Path(__file__).resolve().parents[3]


def test_the_agent_needs_neither_flask_nor_weasyprint_nor_a_database_driver():
    code = (
        "import sys\n"
        "import station, station.agent, station.printers, station.cli\n"
        "from station.cli import station as command\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'wms', 'flask', 'werkzeug', 'weasyprint', "
        "'sqlalchemy', 'psycopg', 'psycopg2', 'alembic', 'labels', 'pydantic', 'flask_login', 'flask_sqlalchemy'})\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_python_dash_m_station_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "station", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--printer NAME=URL" in done.stdout and "--insecure" in done.stdout


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST.", "wms.localhost", "::1", "[::1]"])
def test_loopback_hosts(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["192.168.1.10", "wms.example.com", "10.0.0.1", "localhost.example.com", "::2"])
def test_hosts_that_are_not_loopback(host):
    assert not is_loopback_host(host)


@pytest.mark.parametrize("server", ["http://wms.example.com", "http://192.168.1.10:8000", "http://[fe80::1]:80"])
def test_plain_http_to_another_machine_is_refused_unless_insecure(server):
    with pytest.raises(ValueError, match="clear text"):
        StationClient(server, "wmss_x", "ST1-C1")
    assert StationClient(server, "wmss_x", "ST1-C1", insecure=True).scheme == "http"


@pytest.mark.parametrize("server", ["https://wms.example.com", "http://127.0.0.1:8000", "http://localhost:5000/wms"])
def test_https_and_loopback_need_no_flag(server):
    client = StationClient(server, "wmss_x", "ST1-C1")
    assert client.base.endswith("/api/v1/stations/ST1-C1")


def test_the_command_refuses_plain_http_to_another_machine():
    result = CliRunner().invoke(
        station_command, ["--server", "http://wms.example.com", "--token", "t", "--station", "S"]
    )
    assert result.exit_code == 2 and "--insecure" in result.output


def test_the_command_refuses_a_bad_printer_configuration(tmp_path):
    args = ["--server", "http://127.0.0.1:1", "--token", "t", "--station", "S", "--state-dir", str(tmp_path)]
    result = CliRunner().invoke(station_command, [*args, "--printer", "ZEBRA"])
    assert result.exit_code == 2 and "use NAME=URL" in result.output
    result = CliRunner().invoke(station_command, [*args, "--printer", "Z=http://x"])
    assert result.exit_code == 2 and "unknown scheme" in result.output


def test_printers_from_a_toml_file_and_pairs(tmp_path):
    config = tmp_path / "printers.toml"
    config.write_text('[printers]\nKRK-counter-zebra = "zpl+tcp://127.0.0.1:9100"\n"A4 office" = "pdf+cups://A4"\n')
    printers = load([config], ["USB=zpl+file:///dev/usb/lp0"])
    assert printers.names() == ["A4 office", "KRK-counter-zebra", "USB"]
    assert printers.url("KRK-counter-zebra") == "zpl+tcp://127.0.0.1:9100"
    assert "USB" in printers and "EVIL" not in printers and printers.open("EVIL") is None
    assert printers.open("USB").path == "/dev/usb/lp0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('printers = "x"\n', r"needs a \[printers\] table"),
        ("[printers]\nZ = 9100\n", "must be a string"),
        ('[printers]\nZ = "http://x"\n', "unknown scheme"),
        ("[printers\n", "not TOML"),
    ],
)
def test_bad_printer_files(tmp_path, text, message):
    config = tmp_path / "printers.toml"
    config.write_text(text)
    with pytest.raises(PrinterConfigError, match=message):
        load([config])


def test_bad_printer_pairs():
    assert parse_pair(" Z1 = zpl+tcp://h:9100 ") == ("Z1", "zpl+tcp://h:9100")
    for bad in ("Z1", "=zpl+tcp://h", "Z1="):
        with pytest.raises(PrinterConfigError):
            parse_pair(bad)
    with pytest.raises(PrinterConfigError, match="twice"):
        load(pairs=["Z=zpl+tcp://h", "Z=zpl+tcp://i"])
    with pytest.raises(PrinterConfigError, match="1-64"):
        LocalPrinters({"x" * 65: "zpl+tcp://h"})


def _agent(tmp_path, wait: float) -> StationAgent:
    client = StationClient("http://127.0.0.1:1", "t", "S")
    return StationAgent(client, state_dir=tmp_path, wait=wait, printers={"Z": "zpl+tcp://127.0.0.1:9"})


def test_pause_after_an_empty_answer(tmp_path):
    agent = _agent(tmp_path, wait=20)
    assert 5.0 <= agent.pause_after_empty(JobsAnswer([], 5.0), 0.01) <= 5.5  # the server's word, a little jitter
    assert agent.pause_after_empty(JobsAnswer([], None), 0.05) == 1.0  # early: never spin
    assert agent.pause_after_empty(JobsAnswer([], None), 12.0) == 1.0
    assert agent.pause_after_empty(JobsAnswer([], None), 20.2) == 0.0  # the full wait: poll again at once
    assert _agent(tmp_path, wait=0).pause_after_empty(JobsAnswer([], None), 0.01) == 1.0
    # "Come back at once" after the full wait is taken at its word; early, it still never spins.
    assert agent.pause_after_empty(JobsAnswer([], 0.0), 20.1) == 0.0
    assert _agent(tmp_path, wait=0).pause_after_empty(JobsAnswer([], 0.0), 0.01) == 1.0


def test_retry_after_is_read_with_care():
    from station.agent import MAX_RETRY_AFTER, _retry_after

    assert _retry_after(3) == 3.0 and _retry_after(0.5) == 0.5
    assert _retry_after(10**9) == MAX_RETRY_AFTER and _retry_after(-5) == 0.0
    assert _retry_after("3") is None and _retry_after(True) is None and _retry_after(float("nan")) is None


def test_the_station_distribution_needs_only_what_the_agent_imports():
    """``distributions/wms-station`` installs the agent without the server's requirements."""
    import tomllib

    project = tomllib.loads((ROOT / "distributions" / "wms-station" / "pyproject.toml").read_text())
    requirements = {r.split(">")[0].split("=")[0].strip().lower() for r in project["project"]["dependencies"]}
    assert requirements == {"pyserial", "click", "biip"}
    assert project["tool"]["setuptools"]["packages"] == ["station", "devices", "devices.simulators"]
    assert project["project"]["scripts"]["wms-station"] == "station.cli:main"
    setup = (ROOT / "setup.cfg").read_text()
    extra = setup.split("\nstation =\n", 1)[1].split("\n\n", 1)[0].split("test =", 1)[0]
    assert {line.split(">")[0].strip().lower() for line in extra.splitlines() if line.strip()} == requirements


def test_the_agent_log_says_a_plain_code_is_looked_up_by_the_server():
    from station.agent import _describe_scan

    assert _describe_scan("SF-01") == "code SF-01 (the server looks it up)"
    assert _describe_scan("$B:ST-KRK:SF-01") == "bin SF-01 at ST-KRK"
    assert _describe_scan("5907712000013").endswith("check digit wrong if it is a GTIN)")
