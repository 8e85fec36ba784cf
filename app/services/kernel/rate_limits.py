"""Rate limits on the actions an attacker would repeat, with the `limits` library.

Counts live in memory by default, or in Redis when several processes serve the app
(`ratelimit.storage_uri = redis://...`). Every call to Redis has a sub-second timeout. If
Redis is stopped or hangs, the limits keep holding in this process's memory, and Redis
is tried again every few seconds; that is logged at ERROR (at most once a minute) and
counted. Keys are HMACs keyed by the app's secret: a dump of Redis lists no address."""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import cast

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app import metrics
from app.services.kernel.errors import RateLimited
from app.settings.limits import DEFAULT_LIMITS

log = logging.getLogger(__name__)

ERROR_INTERVAL_SECONDS = 60.0


@functools.lru_cache(maxsize=4096)
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


# How long one call to Redis may take, and how long Redis is left alone after a failure.
REDIS_TIMEOUT_SECONDS = 0.25
RETRY_STORAGE_SECONDS = 5.0


class RateLimiter:
    def __init__(
        self,
        storage_uri: str,
        limits: Mapping[str, str] | None = None,
        *,
        secret: str,
        processes: int = 1,
    ) -> None:
        configured = {**DEFAULT_LIMITS, **(limits or {})}
        self.limits: dict[str, RateLimitItem] = {
            name: parse(spec) for name, spec in configured.items()
        }
        # While the shared storage is away, each of the `processes` that share it grants
        # only its share of a limit, so that together they grant no more than the limit
        # (ratelimit.processes; docs/security.md 60).
        self.outage_limits: dict[str, RateLimitItem] = {
            name: type(item)(max(1, item.amount // processes), item.multiples, item.namespace)
            for name, item in self.limits.items()
        }
        # What was counted in memory while the shared storage was away, to be counted
        # there too once it answers again: (limit name, key) -> attempts.
        self._owed: dict[tuple[str, str], int] = {}
        self._secret = secret.encode("utf-8")
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if not storage_uri.startswith("memory://"):
            options = {
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            }
            storage = cast(Storage, storage_from_string(storage_uri, **options))
            self.shared = MovingWindowRateLimiter(storage)
        self._shared_down_until = -math.inf
        self._last_error = -math.inf
        self._lock = threading.Lock()
        # How many times the shared storage failed and memory answered instead.
        self.storage_failures = 0

    def _key(self, value: str) -> str:
        """An HMAC of what is counted (an address, an email), keyed by the app's secret,
        so that the storage holds no address, and no guessable hash of one."""
        digest = hmac.new(self._secret, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return digest.hexdigest()[:32]

    def check(self, name: str, key: str) -> None:
        """Raise RateLimited if the limit is used up; counts nothing."""
        self._apply(name, key, count=False)

    def hit(self, name: str, key: str) -> None:
        """Count one attempt; raise RateLimited if that was one too many."""
        self._apply(name, key, count=True)

    def clear(self, name: str, key: str) -> None:
        item, identifiers = self.limits[name], (name, self._key(key))
        self.memory.clear(item, *identifiers)
        strategy = self._shared_if_up()
        if strategy is not None:
            try:
                strategy.clear(item, *identifiers)
            except Exception as exc:  # noqa: BLE001 - any storage failure
                self._shared_failed(exc)

    def shared_storage_answers(self) -> bool:
        """Whether the shared storage (Redis) answers a ping now, within its timeout."""
        if self.shared is None:
            return False
        try:
            return bool(self.shared.storage.check())
        except Exception:  # noqa: BLE001 - any storage failure means no
            return False

    def _apply(self, name: str, key: str, count: bool) -> None:
        try:
            self._apply_in_storage(name, key, count)
        except RateLimited:
            metrics.RATE_LIMITED.labels(name).inc()
            raise

    def _apply_in_storage(self, name: str, key: str, count: bool) -> None:
        item, identifiers = self.limits[name], (name, self._key(key))
        strategy = self._shared_if_up()
        if strategy is not None:
            try:
                self._pay_back(strategy)
                self._decide(strategy, item, identifiers, count)
                return
            except RateLimited:
                raise
            except Exception as exc:  # noqa: BLE001 - any storage failure
                self._shared_failed(exc)
        if self.shared is None:
            self._decide(self.memory, item, identifiers, count)
            return
        # Redis is away: this process's share of the limit, and a note of what it counted.
        self._decide(self.memory, self.outage_limits[name], identifiers, count)
        if count:
            with self._lock:
                self._owed[identifiers] = self._owed.get(identifiers, 0) + 1

    def _pay_back(self, strategy: MovingWindowRateLimiter) -> None:
        """Count in the shared storage what was counted in memory while it was away, so
        that an outage does not wipe out attempts (they count from now, which keeps
        them a little longer than they would have been)."""
        if not self._owed:
            return
        with self._lock:
            owed, self._owed = self._owed, {}
        try:
            for (name, hashed_key), attempts in owed.items():
                # Counted up to the limit at most: hit() refuses a cost beyond it.
                cost = min(attempts, self.limits[name].amount)
                strategy.hit(self.limits[name], name, hashed_key, cost=cost)
        except Exception:
            with self._lock:
                for identifiers, attempts in owed.items():
                    self._owed[identifiers] = self._owed.get(identifiers, 0) + attempts
            raise

    @staticmethod
    def _decide(
        strategy: MovingWindowRateLimiter,
        item: RateLimitItem,
        identifiers: tuple[str, str],
        count: bool,
    ) -> None:
        allowed = (strategy.hit if count else strategy.test)(item, *identifiers)
        if not allowed:
            reset_at = strategy.get_window_stats(item, *identifiers).reset_time
            raise RateLimited(math.ceil(reset_at - time.time()))

    def _shared_if_up(self) -> MovingWindowRateLimiter | None:
        if self.shared is None or time.monotonic() < self._shared_down_until:
            return None
        return self.shared

    def _shared_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        metrics.RATE_LIMIT_STORAGE_FAILURES.inc()
        with self._lock:
            self.storage_failures += 1
            self._shared_down_until = now + RETRY_STORAGE_SECONDS
            if now - self._last_error < ERROR_INTERVAL_SECONDS:
                return
            self._last_error = now
        log.error(
            "Rate-limit storage unavailable (%s); counting in this process's memory until it"
            " answers again",
            type(exc).__name__,
        )
