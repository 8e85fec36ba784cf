"""The outbox's background thread and its hourly housekeeping, and revoking a device that
is already signed out."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.mail import thread as outbox_thread
from app.mail.thread import OutboxThread
from app.models import Account
from app.services.composition import Services
from tests.support import FakeClock


class RecordingSender:
    def __init__(self) -> None:
        self.threads: list[str] = []
        self.delivered = threading.Event()

    def deliver_due(self, *args: Any, **kwargs: Any) -> int:
        self.threads.append(threading.current_thread().name)
        self.delivered.set()
        return 0


class Monotonic:
    """Stands in for the time module in outbox_sender: a monotonic clock moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


def test_the_outbox_is_delivered_on_a_thread_of_its_own_named_for_it() -> None:
    sender = RecordingSender()
    thread = OutboxThread(sender, poll_seconds=60)  # type: ignore[arg-type]
    thread.start()
    try:
        assert sender.delivered.wait(5)
    finally:
        thread.stop()

    assert sender.threads == ["outbox-sender"]


@pytest.mark.parametrize("boot", [0.5, 50_000.0], ids=["just booted", "running for hours"])
def test_housekeeping_runs_on_the_first_pass_then_once_an_hour(
    monkeypatch: pytest.MonkeyPatch, boot: float
) -> None:
    clock = Monotonic(boot)
    monkeypatch.setattr(outbox_thread, "time", clock)
    runs: list[float] = []
    thread = OutboxThread(RecordingSender(), housekeeping=lambda: runs.append(clock.now))  # type: ignore[arg-type]

    thread._maybe_housekeep()
    clock.now += 3599.5
    thread._maybe_housekeep()
    clock.now += 0.5
    thread._maybe_housekeep()

    assert runs == [boot, boot + 3600]


def test_revoking_a_device_already_signed_out_changes_nothing(
    services: Services, alice: Account, clock: FakeClock, dbsession: Session
) -> None:
    _, login_session = services.login_sessions.start(alice, ip=None, user_agent=None)
    assert services.login_sessions.revoke_by_id(alice.id, login_session.id) is True
    first_revocation = clock.now()
    clock.advance(minutes=5)

    assert services.login_sessions.revoke_by_id(alice.id, login_session.id) is False
    dbsession.expire_all()
    assert login_session.revoked_at == first_revocation


class StuckSender:
    """A sender caught in an SMTP conversation that does not end."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def deliver_due(self, *args: Any, **kwargs: Any) -> int:
        self.entered.set()
        self.release.wait(10)
        return 0


def test_stopping_waits_for_the_thread_only_as_long_as_asked_and_it_runs_as_a_daemon() -> None:
    sender = StuckSender()
    thread = OutboxThread(sender, poll_seconds=60)  # type: ignore[arg-type]
    thread.start()
    assert sender.entered.wait(5)
    [running] = [t for t in threading.enumerate() if t.name == "outbox-sender"]
    assert running.daemon  # a stuck conversation never keeps the process from exiting

    started = time.monotonic()
    thread.stop(timeout=0.2)
    assert time.monotonic() - started < 2
    sender.release.set()
    running.join(5)
    assert not running.is_alive()


def test_stopping_twice_is_harmless() -> None:
    # The app stops the thread on shutdown, and again at exit (atexit).
    sender = RecordingSender()
    thread = OutboxThread(sender, poll_seconds=60)  # type: ignore[arg-type]
    thread.start()
    assert sender.delivered.wait(5)

    thread.stop()
    thread.stop()

    assert not [t for t in threading.enumerate() if t.name == "outbox-sender"]


class FailingOnceSender(RecordingSender):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def deliver_due(self, *args: Any, **kwargs: Any) -> int:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("database away")
        return super().deliver_due()


def test_a_failing_pass_is_logged_and_the_thread_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    sender = FailingOnceSender()
    thread = OutboxThread(sender, poll_seconds=0.01)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="app.mail.sender"):
        thread.start()
        try:
            assert sender.delivered.wait(5)
        finally:
            thread.stop()

    assert [r.getMessage() for r in caplog.records] == [
        "The outbox sender failed; it will try again"
    ]


def test_at_exit_a_stuck_sender_is_waited_for_five_seconds_at_most(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The app registers stop() with atexit, so the default bounds how long exit waits.
    sender = StuckSender()
    thread = OutboxThread(sender, poll_seconds=60)  # type: ignore[arg-type]
    thread.start()
    assert sender.entered.wait(5)
    [running] = [t for t in threading.enumerate() if t.name == "outbox-sender"]
    waits: list[float | None] = []
    monkeypatch.setattr(running, "join", lambda timeout=None: waits.append(timeout))

    thread.stop()

    assert waits == [5.0]
    monkeypatch.undo()
    sender.release.set()
    running.join(5)
    assert not running.is_alive()
