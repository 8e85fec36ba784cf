"""docs/security.md 60: while Redis is away, the processes that share it together grant
no more than a limit, and what they counted meanwhile still counts when it is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.services.kernel import rate_limits
from app.services.kernel.errors import RateLimited
from app.services.kernel.rate_limits import RETRY_STORAGE_SECONDS, RateLimiter
from app.settings.limits import SECOND_FACTOR_PER_ACCOUNT
from tests.redis_server import RedisServer

LIMITS = {SECOND_FACTOR_PER_ACCOUNT: "9/15minutes"}


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.remove()


def _limiter(url: str) -> RateLimiter:
    return RateLimiter(url, LIMITS, secret="s", processes=3)


def _allowed(limiter: RateLimiter, key: str, tries: int) -> int:
    allowed = 0
    for _ in range(tries):
        try:
            limiter.hit(SECOND_FACTOR_PER_ACCOUNT, key)
            allowed += 1
        except RateLimited:
            pass
    return allowed


def test_three_processes_without_redis_grant_no_more_than_the_limit(
    redis: RedisServer,
) -> None:
    processes = [_limiter(redis.url) for _ in range(3)]
    redis.stop()
    # Thirty wrong codes from three processes once got through where nine may.
    assert sum(_allowed(process, "account 7", 10) for process in processes) == 9


def test_what_was_counted_during_the_outage_counts_in_redis_once_it_is_back(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    real_time = rate_limits.time.time

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return now[0]

        @staticmethod
        def time() -> float:
            return real_time()

    monkeypatch.setattr(rate_limits, "time", Clock)
    process, other = _limiter(redis.url), _limiter(redis.url)
    redis.stop()
    assert _allowed(process, "account 7", 3) == 3
    redis.start()
    now[0] += RETRY_STORAGE_SECONDS

    # The first call after the outage hands Redis the three; the other process sees them.
    assert _allowed(process, "account 8", 1) == 1
    assert _allowed(other, "account 7", 9) == 6


def test_a_single_process_without_shared_storage_keeps_the_whole_limit() -> None:
    alone = RateLimiter("memory://", LIMITS, secret="s", processes=3)
    assert _allowed(alone, "account 7", 10) == 9
