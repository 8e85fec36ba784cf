"""docs/security.md 49: a Redis that hangs or stops never stalls a request, the limits
keep holding in memory meanwhile, and Redis holds no address or email in a form that
can be recovered. A real redis-server is paused (SIGSTOP) and stopped by the tests."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import SECRET, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, deliver_mail, forgot_password, sign_in
from tests.redis_server import RedisServer

ALICE = "alice@example.com"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def redis_app(make_app, app_settings, redis_server):
    return make_app({**app_settings, "ratelimit.storage_uri": redis_server.url})


def _timed_forgot(client, email: str) -> tuple[int, float]:
    started = time.monotonic()
    status = forgot_password(client, email, status="*").status_int
    return status, time.monotonic() - started


@pytest.mark.parametrize("fault", ["paused", "stopped"])
def test_a_redis_fault_neither_stalls_requests_nor_lifts_the_limits(
    redis_app, redis_server, smtp_server, fault, caplog
):
    create_account(redis_app, ALICE, STRONG_PASSWORD)
    if fault == "paused":
        redis_server.pause()
    else:
        redis_server.stop()
    with caplog.at_level(logging.ERROR, logger="app"):
        answers = [_timed_forgot(new_client(redis_app), ALICE) for _ in range(8)]
    if fault == "paused":
        redis_server.resume()

    assert [status for status, _ in answers] == [303] * 3 + [429] * 5
    # The form's GET and its POST together: well under the seconds a hung call would take.
    assert max(seconds for _, seconds in answers) < 2.0, answers
    deliver_mail(redis_app)
    assert len(smtp_server.mailbox.to(ALICE)) == 3
    assert [r.levelname for r in caplog.records if "storage unavailable" in r.getMessage()] == [
        "ERROR"
    ]
    assert redis_app.registry["services"].rate_limiter.storage_failures >= 1


def test_limits_go_back_to_redis_when_it_returns(redis_app, redis_server, monkeypatch):
    from app.services.kernel import rate_limits

    monkeypatch.setattr(rate_limits, "RETRY_STORAGE_SECONDS", 0.2)
    redis_server.stop()
    sign_in(new_client(redis_app), ALICE, "a guess", status=400)
    redis_server.start()
    time.sleep(0.3)
    sign_in(new_client(redis_app), ALICE, "a guess", status=400)
    keys = redis.Redis.from_url(redis_server.url).keys("*")
    assert keys, "the attempt after Redis came back was not counted in Redis"


def test_redis_holds_no_address_or_email_nor_a_plain_hash_of_one(redis_app, redis_server):
    client = new_client(redis_app, ip="198.51.100.23")
    sign_in(client, ALICE, "a guess", status=400)
    keys = b" ".join(redis.Redis.from_url(redis_server.url).keys("*")).decode()
    assert keys
    for value in (ALICE, "198.51.100.23"):
        assert value not in keys
        assert hashlib.sha256(value.encode()).hexdigest()[:32] not in keys
    expected = hmac.new(SECRET.encode(), ALICE.encode(), hashlib.sha256).hexdigest()[:32]
    assert expected in keys
