"""A rate-limit storage that stops answering: counted, left alone for a while, logged
once a minute."""

from __future__ import annotations

import logging
import time

import pytest

from app.services.kernel import rate_limits
from app.services.kernel.rate_limits import (
    ERROR_INTERVAL_SECONDS,
    RETRY_STORAGE_SECONDS,
    RateLimiter,
)
from app.settings.limits import SIGNIN_PER_IP
from tests.support import free_port


class SteppedClock:
    """Stands in for the time module in rate_limits: a monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()


@pytest.fixture
def stepped(monkeypatch: pytest.MonkeyPatch) -> SteppedClock:
    clock = SteppedClock()
    monkeypatch.setattr(rate_limits, "time", clock)
    return clock


@pytest.fixture
def unreachable() -> RateLimiter:
    # Nothing listens on the port: every call to the storage fails at once.
    return RateLimiter(f"redis://127.0.0.1:{free_port()}/0", secret="s")


STORAGE_DOWN = (
    "Rate-limit storage unavailable (ConnectionError); counting in this process's"
    " memory until it answers again"
)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "storage unavailable" in r.getMessage()]


def test_a_failing_storage_is_counted_and_left_alone_until_the_retry_time(
    stepped: SteppedClock, unreachable: RateLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="app.services.kernel.rate_limits"):
        unreachable.hit(SIGNIN_PER_IP, "198.51.100.1")
        assert unreachable.storage_failures == 1

        stepped.now += RETRY_STORAGE_SECONDS - 0.5
        unreachable.hit(SIGNIN_PER_IP, "198.51.100.1")
        assert unreachable.storage_failures == 1  # not asked meanwhile

        stepped.now += 0.5
        unreachable.hit(SIGNIN_PER_IP, "198.51.100.1")
        assert unreachable.storage_failures == 2

    assert _errors(caplog) == [STORAGE_DOWN]


def test_a_storage_failing_while_a_limit_is_cleared_is_logged_with_its_error(
    stepped: SteppedClock, unreachable: RateLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="app.services.kernel.rate_limits"):
        unreachable.clear(SIGNIN_PER_IP, "198.51.100.1")

    assert unreachable.storage_failures == 1
    assert _errors(caplog) == [STORAGE_DOWN]


def test_the_storage_error_is_logged_again_after_exactly_a_minute(
    stepped: SteppedClock, unreachable: RateLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="app.services.kernel.rate_limits"):
        unreachable.hit(SIGNIN_PER_IP, "198.51.100.1")
        stepped.now += ERROR_INTERVAL_SECONDS - RETRY_STORAGE_SECONDS
        unreachable.hit(SIGNIN_PER_IP, "198.51.100.1")
        assert len(_errors(caplog)) == 1
        stepped.now += RETRY_STORAGE_SECONDS
        unreachable.hit(SIGNIN_PER_IP, "198.51.100.1")

    assert unreachable.storage_failures == 3
    assert len(_errors(caplog)) == 2
