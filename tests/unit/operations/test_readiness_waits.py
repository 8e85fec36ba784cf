"""The readiness probe when all is well and when the database hangs: a process that was
always ready says nothing, and a hung database is reported as a timeout instead of
holding the answer."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.operations.readiness import ReadinessProbe
from app.services.kernel.rate_limits import RateLimiter
from tests.support import FakeClock

LOGGER = "app.operations.readiness"


def test_a_process_that_has_always_been_ready_logs_nothing(
    engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    probe = ReadinessProbe(
        engine, clock, RateLimiter("memory://", secret="s"), outbox_max_age=timedelta(minutes=15)
    )

    assert probe.check().ready
    assert probe.check().ready
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == []


def test_a_database_that_hangs_is_reported_as_a_timeout_without_waiting_for_it(
    engine: Engine, clock: FakeClock
) -> None:
    released = threading.Event()
    event.listen(engine, "connect", lambda *_: released.wait(10))
    engine.dispose()  # the next connection is a new one, and hangs
    probe = ReadinessProbe(
        engine, clock, RateLimiter("memory://", secret="s"), outbox_max_age=None, timeout=0.2
    )

    try:
        readiness = probe.check()
    finally:
        released.set()

    assert not readiness.ready
    assert readiness.checks == {"database": {"status": "timeout"}}
    # Once the database answers, the same probe is ready again (the hung round ends).
    assert any(probe.check().ready for _ in range(50))
    engine.dispose()
