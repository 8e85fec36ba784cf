"""The readiness checks as the probe runs them: what each check reports when the
database cannot be reached or the outbox waits, what the log says, and the thread
the checks run in."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.models import get_engine
from app.operations.readiness import ReadinessProbe
from app.services.kernel.rate_limits import RateLimiter
from app.services.notices.outbox import Outbox, outbox_cipher
from tests.conftest import SECRET
from tests.support import FakeClock

OUTBOX_MAX_AGE = timedelta(minutes=15)
LOGGER = "app.operations.readiness"


@pytest.fixture
def unreachable_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database that cannot be opened: its folder does not exist."""
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}"})
    yield engine
    engine.dispose()


def probe(engine: Engine, clock: FakeClock) -> ReadinessProbe:
    return ReadinessProbe(
        engine, clock, RateLimiter("memory://", secret="s"), outbox_max_age=OUTBOX_MAX_AGE
    )


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER and record.levelno == logging.WARNING
    ]


def queue_email(dbsession: Session, clock: FakeClock) -> Any:
    outbox = Outbox(dbsession, outbox_cipher(SECRET), clock)
    return outbox.queue("alice@example.com", "password_reset", {"reset_url": "x"})


def test_a_database_that_cannot_be_reached_makes_the_process_unready_and_the_outbox_unknown(
    unreachable_engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    readiness = probe(unreachable_engine, clock).check()
    assert not readiness.ready
    assert readiness.checks == {
        "database": {"status": "unavailable"},
        "outbox": {"status": "unknown"},
    }
    assert warnings(caplog) == ["Not ready: database unavailable, outbox unknown"]


def test_an_email_waiting_for_its_retry_has_not_waited_yet(
    engine: Engine, dbsession: Session, clock: FakeClock
) -> None:
    """Its next attempt is still ahead: the outbox reports no wait, not a negative one."""
    message = queue_email(dbsession, clock)
    message.next_attempt_at = clock.now() + timedelta(minutes=10)
    dbsession.commit()
    readiness = probe(engine, clock).check()
    assert readiness.ready
    assert readiness.checks["outbox"] == {"status": "ok", "waited_seconds": 0, "limit_seconds": 900}


def test_the_log_warns_once_when_the_process_stops_being_ready_and_once_when_it_is_back(
    engine: Engine, dbsession: Session, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    readiness = probe(engine, clock)
    message = queue_email(dbsession, clock)
    dbsession.commit()

    assert readiness.check().ready
    assert warnings(caplog) == []

    clock.advance(minutes=15)
    assert not readiness.check().ready
    assert not readiness.check().ready
    # Only the failing check is named: the database answered.
    assert warnings(caplog) == ["Not ready: outbox late"]

    message.sent_at = clock.now()
    dbsession.commit()
    assert readiness.check().ready
    assert readiness.check().ready
    assert warnings(caplog) == ["Not ready: outbox late", "Ready again"]


def test_the_checks_run_in_a_daemon_thread_named_readiness(
    engine: Engine, clock: FakeClock
) -> None:
    """The log format shows the thread's name, and a check hung on the database must not
    keep the process from exiting."""
    threads: list[threading.Thread] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record_thread(*args: Any) -> None:
        threads.append(threading.current_thread())

    assert probe(engine, clock).check().ready
    assert threads
    assert all(thread.name == "readiness" and thread.daemon for thread in threads)
    assert threading.current_thread() not in threads
