"""Webhooks: registration by a channel, the address rule, signing, backoff and the HTTP POST itself.

Deliveries are made by ``wms worker`` (``wms.channels.worker``) from the transactional outbox; this module has
no loop of its own.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import random
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from wms.channels.models import WEBHOOK_EVENTS, Webhook, WebhookDelivery
from wms.errors import NotFound, ValidationError
from wms.extensions import db
from wms.timeutil import isoformat, utcnow
from wms.uow import unit_of_work

USER_AGENT = "wms-webhooks/1"
#: at most this much of a receiver's error answer is kept in ``last_error``
ERROR_TEXT_LIMIT = 500


# --- the address rule ---------------------------------------------------------------------------------------


class UnsafeAddress(ValueError):
    """The URL's host is, or resolves to, an address webhooks must not reach."""


#: NAT64 well-known prefix (RFC 6052): the last 32 bits are the IPv4 address the gateway reaches
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
#: NAT64 local-use prefix (RFC 8215): a private network's own translator, never a public receiver
NAT64_LOCAL_PREFIX = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped (``::ffff:a.b.c.d``), 6to4 (``2002::/16``),
    Teredo (``2001::/32``: its server and its client) and NAT64 (``64:ff9b::/96``). Empty for other addresses."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if ip in NAT64_PREFIX:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def is_public_address(address: str) -> bool:
    """True when ``address`` may receive webhooks: not loopback, private, link-local, multicast, reserved,
    unspecified or otherwise not globally routable. An IPv6 address that carries an IPv4 address (IPv4-mapped,
    6to4, Teredo, NAT64) is judged by every IPv4 address it carries: ``2002:7f00:1::`` reaches 127.0.0.1 through
    a 6to4 relay, and Python's own view of those prefixes changes between versions."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL_PREFIX:
            return False
        carried = embedded_ipv4(ip)
        if carried:
            return all(is_public_address(str(v4)) for v4 in carried)
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (raises UnsafeAddress when it resolves to none)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddress(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeAddress(f"{host} resolves to no address")
    return addresses


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; raises UnsafeAddress for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeAddress(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress("must be an http or https URL with a host")
    if parts.username or parts.password:
        raise UnsafeAddress("must not carry a user name or password")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def safe_addresses(url: str, allow_private: bool) -> list[str]:
    """The addresses to connect to for ``url``. Unless ``allow_private``, every address the host resolves to must
    be public (one private answer is enough to refuse: DNS may hand out either). Raises UnsafeAddress."""
    _scheme, host, port = split_url(url)
    addresses = resolve(host, port)
    if not allow_private:
        bad = [a for a in addresses if not is_public_address(a)]
        if bad:
            raise UnsafeAddress(f"{host} resolves to a loopback, private or reserved address ({bad[0]})")
    return addresses


# --- registration ---------------------------------------------------------------------------------------------


def webhook_view(webhook: Webhook) -> dict[str, Any]:
    """A webhook as the API shows it (never its secret)."""
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "active": webhook.active,
        "created_at": isoformat(webhook.created_at),
        "updated_at": isoformat(webhook.updated_at),
    }


def register_webhook(
    channel_id: int, url: str, events: list[str], secret: str, allow_private: bool = False
) -> tuple[Webhook, bool]:
    """Register ``url`` for ``events`` of a channel, or update the events and secret when this channel has the
    URL already. Returns (webhook, created); a URL that was removed is registered again as created.

    Raises ValidationError on ``url`` when it is not http(s) or resolves to a loopback, private, link-local,
    multicast, reserved or unspecified address (unless ``allow_private``), and on ``events`` for an unknown
    event. Locks the channel's webhook row for that URL.
    """
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError.one("events", f"unknown event(s): {', '.join(unknown)}")
    try:
        split_url(url)
        if not allow_private:
            # Resolved before the transaction: it may take a while and needs no lock. A host that does not
            # resolve cannot be judged, so it is refused too. Sending checks again (DNS answers change).
            safe_addresses(url, allow_private)
    except UnsafeAddress as exc:
        raise ValidationError.one("url", str(exc)) from None
    try:
        return _upsert_webhook(channel_id, url, events, secret)
    except IntegrityError:
        # A concurrent request registered the same URL a moment ago: update that registration.
        return _upsert_webhook(channel_id, url, events, secret)


def _upsert_webhook(channel_id: int, url: str, events: list[str], secret: str) -> tuple[Webhook, bool]:
    with unit_of_work() as session:
        webhook = session.execute(
            select(Webhook).where(Webhook.channel_id == channel_id, Webhook.url == url).with_for_update()
        ).scalar_one_or_none()
        created = webhook is None or not webhook.active
        if webhook is None:
            webhook = Webhook(channel_id=channel_id, url=url)
            session.add(webhook)
        webhook.events = list(dict.fromkeys(events))
        webhook.secret = secret
        webhook.active = True
        webhook.updated_at = utcnow()
    return webhook, created


def list_webhooks(channel_id: int) -> list[Webhook]:
    """The channel's active webhooks, oldest first."""
    return list(
        db.session.execute(
            select(Webhook).where(Webhook.channel_id == channel_id, Webhook.active.is_(True)).order_by(Webhook.id)
        ).scalars()
    )


def remove_webhook(channel_id: int, webhook_id: int | None = None, url: str | None = None) -> Webhook:
    """Stop a channel's webhook (by id or URL) and give up its pending deliveries.

    The row is kept (deactivated) for the delivery history. Raises NotFound for a webhook this channel does not
    have, ValidationError when neither id nor URL is given. Locks the webhook row.
    """
    if webhook_id is None and not url:
        raise ValidationError.one("url", "give the url (or the id) of the webhook to remove")
    with unit_of_work() as session:
        query = select(Webhook).where(Webhook.channel_id == channel_id, Webhook.active.is_(True))
        query = query.where(Webhook.id == webhook_id) if webhook_id is not None else query.where(Webhook.url == url)
        webhook = session.execute(query.with_for_update()).scalar_one_or_none()
        if webhook is None:
            raise NotFound("this channel has no such webhook", {"id": webhook_id, "url": url})
        webhook.active = False
        webhook.updated_at = utcnow()
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.webhook_id == webhook.id,
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.failed_at.is_(None),
            )
            .values(failed_at=utcnow(), last_error="webhook removed")
            .execution_options(synchronize_session=False)
        )
    return webhook


# --- delivery: pure helpers -------------------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The ``X-WMS-Signature`` header value: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_delay(attempts: int, cap: float, base: float = 2.0, rng: random.Random | None = None) -> float:
    """Seconds to wait before the next attempt after ``attempts`` failed ones: exponential (base, 2x base, 4x
    base ...) capped at ``cap``, with jitter (a random point in the upper half) so that receivers coming back
    are not hit by every retry at once."""
    ceiling = min(float(cap), base * (2 ** min(max(attempts - 1, 0), 32)))
    return (rng or random).uniform(ceiling / 2, ceiling)


# --- delivery: the POST ---------------------------------------------------------------------------------------


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Made once: loading the CA store costs milliseconds. Certificates and host names are checked.
    return ssl.create_default_context()


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status: int | None = None
    error: str | None = None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, allow_private: bool = False) -> SendResult:
    """POST ``body`` to ``url``. The host is resolved and checked against the address rule now (it may have
    changed since registration) and the connection goes to the address checked, while the Host header, TLS server
    name and certificate check use the host name. No proxies, no redirects (a 3xx is a failed attempt).
    Never raises: failures come back as ``SendResult(ok=False, error=...)``.

    Built on ``http.client`` (standard library, like ``urllib.request`` on top of it) because urllib rewrites
    header names (``X-Wms-Signature``) and follows redirects.
    """
    try:
        scheme, host, port = split_url(url)
        address = safe_addresses(url, allow_private)[0]
    except UnsafeAddress as exc:
        return SendResult(False, None, f"refused: {exc}")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=_tls_context()
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect_to_checked_address(_addr, timeout=None, source_address=None):
        return socket.create_connection((address, port), timeout, source_address)

    conn._create_connection = connect_to_checked_address  # type: ignore[attr-defined]
    try:
        conn.request("POST", target, body=body, headers={"User-Agent": USER_AGENT, "Connection": "close", **headers})
        response = conn.getresponse()
        status = response.status
        detail = response.read(ERROR_TEXT_LIMIT) if not 200 <= status < 300 else b""
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT])
    finally:
        conn.close()
    if 200 <= status < 300:
        return SendResult(True, status)
    text = detail.decode("utf-8", "replace").strip()
    return SendResult(False, status, f"HTTP {status}" + (f": {text}" if text else ""))
