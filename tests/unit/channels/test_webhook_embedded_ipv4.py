"""Webhook addresses: IPv6 forms that carry an IPv4 address (6to4, Teredo, NAT64) are judged by that IPv4."""

import ipaddress

import pytest

from wms.channels.webhooks import embedded_ipv4, is_public_address


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (cloud metadata)
        "2002:c0a8:101::",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
        "2001:0:a00:1:8000:63bf:a247:2dcb",  # Teredo through a private server 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix: a private translator
        "64:ff9b:1::5db8:d822",
    ],
)
def test_private_ipv4_inside_ipv6_is_refused(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize(
    "address",
    [
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
        "2001:0:4136:e378:8000:63bf:a247:2dcb",  # Teredo, server 65.54.227.120, client 93.184.210.52
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
    ],
)
def test_public_ipv4_inside_ipv6_is_allowed(address):
    assert is_public_address(address) is True


def test_embedded_addresses_are_decoded():
    v6 = ipaddress.IPv6Address
    assert embedded_ipv4(v6("2002:7f00:1::")) == [ipaddress.IPv4Address("127.0.0.1")]
    assert embedded_ipv4(v6("64:ff9b::a00:1")) == [ipaddress.IPv4Address("10.0.0.1")]
    server, client = embedded_ipv4(v6("2001:0:4136:e378:8000:63bf:80ff:fffe"))
    assert (str(server), str(client)) == ("65.54.227.120", "127.0.0.1")
    assert embedded_ipv4(v6("2606:4700:4700::1111")) == []
