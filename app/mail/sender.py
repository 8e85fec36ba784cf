"""Delivering the outbox: a sender that claims due messages, renders and sends them with
retries, and a thread that runs it beside the web requests."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.policy import compat32
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken
from pyramid_mailer.message import Message
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app import metrics
from app.mail.smtp_transport import PermanentFailure
from app.mail.templates import EmailContent, MailTemplates, UnknownEmail
from app.models import OutgoingEmail
from app.services.composition import ServiceFactory
from app.services.kernel.clock import Clock
from app.services.kernel.statements import rows_changed

log = logging.getLogger(__name__)

# The emails whose row is deleted once sent (or given up on): the goodbye to an erased
# account is the last thing that held its address (docs/security.md 71).
FORGOTTEN_ONCE_DONE = frozenset({"account_erased"})


class SMTPMessage(Message):
    """A pyramid_mailer message that flattens with CRLF line ends.

    SMTP requires CRLF; the stdlib's default is a bare LF, which strict servers refuse
    (and a long message then reads as one over-long line)."""

    def to_message(self) -> Any:
        message = super().to_message()
        message.policy = compat32.clone(linesep="\r\n")
        return message


class Transport(Protocol):
    def send_immediately(self, message: Any) -> None: ...


class Undeliverable(Exception):
    """Sending this message again cannot succeed: it is marked failed at once."""


class OutboxSender:
    """Delivers due messages. A temporary failure (the server away, a certificate that
    does not verify, a 4xx answer) is retried with exponential backoff for retry_for
    after the message was queued; a permanent one (a 5xx answer, an address the server
    cannot take, a link that expired while it waited) marks it failed at once. A
    message is never sent with a link that no longer works."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        cipher: Fernet,
        templates: MailTemplates,
        transport: Transport,
        clock: Clock,
        sender_address: str,
        retry_for: timedelta,
        retry_seconds: float,
        max_backoff_seconds: float = 3600.0,
        lease_seconds: float = 300.0,
    ) -> None:
        self.session_factory = session_factory
        self.cipher = cipher
        self.templates = templates
        self.transport = transport
        self.clock = clock
        self.sender_address = sender_address
        self.retry_for = retry_for
        self.retry_seconds = retry_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.lease_seconds = lease_seconds

    def deliver_due(self, limit: int = 100, should_stop: Callable[[], bool] | None = None) -> int:
        """Try every due message once (at most `limit`); returns how many were sent.
        `should_stop` is asked before each message: a worker told to stop finishes the
        message in hand and takes no other."""
        sent = 0
        for _ in range(limit):
            if should_stop is not None and should_stop():
                break
            claimed = self._claim_next()
            if claimed is None:
                break
            sent += self._deliver(claimed)
        return sent

    def _claim_next(self) -> tuple[int, Any] | None:
        """Take one due message for this sender with a conditional UPDATE.

        The claim moves next_attempt_at a lease ahead, so no other sender (thread or
        process, on SQLite or PostgreSQL) takes the same message while it is being sent,
        and no database lock is held during the SMTP conversation. If this process dies
        mid-send, the message becomes due again when the lease ends.

        On PostgreSQL the SELECT locks the one row it picks and other senders skip it;
        SQLite has no row locks, so there the UPDATE's condition settles a race and the
        loser looks again, up to twenty times before it leaves the rest to its next run."""
        for _ in range(20):
            with self.session_factory() as dbsession, dbsession.begin():
                now = self.clock.now()
                candidate = dbsession.execute(
                    select(OutgoingEmail.id, OutgoingEmail.attempts)
                    .where(
                        OutgoingEmail.sent_at.is_(None),
                        OutgoingEmail.failed_at.is_(None),
                        OutgoingEmail.next_attempt_at <= now,
                    )
                    .order_by(OutgoingEmail.next_attempt_at, OutgoingEmail.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if candidate is None:
                    return None
                claimed = rows_changed(
                    dbsession,
                    update(OutgoingEmail)
                    .where(
                        OutgoingEmail.id == candidate.id,
                        # Every claim counts an attempt, so an unchanged count means
                        # no other sender has claimed (let alone sent) it since the SELECT.
                        OutgoingEmail.attempts == candidate.attempts,
                    )
                    .values(
                        attempts=candidate.attempts + 1,
                        next_attempt_at=now + timedelta(seconds=self.lease_seconds),
                    )
                    .execution_options(synchronize_session=False),
                )
                if claimed == 1:
                    message = dbsession.get(OutgoingEmail, candidate.id)
                    assert message is not None
                    return message.id, self._build(message)
            # Another sender took it between our SELECT and UPDATE: look again.
        return None

    def _deliver(self, claimed: tuple[int, Any]) -> int:
        message_id, mail = claimed
        error: Exception | None = None
        if isinstance(mail, Exception):
            error = mail
        else:
            try:
                self.transport.send_immediately(mail)
            except Exception as exc:  # noqa: BLE001 - any transport failure is recorded
                error = exc
        sent = 1 if error is None else 0
        with self.session_factory() as dbsession, dbsession.begin():
            message = dbsession.get(OutgoingEmail, message_id)
            if message is None:
                # Deleted by hand while it was being sent: nothing left to record.
                return sent
            template, now = message.template or "rendered", self.clock.now()
            if error is None:
                message.sent_at = now
                message.last_error = None
                if not isinstance(mail, Exception):
                    message.subject = mail.subject
                # The parameters may hold a live code: once delivered they are not needed.
                self._erase(message)
                counter, done = metrics.EMAILS_SENT, True
            else:
                done = self._record_failure(message, error, now)
                counter = metrics.EMAILS_FAILED if done else metrics.EMAILS_DEFERRED
            if done and template in FORGOTTEN_ONCE_DONE:
                # Its recipient's account is gone: nothing, the address included, stays.
                dbsession.delete(message)
        # Counted once the outcome is committed.
        counter.labels(template).inc()
        return sent

    def _record_failure(self, message: OutgoingEmail, exc: Exception, now: datetime) -> bool:
        """Record a failed attempt; True if the message is given up on."""
        message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        permanent = isinstance(exc, Undeliverable | PermanentFailure)
        if permanent or now - message.created_at >= self.retry_for:
            message.failed_at = now
            self._erase(message)
            log.error(
                "Giving up on email %s after %s attempts: %s",
                message.id,
                message.attempts,
                type(exc).__name__ if not permanent else exc,
            )
            return True
        backoff = min(self.retry_seconds * 2 ** (message.attempts - 1), self.max_backoff_seconds)
        message.next_attempt_at = now + timedelta(seconds=backoff)
        log.warning(
            "Email %s not delivered (attempt %s), retrying in %.1f s: %s",
            message.id,
            message.attempts,
            backoff,
            type(exc).__name__,
        )
        return False

    @staticmethod
    def _erase(message: OutgoingEmail) -> None:
        message.payload = None
        message.body_text = None
        message.body_html = None

    def _build(self, message: OutgoingEmail) -> Any:
        """The message ready to send, or the exception that stops it being built."""
        try:
            if message.template is None:
                content = self._queued_rendered(message)
            else:
                params = json.loads(self.cipher.decrypt(message.payload or b""))
                expires = params.get("expires")
                if expires and datetime.fromisoformat(expires) <= self.clock.now():
                    return Undeliverable("its link expired before it could be sent")
                content = self.templates.render(message.template, params)
        except InvalidToken:
            return Undeliverable("the message cannot be decrypted with this secret")
        except (UnknownEmail, KeyError, ValueError) as exc:
            return Undeliverable(f"the message cannot be rendered: {type(exc).__name__}")
        return SMTPMessage(
            subject=content.subject,
            sender=self.sender_address,
            recipients=[message.recipient],
            body=content.text,
            html=content.html,
        )

    def _queued_rendered(self, message: OutgoingEmail) -> EmailContent:
        """A message queued already rendered, by a version before migration 0005."""
        return EmailContent(
            subject=message.subject or "",
            text=self.cipher.decrypt(message.body_text or b"").decode("utf-8"),
            html=self.cipher.decrypt(message.body_html or b"").decode("utf-8"),
        )


def make_outbox_sender(
    factory: ServiceFactory, session_factory: sessionmaker[Session], transport: Transport
) -> OutboxSender:
    """The sender of this process, from the settings: the app's thread and the mail
    workers build theirs the same way."""
    settings = factory.settings
    return OutboxSender(
        session_factory=session_factory,
        cipher=factory.cipher,
        templates=MailTemplates(settings.brand.site_name, auto_reload=settings.reload_templates),
        transport=transport,
        clock=factory.clock,
        sender_address=settings.mail_sender,
        retry_for=timedelta(hours=settings.mail_retry_hours),
        retry_seconds=settings.mail_retry_seconds,
    )
