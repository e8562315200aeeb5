"""Configuration: defaults here, then the instance file ``wms.cfg``, then ``WMS_*`` environment variables.

Nothing is read at import time: :func:`load_config` is called by ``create_app``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # generated per instance folder when not given, see load_config
    "DATABASE_URL": None,  # default: SQLite file in the instance folder
    "MAX_BODY": 1024 * 1024,
    "WEBHOOK_ALLOW_PRIVATE": False,
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_MAX_ATTEMPTS": 0,  # 0 = retry forever (with backoff capped at WEBHOOK_MAX_BACKOFF)
    "WEBHOOK_MAX_BACKOFF": 3600,
    "SQLITE_BUSY_TIMEOUT": 10.0,
    "DB_POOL_SIZE": 10,
    "AVAILABILITY_MAX_GET_SKUS": 100,
    "AVAILABILITY_MAX_QUERY_SKUS": 1000,
    "PRINT_GIVE_UP": 600.0,  # seconds a printer may stay unreachable before its jobs fail
    "PRINT_RETRY_MAX": 30.0,  # cap of the retry backoff of a job whose printer is not ready
    "PRINT_RETRY_BASE": 1.0,  # first retry after this many seconds, doubling up to PRINT_RETRY_MAX
    "PRINT_LEASE_MARGIN": 5.0,  # seconds a claimed job is held beyond the time its printer may take
    "PRINT_THREADS": 8,  # printers talked to at once by one print round
    "PRINTER_DEVICE_PATHS": None,  # device files printers may be (fnmatch patterns, ":"-separated); None: USB/serial
    "PRINTER_DIR_ROOT": None,  # pdf+dir hot folders (and zpl+file files) must be under it; None: <instance>/printouts
    "PRINTER_ALLOW_LINK_LOCAL": False,  # TCP printers on 169.254/16 or fe80::/10 (metadata addresses never)
    "LONGPOLL_SLOTS": 3,  # requests per server process that may wait for news (wms.longpoll); the rest poll
    "SESSION_IDLE_MINUTES": 720,  # a signed-in page session ends after this long without a request (a long shift)
    "SECURE_COOKIES": False,  # Secure flag on the session and remember cookies (on behind HTTPS)
    "BEHIND_PROXY": 0,  # reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none)
    "LOGIN_FAILURES_PER_USER": 10,  # failed sign-ins a minute for one user name before 429
    "LOGIN_FAILURES_PER_ADDRESS": 50,  # failed sign-ins a minute from one client address before 429
    "TIMEZONE": "Europe/Warsaw",  # IANA zone of times on pages for locations without a zone of their own
    "DEFAULT_LANGUAGE": "en",  # pages' language (pl, en) for a user without one and a browser that asks for neither
    "COUNT_VARIANCE_UNITS": 5,  # a count's variance over both this many units ...
    "COUNT_VARIANCE_PERCENT": 10.0,  # ... and this % of the expected quantity waits for a manager's approval
    "STOCK_CHECK_MINUTES": 60.0,  # the worker recomputes every quantity from the ledger this often (wms.stock.checks)
    "STOCK_SUMMARY_MINUTES": 1.0,  # the worker re-sums the locations' stock for the home page this often
    "SHIP_CUTOFF": "15:00",  # carriers collect daily at HH:MM local time: orders in before it leave that day
    "FEED_LAG_MINUTES": 15.0,  # a channel whose oldest unread availability change is older lags (/exceptions)
    "SSCC_PREFIX": "0000000",  # the GS1 company prefix of parcels' SSCCs (shipping labels)
    "SHIP_FROM": None,  # sender addresses by location code ({"WH1": {"name", "line1", ...}}): wms.cfg only
}

#: keys whose environment value is parsed as a boolean / integer / float
_BOOL = {"WEBHOOK_ALLOW_PRIVATE", "TESTING", "SECURE_COOKIES"}
_BOOL |= {"PRINTER_ALLOW_LINK_LOCAL"}
_INT = {"MAX_BODY", "WEBHOOK_MAX_ATTEMPTS", "WEBHOOK_MAX_BACKOFF", "DB_POOL_SIZE", "PRINT_THREADS"}
_INT |= {"BEHIND_PROXY", "LOGIN_FAILURES_PER_USER", "LOGIN_FAILURES_PER_ADDRESS"}
_INT |= {"LONGPOLL_SLOTS", "COUNT_VARIANCE_UNITS"}
_FLOAT = {
    "STOCK_CHECK_MINUTES",
    "STOCK_SUMMARY_MINUTES",
    "FEED_LAG_MINUTES",
    "SESSION_IDLE_MINUTES",
    "WEBHOOK_TIMEOUT",
    "SQLITE_BUSY_TIMEOUT",
    "PRINT_GIVE_UP",
    "PRINT_RETRY_MAX",
    "PRINT_RETRY_BASE",
    "PRINT_LEASE_MARGIN",
    "COUNT_VARIANCE_PERCENT",
}


def _parse(key: str, raw: str) -> Any:
    if key in _BOOL:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INT:
        return int(raw)
    if key in _FLOAT:
        return float(raw)
    return raw


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings: defaults < instance ``wms.cfg`` (JSON) < ``WMS_*`` environment < ``overrides``."""
    config = dict(DEFAULTS)
    instance_file = Path(instance_path) / "wms.cfg"
    if instance_file.exists():
        config.update(json.loads(instance_file.read_text()))
    for key, raw in os.environ.items():
        if key.startswith("WMS_") and key not in {"WMS_TEST_DATABASE_URL"}:
            name = key[4:]
            config[name] = _parse(name, raw)
    if overrides:
        config.update(overrides)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "wms.sqlite")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(Path(instance_path))
    return config


def _instance_secret(instance: Path) -> str:
    """A random secret kept in the instance folder so sessions survive restarts and agree across workers."""
    instance.mkdir(parents=True, exist_ok=True)
    secret_file = instance / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(os.urandom(32).hex())
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()
