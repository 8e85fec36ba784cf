from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import start_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    yield from start_redis()
