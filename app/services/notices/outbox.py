"""The email outbox: messages are written in the request's transaction and delivered
after commit, so SMTP being slow or down never loses a message or changes a page.

A message is queued as the name of its email and the parameters it is rendered from,
encrypted; the sender renders it. So queueing costs a request little, and a request that
queues an email takes about as long as one that does not."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app import metrics
from app.models import Account, OutgoingEmail
from app.services.kernel.clock import Clock
from app.services.kernel.secret_keys import OUTBOX, fernet_for


def outbox_cipher(secret: str) -> Fernet:
    """The key of the outbox's bodies, derived from the app's secret."""
    return fernet_for(secret, OUTBOX)


class Outbox:
    """Queues messages inside the caller's transaction."""

    def __init__(
        self,
        dbsession: Session,
        cipher: Fernet,
        clock: Clock,
        on_queued: Callable[[], None] | None = None,
        default_locale: Callable[[], str] | None = None,
    ) -> None:
        self.dbsession = dbsession
        self.cipher = cipher
        self.clock = clock
        self.on_queued = on_queued
        # The language of an email to someone who has not chosen one: the request's.
        self.default_locale = default_locale or (lambda: "en")

    def queue(self, recipient: str, template: str, params: Mapping[str, Any]) -> OutgoingEmail:
        """Queue the email `template` (see mail_templates.py) with these parameters,
        which must be plain JSON values. It is written in the recipient's language: the
        one their account has chosen, or else the language of the request; and greets
        the recipient by the name their account gave, if any."""
        now = self.clock.now()
        found = self.dbsession.execute(
            select(Account.locale, Account.display_name).where(Account.email == recipient)
        ).first()
        locale, name = found if found is not None else (None, None)
        params = {**params, "locale": locale or self.default_locale()}
        if name:
            params["greeting_name"] = name
        message = OutgoingEmail(
            recipient=recipient,
            template=template,
            payload=self.cipher.encrypt(json.dumps(params).encode("utf-8")),
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        self.dbsession.add(message)
        self.dbsession.flush()
        metrics.EMAILS_QUEUED.labels(template).inc()
        if self.on_queued is not None:
            self.on_queued()
        return message


# Messages still to be sent: neither sent nor given up on.
_PENDING = (OutgoingEmail.sent_at.is_(None), OutgoingEmail.failed_at.is_(None))


@dataclass(frozen=True)
class Backlog:
    """The messages waiting in the outbox: how many, and when the oldest was queued."""

    count: int
    oldest_queued_at: datetime | None


def backlog(connection: Connection) -> Backlog:
    row = connection.execute(
        select(func.count(), func.min(OutgoingEmail.created_at)).where(*_PENDING)
    ).one()
    return Backlog(count=row[0], oldest_queued_at=row[1])


def oldest_due_at(connection: Connection) -> datetime | None:
    """When the first waiting message is, or was, due to be sent (None if none waits).
    Once that is in the past, the time since is how long the outbox has waited for a
    sender to take it. A message waiting out its retry backoff (its server refused it
    for now) is not due yet, so one recipient's troubles do not count there."""
    return connection.execute(
        select(func.min(OutgoingEmail.next_attempt_at)).where(*_PENDING)
    ).scalar()
