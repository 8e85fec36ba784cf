"""The outbox's background thread and its hourly housekeeping, and revoking a device that
is already signed out."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.models import Account
from app.services import outbox_sender
from app.services.composition import Services
from app.services.outbox_sender import OutboxThread
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
    monkeypatch.setattr(outbox_sender, "time", clock)
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
