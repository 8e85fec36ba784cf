"""Limits counted in Redis are shared by every process of the app; when Redis cannot be
reached, each process counts in its own memory and says why (a real redis-server)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app.services.kernel.errors import RateLimited
from app.services.kernel.rate_limits import RateLimiter
from tests.redis_server import RedisServer
from tests.support import free_port

LIMITS = {"guesses": "2/minute"}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = RedisServer()
    server.start()
    yield server.url
    server.remove()


def test_attempts_counted_by_one_process_count_in_another(redis_url: str) -> None:
    first = RateLimiter(redis_url, LIMITS, secret="s")
    second = RateLimiter(redis_url, LIMITS, secret="s")

    first.hit("guesses", "alice@example.com")
    first.hit("guesses", "alice@example.com")

    with pytest.raises(RateLimited):
        second.check("guesses", "alice@example.com")
    with pytest.raises(RateLimited):
        second.hit("guesses", "alice@example.com")
    second.check("guesses", "bob@example.com")
    assert first.storage_failures == second.storage_failures == 0


def test_a_limit_cleared_in_one_process_is_cleared_for_all(redis_url: str) -> None:
    first = RateLimiter(redis_url, LIMITS, secret="s")
    second = RateLimiter(redis_url, LIMITS, secret="s")
    first.hit("guesses", "carol@example.com")
    first.hit("guesses", "carol@example.com")

    second.clear("guesses", "carol@example.com")

    first.check("guesses", "carol@example.com")


def test_without_redis_a_process_counts_alone_and_logs_the_failure_once(caplog) -> None:
    unreachable = RateLimiter(f"redis://127.0.0.1:{free_port()}/0", LIMITS, secret="s")

    with caplog.at_level(logging.ERROR, logger="app.services.kernel.rate_limits"):
        unreachable.hit("guesses", "dave@example.com")
        unreachable.hit("guesses", "dave@example.com")
        with pytest.raises(RateLimited):
            unreachable.hit("guesses", "dave@example.com")

    assert unreachable.storage_failures == 1
    [failure] = [r.getMessage() for r in caplog.records]
    assert failure.startswith("Rate-limit storage unavailable (ConnectionError); counting in")
