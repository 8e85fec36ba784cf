"""A rate-limit storage that stops answering: counted, left alone for a while, logged
once a minute; and one that fails again while what was counted without it is handed
back."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app.services.kernel import rate_limits
from app.services.kernel.errors import RateLimited
from app.services.kernel.rate_limits import (
    ERROR_INTERVAL_SECONDS,
    RETRY_STORAGE_SECONDS,
    RateLimiter,
)
from app.settings.limits import SECOND_FACTOR_PER_ACCOUNT, SIGNIN_PER_IP
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


class FlakyStorage(MemoryStorage):
    """A shared storage in memory that can be made to fail, and that can let another
    attempt in just before it answers (or fails) the next time it is written to."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.meanwhile: Callable[[], None] | None = None

    def acquire_entry(self, *args: Any, **kwargs: Any) -> bool:
        if self.meanwhile is not None:
            other, self.meanwhile = self.meanwhile, None
            other()
        if self.down:
            raise ConnectionError("storage away")
        return super().acquire_entry(*args, **kwargs)

    def get_moving_window(self, *args: Any, **kwargs: Any) -> tuple[float, int]:
        if self.down:
            raise ConnectionError("storage away")
        return super().get_moving_window(*args, **kwargs)


def _sharing(storage: FlakyStorage) -> RateLimiter:
    """A process's limiter that counts in this shared storage when it answers."""
    limiter = RateLimiter("memory://", {SECOND_FACTOR_PER_ACCOUNT: "9/15minutes"}, secret="s")
    limiter.shared = MovingWindowRateLimiter(storage)
    return limiter


def _allowed(limiter: RateLimiter, key: str, tries: int) -> int:
    allowed = 0
    for _ in range(tries):
        try:
            limiter.hit(SECOND_FACTOR_PER_ACCOUNT, key)
            allowed += 1
        except RateLimited:
            pass
    return allowed


def test_attempts_still_owed_when_the_storage_fails_again_are_handed_back_later(
    stepped: SteppedClock,
) -> None:
    storage = FlakyStorage()
    process, other = _sharing(storage), _sharing(storage)
    storage.down = True
    assert _allowed(process, "account 7", 3) == 3
    stepped.now += RETRY_STORAGE_SECONDS
    # Time to hand the three to the storage, which fails again: they stay owed.
    assert _allowed(process, "account 8", 1) == 1
    storage.down = False
    stepped.now += RETRY_STORAGE_SECONDS

    assert _allowed(process, "account 9", 1) == 1
    assert _allowed(other, "account 7", 9) == 6
    assert process.storage_failures == 2


def test_an_attempt_counted_while_the_storage_fails_to_take_back_the_others_is_kept(
    stepped: SteppedClock,
) -> None:
    storage = FlakyStorage()
    process, other = _sharing(storage), _sharing(storage)
    storage.down = True
    assert _allowed(process, "account 7", 3) == 3
    stepped.now += RETRY_STORAGE_SECONDS

    def another_request() -> None:
        request = threading.Thread(target=_allowed, args=(process, "account 7", 1))
        request.start()
        request.join(5)

    # While the three are being handed back, another request of this process counts
    # one more attempt in memory; then the storage fails.
    storage.meanwhile = another_request
    assert _allowed(process, "account 8", 1) == 1
    storage.down = False
    stepped.now += RETRY_STORAGE_SECONDS

    assert _allowed(process, "account 9", 1) == 1
    assert _allowed(other, "account 7", 9) == 5
