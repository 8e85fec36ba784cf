"""The outbox in a test: the emails queued for an address and their text, a transport
that records (or fails), and a sender built as the app builds one, with short retries
and leases."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.mail.sender import OutboxSender
from app.mail.templates import MailTemplates
from app.models import OutgoingEmail
from app.services.notices.outbox import outbox_cipher
from tests.conftest import SECRET
from tests.support import FakeClock

SENDER = "Accounts <no-reply@example.test>"
RETRY_SECONDS = 30.0
LEASE_SECONDS = 300.0


class FakeTransport:
    """Records what it is asked to send; fails while `failures` is positive."""

    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        self.failures = failures
        self.delay = delay
        self.sent: list[Any] = []
        self.calls = 0
        self._lock = threading.Lock()

    def send_immediately(self, message: Any) -> None:
        # A short pause, as an SMTP conversation would take, lets concurrent senders overlap.
        time.sleep(self.delay)
        with self._lock:
            self.calls += 1
            if self.failures > 0:
                self.failures -= 1
                raise ConnectionRefusedError("smtp server down")
            self.sent.append(message)


def make_sender(
    session_factory: sessionmaker[Session],
    transport: Any,
    clock: FakeClock,
    retry_for: timedelta = timedelta(hours=48),
) -> OutboxSender:
    return OutboxSender(
        session_factory,
        outbox_cipher(SECRET),
        MailTemplates(),
        transport,
        clock,
        SENDER,
        retry_for=retry_for,
        retry_seconds=RETRY_SECONDS,
        max_backoff_seconds=3600.0,
        lease_seconds=LEASE_SECONDS,
    )


def stored(session_factory: sessionmaker[Session], message_id: int) -> OutgoingEmail:
    """The message as the database holds it now, read on a session of its own."""
    with session_factory() as session:
        message = session.get(OutgoingEmail, message_id)
        assert message is not None
        return message


def emails_to(dbsession: Session, recipient: str) -> list[OutgoingEmail]:
    """The emails queued for this address, oldest first."""
    return list(
        dbsession.scalars(
            select(OutgoingEmail)
            .where(OutgoingEmail.recipient == recipient)
            .order_by(OutgoingEmail.id)
        )
    )


def body_text(message: OutgoingEmail) -> str:
    """The text of a queued email, rendered as the sender will render it."""
    assert message.template is not None and message.payload is not None
    params = json.loads(outbox_cipher(SECRET).decrypt(message.payload))
    return MailTemplates().render(message.template, params).text
