"""Whether the shared rate-limit storage answers, as the readiness check asks it: only a
storage that is there and answers counts (no database)."""

from __future__ import annotations

from limits.storage import MemoryStorage

from app.services.rate_limits import RateLimiter
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
