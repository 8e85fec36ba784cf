"""The rate limiter itself, counting in memory: how long a refused client is told to
wait, and the keys it counts under."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from app.services.kernel.errors import RateLimited
from app.services.kernel.rate_limits import RateLimiter

START = 1_800_000_000.0


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The wall clock the limiter and its storage read, moved by hand."""
    current = [START]
    monkeypatch.setattr(time, "time", lambda: current[0])
    return current


def test_a_refused_attempt_is_told_to_wait_until_the_oldest_counted_one_leaves_the_window(
    now: list[float],
) -> None:
    limiter = RateLimiter("memory://", {"guesses": "3/minute"}, secret="s")
    limiter.hit("guesses", "alice@example.com")
    now[0] += 20
    limiter.hit("guesses", "alice@example.com")
    limiter.hit("guesses", "alice@example.com")

    with pytest.raises(RateLimited) as refused:
        limiter.hit("guesses", "alice@example.com")
    assert refused.value.retry_after == 40

    now[0] += 15.5
    with pytest.raises(RateLimited) as refused:
        limiter.check("guesses", "alice@example.com")
    assert refused.value.retry_after == 25  # 24.5 s, rounded up

    now[0] += 24.5
    limiter.check("guesses", "alice@example.com")
    # Counted in this process's memory only, with nothing failing on the way.
    assert limiter.shared is None
    assert limiter.storage_failures == 0


def test_what_is_counted_is_stored_as_an_hmac_of_the_sites_secret() -> None:
    limiter = RateLimiter("memory://", secret="the-secret")
    expected = hmac.new(b"the-secret", b"alice@example.com", hashlib.sha256).hexdigest()

    assert limiter._key("alice@example.com") == expected[:32]


def test_a_value_utf8_cannot_encode_still_has_a_key() -> None:
    # A lone surrogate (an undecodable byte in a Python string) is counted like any
    # other value, instead of failing with an encoding error.
    limiter = RateLimiter("memory://", {"guesses": "1/minute"}, secret="s")
    limiter.hit("guesses", "alice\udcff@example.com")

    with pytest.raises(RateLimited):
        limiter.hit("guesses", "alice\udcff@example.com")
    limiter.check("guesses", "alice@example.com")
