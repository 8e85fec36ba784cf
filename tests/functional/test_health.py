"""/healthz and /readyz, as a load balancer asks them: every second, with no session."""

from __future__ import annotations

import threading
import time

import pytest
from alembic import command

from app import main
from tests.conftest import SECRET, STRONG_PASSWORD, alembic_config, new_client
from tests.functional.flows import create_account, deliver_mail, forgot_password
from tests.postgres import PostgresServer
from tests.redis_server import RedisServer

ALICE = "alice@example.com"
LOAD_BALANCER = "10.0.0.2"


@pytest.fixture
def balancer(wsgi_app):
    return new_client(wsgi_app, ip=LOAD_BALANCER)


def test_health_says_ok_with_no_session_cookie_or_database(balancer, wsgi_app, monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("the health check touched the database")

    monkeypatch.setattr(wsgi_app.registry["db_engine"], "connect", no_database)
    response = balancer.get("/healthz")
    assert response.json == {"status": "ok"}
    assert response.content_type == "application/json"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_lists_each_check(balancer):
    response = balancer.get("/readyz")
    assert response.json == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "outbox": {"status": "ok", "waited_seconds": 0, "limit_seconds": 900},
        },
    }
    assert "Set-Cookie" not in response.headers


def test_health_checks_are_never_rate_limited(balancer):
    # Well past every limit's allowance (the largest is 50 in 5 minutes).
    for _ in range(60):
        balancer.get("/healthz")
        balancer.get("/readyz")
    head = balancer.head("/readyz")
    assert head.status_int == 200 and head.body == b""


def test_ready_fails_once_the_first_due_email_waited_too_long(
    wsgi_app, balancer, smtp_server, clock
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), ALICE)
    clock.advance(minutes=14)
    assert balancer.get("/readyz").json["checks"]["outbox"]["waited_seconds"] == 14 * 60
    clock.advance(minutes=1)
    late = balancer.get("/readyz", status=503)
    assert late.json["status"] == "unavailable"
    assert late.json["checks"]["outbox"] == {
        "status": "late",
        "waited_seconds": 900,
        "limit_seconds": 900,
    }
    assert late.json["checks"]["database"] == {"status": "ok"}
    deliver_mail(wsgi_app)
    assert balancer.get("/readyz").json["status"] == "ok"


def test_an_email_waiting_for_its_retry_does_not_make_the_app_unready(
    make_app, app_settings, smtp_server, clock
):
    """A server that refuses one message for now is that message's trouble, not the
    app's: only a message that is due and left untaken counts."""
    wsgi_app = make_app({**app_settings, "mail.retry_seconds": "3600"})
    balancer = new_client(wsgi_app, ip=LOAD_BALANCER)
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), ALICE)
    smtp_server.stop()
    deliver_mail(wsgi_app)  # refused: tried again in an hour
    clock.advance(minutes=50)
    assert balancer.get("/readyz").json["status"] == "ok"
    clock.advance(minutes=30)
    assert balancer.get("/readyz", status=503).json["checks"]["outbox"]["status"] == "late"


def test_the_outbox_can_be_left_out_of_readiness(make_app, app_settings, clock):
    wsgi_app = make_app({**app_settings, "readiness.outbox_max_age_minutes": "0"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), ALICE)
    clock.advance(days=1)
    response = new_client(wsgi_app, ip=LOAD_BALANCER).get("/readyz")
    assert response.json["checks"] == {"database": {"status": "ok"}}


def test_ready_is_503_while_postgresql_is_stopped_and_200_once_it_is_back(postgresql_server):
    # A server of this test's own: stopping the shared one would disturb other tests.
    server = PostgresServer(postgresql_server.bin_dir)
    server.start()
    app = None
    try:
        server.janitor("readiness").init()
        command.upgrade(alembic_config(server.url("readiness")), "head")
        app = main(
            {},
            **{
                "sqlalchemy.url": server.url("readiness"),
                "app.secret": SECRET,
                "app.base_url": "http://127.0.0.1",
                "mail.delivery": "manual",
            },
        )
        balancer = new_client(app, ip=LOAD_BALANCER)
        assert balancer.get("/readyz").json["status"] == "ok"

        server.pause()
        down = balancer.get("/readyz", status=503)
        assert down.json["checks"] == {
            "database": {"status": "unavailable"},
            "outbox": {"status": "unknown"},
        }
        assert "Traceback" not in down.text
        assert balancer.get("/healthz").json == {"status": "ok"}  # the process still serves

        server.resume()
        back = balancer.get("/readyz")
        assert back.json["checks"]["database"] == {"status": "ok"}
    finally:
        if app is not None:
            app.registry["db_engine"].dispose()
        server.stop()


def test_ready_is_503_while_redis_does_not_answer(make_app, app_settings):
    redis = RedisServer()
    redis.start()
    try:
        wsgi_app = make_app({**app_settings, "ratelimit.storage_uri": redis.url})
        balancer = new_client(wsgi_app, ip=LOAD_BALANCER)
        assert balancer.get("/readyz").json["checks"]["redis"] == {"status": "ok"}
        redis.pause()
        started = time.monotonic()
        hung = balancer.get("/readyz", status=503)
        assert hung.json["checks"]["redis"]["status"] in ("unavailable", "timeout")
        assert hung.json["checks"]["database"] == {"status": "ok"}
        assert time.monotonic() - started < 3
        redis.resume()
        assert balancer.get("/readyz").json["status"] == "ok"
    finally:
        redis.remove()


def test_a_hung_check_holds_one_thread_and_answers_within_its_timeout(wsgi_app):
    """While a round of checks hangs, each poll waits for that round (at most the
    timeout) instead of starting another."""
    probe = wsgi_app.registry["readiness"]
    probe.timeout = 0.2
    release = threading.Event()
    rounds = []
    original = probe._check_database

    def hanging(current):
        rounds.append(current)
        release.wait(10)
        original(current)

    probe._check_database = hanging
    balancer = new_client(wsgi_app, ip=LOAD_BALANCER)
    try:
        for _ in range(3):
            timed_out = balancer.get("/readyz", status=503)
            assert timed_out.json["checks"]["database"] == {"status": "timeout"}
        assert len(rounds) == 1
    finally:
        release.set()
    deadline = time.monotonic() + 5
    while balancer.get("/readyz", status="*").status_int != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert balancer.get("/readyz").json["status"] == "ok"
