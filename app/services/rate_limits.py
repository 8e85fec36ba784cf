"""Rate limits on the actions an attacker would repeat, with the `limits` library.

Counts live in memory by default, or in Redis when several processes serve the app
(`ratelimit.storage_uri = redis://...`). If the storage is unreachable the app keeps
serving without counting and says so in the log, at most once a minute."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from .errors import RateLimited

log = logging.getLogger(__name__)

# The limits, named as their settings are (ratelimit.<name>). Each belongs to the service
# whose action it limits.
SIGNIN_PER_ACCOUNT = "signin_per_account"
SIGNIN_PER_DEVICE = "signin_per_device"
SIGNIN_PER_IP = "signin_per_ip"
FORGOT_PER_EMAIL = "forgot_per_email"
FORGOT_PER_IP = "forgot_per_ip"
BAD_CODE_PER_IP = "bad_code_per_ip"
REGISTER_PER_IP = "register_per_ip"

# Defaults. Moving windows, so a burst at the edge of a fixed window cannot double the
# allowance.
DEFAULT_LIMITS = {
    SIGNIN_PER_ACCOUNT: "10/5minutes",
    SIGNIN_PER_DEVICE: "10/5minutes",
    SIGNIN_PER_IP: "50/5minutes",
    FORGOT_PER_EMAIL: "3/hour",
    FORGOT_PER_IP: "20/hour",
    BAD_CODE_PER_IP: "20/5minutes",
    REGISTER_PER_IP: "10/hour",
}

WARNING_INTERVAL_SECONDS = 60.0


def address_key(ip: str | None) -> str:
    """The key a client's address is counted under in the per-IP limits.

    An IPv6 client is given a whole /64 (and can rotate through it at will), so it is
    counted by that /64; an IPv4-mapped IPv6 address (::ffff:198.51.100.7) is the IPv4
    address it maps."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True)
class Limit:
    name: str
    item: RateLimitItem


class RateLimiter:
    def __init__(
        self,
        storage_uri: str = "memory://",
        limits: Mapping[str, str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        configured = {**DEFAULT_LIMITS, **(limits or {})}
        self.limits = {name: Limit(name, parse(spec)) for name, spec in configured.items()}
        self.storage = cast(Storage, storage_from_string(storage_uri, **(storage_options or {})))
        self.strategy = MovingWindowRateLimiter(self.storage)
        self._last_warning = -math.inf
        self._warning_lock = threading.Lock()

    @staticmethod
    def _key(value: str) -> str:
        # Emails are keyed by digest, so a Redis dump does not list who tried what.
        return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def check(self, name: str, key: str) -> None:
        """Raise RateLimited if the limit is used up; counts nothing."""
        self._apply(name, key, count=False)

    def hit(self, name: str, key: str) -> None:
        """Count one attempt; raise RateLimited if that was one too many."""
        self._apply(name, key, count=True)

    def _apply(self, name: str, key: str, count: bool) -> None:
        limit = self.limits[name]
        identifiers = (name, self._key(key))
        try:
            allowed = (self.strategy.hit if count else self.strategy.test)(limit.item, *identifiers)
            if allowed:
                return
            reset_at = self.strategy.get_window_stats(limit.item, *identifiers).reset_time
        except Exception as exc:  # noqa: BLE001 - storage down: serve without limits
            self._storage_unavailable(exc)
            return
        raise RateLimited(math.ceil(reset_at - time.time()))

    def clear(self, name: str, key: str) -> None:
        try:
            self.strategy.clear(self.limits[name].item, name, self._key(key))
        except Exception as exc:  # noqa: BLE001
            self._storage_unavailable(exc)

    def _storage_unavailable(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._warning_lock:
            if now - self._last_warning < WARNING_INTERVAL_SECONDS:
                return
            self._last_warning = now
        log.warning(
            "Rate-limit storage unavailable, serving without limits: %s", type(exc).__name__
        )
