"""Whether the shared rate-limit storage answers, as the readiness check asks it: only a
storage that is there and answers counts (no database)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from limits.storage import MemoryStorage

from app.services.kernel.rate_limits import REDIS_TIMEOUT_SECONDS, RateLimiter
from tests.redis_server import RedisServer
from tests.support import free_port


class StorageThatFailsItsPing(MemoryStorage):
    """A shared storage whose health check raises instead of answering False."""

    STORAGE_SCHEME = ["failing-ping"]

    def check(self) -> bool:
        raise ConnectionError("connection reset by peer")


def test_counting_in_memory_only_has_no_shared_storage_that_answers() -> None:
    assert RateLimiter("memory://", secret="s").shared_storage_answers() is False


def test_a_shared_storage_that_cannot_be_reached_does_not_answer() -> None:
    unreachable = RateLimiter(f"redis://127.0.0.1:{free_port()}/0", secret="s")

    assert unreachable.shared_storage_answers() is False


def test_a_shared_storage_whose_ping_fails_does_not_answer() -> None:
    failing = RateLimiter("failing-ping://", secret="s")

    assert failing.shared_storage_answers() is False


@pytest.fixture
def paused_redis() -> Iterator[str]:
    """A real redis-server stopped with SIGSTOP: the kernel still accepts connections,
    but nothing ever answers, as with a hung Redis."""
    server = RedisServer()
    server.start()
    server.pause()
    try:
        yield server.url
    finally:
        server.remove()


def test_a_shared_storage_that_never_answers_costs_at_most_its_timeout(
    paused_redis: str,
) -> None:
    hung = RateLimiter(paused_redis, secret="s")
    results: list[object] = []

    def ask() -> None:
        started = time.monotonic()
        answers = hung.shared_storage_answers()
        hung.hit("signin_per_ip", "203.0.113.9")
        results.append((answers, time.monotonic() - started))

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(timeout=10)

    assert not asker.is_alive(), "the rate limiter waited on a storage that never answers"
    [(answers, waited)] = results
    assert answers is False
    # One timeout for the ping, one for the hit (counted in memory after it).
    assert waited < 4 * REDIS_TIMEOUT_SECONDS + 1
    assert hung.storage_failures == 1
