"""Which address is the client's (app/web/client_ip.py): X-Forwarded-For is read from
the right, and only behind a trusted proxy, so that a client cannot choose the address
its limits count (docs/security.md 29)."""

from __future__ import annotations

import ipaddress

import pytest

from app.web.client_ip import MAX_CACHED_HEADER, resolve_client_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        # No proxy in front: the header is the client's own words, ignored.
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),
        # One trusted proxy: the address it saw.
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        # A client that writes its own header: the proxy appends the real address on the
        # right, and the left is the client's choice.
        ("10.0.0.2", "192.0.2.66, 198.51.100.1", "198.51.100.1"),
        # Two trusted proxies in a row are skipped from the right.
        ("10.0.0.2", "192.0.2.66, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        # Nothing readable: the nearest address that could be read.
        ("10.0.0.2", "192.0.2.66, not-an-address", "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.2"),
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("not an address", "198.51.100.1", None),
    ],
)
def test_the_client_is_the_first_untrusted_address_from_the_right(
    peer: str, header: str | None, client: str | None
) -> None:
    assert resolve_client_ip(peer, header, PROXIES) == client


def test_a_long_header_is_read_the_same_without_the_cache() -> None:
    header = ", ".join(["192.0.2.66"] * 40) + ", 198.51.100.1"
    assert len(header) > MAX_CACHED_HEADER
    assert resolve_client_ip("10.0.0.2", header, PROXIES) == "198.51.100.1"
