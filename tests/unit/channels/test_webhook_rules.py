"""Pure rules of webhooks and the change-feed cursor: no app, no database."""

import hashlib
import hmac
import random

import pytest

from wms.channels.availability import START, decode_cursor, encode_cursor
from wms.channels.webhooks import UnsafeAddress, backoff_delay, is_public_address, sign, split_url
from wms.errors import ValidationError


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_internal_addresses_are_refused(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are_allowed(address):
    assert is_public_address(address) is True


def test_signature_is_hex_hmac_sha256_of_the_raw_body():
    body = b'{"id":"x","event":"order.updated"}'
    expected = hmac.new(b"s3cret-key", body, hashlib.sha256).hexdigest()
    assert sign("s3cret-key", body) == f"sha256={expected}"
    assert sign("other-key", body) != sign("s3cret-key", body)


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    rng = random.Random(7)
    delays = [backoff_delay(n, cap=3600, base=2.0, rng=rng) for n in range(1, 8)]
    for n, delay in enumerate(delays, start=1):
        ceiling = 2.0 * 2 ** (n - 1)
        assert ceiling / 2 <= delay <= ceiling
    assert all(backoff_delay(50, cap=60, rng=rng) <= 60 for _ in range(100))
    assert all(backoff_delay(50, cap=60, rng=rng) >= 30 for _ in range(100))
    spread = {round(backoff_delay(5, cap=3600, rng=rng), 6) for _ in range(20)}
    assert len(spread) > 1  # jitter: not every retry at the same moment


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "http:///nohost", "https://user:pw@example.com/", "http://example.com:99999/"]
)
def test_only_plain_http_urls_with_a_host(url):
    with pytest.raises(UnsafeAddress):
        split_url(url)


def test_split_url_defaults_the_port():
    assert split_url("https://shop.example.com/hooks") == ("https", "shop.example.com", 443)
    assert split_url("http://shop.example.com:8080/hooks") == ("http", "shop.example.com", 8080)


def test_cursor_round_trip_and_start():
    assert decode_cursor(encode_cursor((123456789, 42))) == (123456789, 42)
    assert decode_cursor(None) == START
    assert decode_cursor("") == START


@pytest.mark.parametrize("bad", ["abc", "1", "1.2.3", "-1.2", "1.x", " 1.2", "1.2\n", "9" * 21 + ".1"])
def test_malformed_cursor_names_the_field(bad):
    with pytest.raises(ValidationError) as exc:
        decode_cursor(bad)
    assert exc.value.details[0]["field"] == "after"
