"""Housekeeping: old codes, ended sessions, delivered emails and old events are deleted
on a schedule."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.models import (
    Account,
    AccountEvent,
    LoginSession,
    OneTimeCode,
    OutgoingEmail,
    SpentChallenge,
)
from app.services.composition import ServiceFactory
from app.services.kernel.clock import Clock
from app.services.kernel.statements import rows_changed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    # Spent or expired codes are kept a while so that "this link was already used" can
    # still be told apart from "this link never existed".
    codes: timedelta = timedelta(days=30)
    sessions: timedelta = timedelta(days=30)
    emails: timedelta = timedelta(days=7)
    # The audit trail (audit.retention_days).
    events: timedelta = timedelta(days=365)
    # Events of no account (guesses at unknown addresses, unknown links): they tell an
    # operator about an attack while it lasts, and no owner ever reads them
    # (docs/security.md 57).
    anonymous_events: timedelta = timedelta(days=30)
    # Accounts registered but never confirmed (accounts.unverified_days).
    unconfirmed_accounts: timedelta = timedelta(days=7)
    # Answered passkey challenges: a challenge lives five minutes, so after an hour its
    # note can only be older than any cookie that could still carry it.
    spent_challenges: timedelta = timedelta(hours=1)


class Pruner:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        retention: RetentionPolicy | None = None,
        session_absolute: timedelta = timedelta(days=30),
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.retention = retention or RetentionPolicy()
        self.session_absolute = session_absolute

    def prune(self) -> dict[str, int]:
        """Delete what is past its retention; returns how many rows of each kind."""
        now = self.clock.now()
        with self.session_factory() as dbsession, dbsession.begin():
            codes = rows_changed(
                dbsession,
                delete(OneTimeCode).where(OneTimeCode.expires_at < now - self.retention.codes),
            )
            sessions = rows_changed(
                dbsession,
                delete(LoginSession).where(
                    or_(
                        LoginSession.revoked_at < now - self.retention.sessions,
                        LoginSession.created_at
                        < now - self.session_absolute - self.retention.sessions,
                    )
                ),
            )
            emails = rows_changed(
                dbsession,
                delete(OutgoingEmail).where(
                    or_(
                        OutgoingEmail.sent_at < now - self.retention.emails,
                        OutgoingEmail.failed_at < now - self.retention.emails,
                    )
                ),
            )
            events = rows_changed(
                dbsession,
                delete(AccountEvent).where(
                    or_(
                        AccountEvent.created_at < now - self.retention.events,
                        and_(
                            AccountEvent.account_id.is_(None),
                            AccountEvent.created_at < now - self.retention.anonymous_events,
                        ),
                    )
                ),
            )
            never_confirmed = select(Account.id).where(
                Account.email_verified_at.is_(None),
                # Invited accounts have no password until the invitation is used.
                Account.password_hash.is_not(None),
                Account.created_at < now - self.retention.unconfirmed_accounts,
            )
            # Their events stay, as an erased account's do, naming no one: no address,
            # IP, browser or details (docs/security.md 71).
            dbsession.execute(
                update(AccountEvent)
                .where(AccountEvent.account_id.in_(never_confirmed.scalar_subquery()))
                .values(ip=None, user_agent=None, details={})
                .execution_options(synchronize_session=False)
            )
            unconfirmed = rows_changed(
                dbsession, delete(Account).where(Account.id.in_(never_confirmed.scalar_subquery()))
            )
            challenges = rows_changed(
                dbsession,
                delete(SpentChallenge).where(
                    SpentChallenge.spent_at < now - self.retention.spent_challenges
                ),
            )
        counts = {
            "codes": codes,
            "sessions": sessions,
            "emails": emails,
            "events": events,
            "unconfirmed_accounts": unconfirmed,
            "spent_challenges": challenges,
        }
        if any(counts.values()):
            log.info(
                "Pruned %(codes)s codes, %(sessions)s sessions, %(emails)s emails,"
                " %(events)s events, %(unconfirmed_accounts)s unconfirmed accounts,"
                " %(spent_challenges)s answered passkey challenges",
                counts,
            )
        return counts


def make_pruner(factory: ServiceFactory, session_factory: sessionmaker[Session]) -> Pruner:
    """The housekeeping of this process, keeping records as long as the settings say."""
    settings = factory.settings
    retention = RetentionPolicy(
        events=timedelta(days=settings.audit_retention_days),
        unconfirmed_accounts=timedelta(days=settings.unverified_days),
    )
    return Pruner(
        session_factory, factory.clock, retention, session_absolute=factory.session_policy.absolute
    )
