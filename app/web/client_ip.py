"""The client's IP address: the socket's peer, unless that peer is a trusted proxy.

Only then is X-Forwarded-For read, from the right, skipping the trusted proxies; the
first address that is not one of them is the client. A header sent by anyone else is
ignored, so a client cannot pick the address its rate limits are counted against."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def is_trusted(remote_addr: str | None, trusted: Sequence[Network]) -> bool:
    """Whether the address is one of the trusted proxies."""
    peer = _address(remote_addr or "")
    return peer is not None and any(peer in network for network in trusted)


def resolve_client_ip(
    remote_addr: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> str | None:
    if forwarded_for is None or len(forwarded_for) <= MAX_CACHED_HEADER:
        # A server sees the same few peers and proxy headers again and again; parsing
        # addresses is the dear part.
        return _resolved(remote_addr, forwarded_for, tuple(trusted))
    return _resolve(remote_addr, forwarded_for, trusted)


MAX_CACHED_HEADER = 256


@functools.lru_cache(maxsize=4096)
def _resolved(
    remote_addr: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str | None:
    return _resolve(remote_addr, forwarded_for, trusted)


def _resolve(
    remote_addr: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> str | None:
    peer = _address(remote_addr or "")
    if peer is None:
        return None
    if not is_trusted(remote_addr, trusted):
        return str(peer)
    hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not any(address in network for network in trusted):
            break
    return str(client)
