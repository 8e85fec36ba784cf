"""The keys the per-IP limits count a client under (SECURITY.md item 29)."""

from __future__ import annotations

import pytest

from app.services.rate_limits import address_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::1", "::/64"),
        (None, ""),
        ("", ""),
    ],
)
def test_a_client_is_counted_by_its_ipv4_address_or_its_ipv6_64(address, key):
    assert address_key(address) == key
