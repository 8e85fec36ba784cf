"""Housekeeping deletes what is past its retention, and nothing else."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import (
    Account,
    AccountEvent,
    LoginSession,
    OneTimeCode,
    OutgoingEmail,
    SpentChallenge,
)
from app.operations.pruning import Pruner, RetentionPolicy
from app.services.accounts.accounts import AccountService
from app.services.kernel import audit as events
from app.services.kernel.audit import AuditLog, RequestOrigin
from app.services.notices.outbox import Outbox, outbox_cipher
from tests.conftest import SECRET, STRONG_PASSWORD
from tests.support import FakeClock

NOTICE = {"email": "alice@example.com", "when": "2026-01-15T09:00:00+00:00", "ip": None}


def _count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_old_codes_sessions_and_emails_are_pruned_and_recent_ones_kept(
    account_service: AccountService, dbsession: Session, clock: FakeClock, session_factory
):
    account = account_service.create_account(
        "alice@example.com", STRONG_PASSWORD, email_verified=True
    )
    dbsession.flush()
    outbox = Outbox(dbsession, outbox_cipher(SECRET), clock)

    # Old: a code that expired 31 days from now, a session revoked then, an email sent then.
    account_service.create_reset_code("alice@example.com", None)
    _, old_session = account_service.login_sessions.start(account, None, None)
    account_service.login_sessions.revoke(old_session)
    old_email = outbox.queue("alice@example.com", "password_changed", NOTICE)
    old_email.sent_at = clock.now()
    dbsession.commit()

    clock.advance(days=31, hours=2)
    # Recent: made now, and still within their retention.
    account_service.create_reset_code("alice@example.com", None)
    account_service.login_sessions.start(account, None, None)
    unsent = outbox.queue("alice@example.com", "password_changed", NOTICE)
    dbsession.commit()

    counts = Pruner(session_factory, clock).prune()

    assert counts == {
        "codes": 1,
        "sessions": 1,
        "emails": 1,
        "events": 0,
        "unconfirmed_accounts": 0,
        "spent_challenges": 0,
    }
    assert _count(session_factory, OneTimeCode) == 1
    assert _count(session_factory, LoginSession) == 1
    with session_factory() as session:
        assert session.scalars(select(OutgoingEmail.id)).all() == [unsent.id]
    assert set(Pruner(session_factory, clock).prune().values()) == {0}


def test_an_unsent_email_is_never_pruned(dbsession: Session, clock: FakeClock, session_factory):
    Outbox(dbsession, outbox_cipher(SECRET), clock).queue(
        "alice@example.com", "password_changed", NOTICE
    )
    dbsession.commit()
    clock.advance(days=400)
    Pruner(session_factory, clock).prune()
    assert _count(session_factory, OutgoingEmail) == 1


def test_events_older_than_the_retention_are_pruned(
    account_service: AccountService, dbsession: Session, clock: FakeClock, session_factory
):
    """docs/security.md 36: the audit trail keeps audit.retention_days (365 by default)."""
    alice = account_service.create_account("alice@example.com", STRONG_PASSWORD)
    audit = AuditLog(dbsession, clock)
    audit.record(events.SIGN_IN, alice.id)
    dbsession.commit()
    clock.advance(days=200)
    kept = audit.record(events.SIGN_OUT, alice.id)
    dbsession.commit()
    clock.advance(days=166)

    retention = RetentionPolicy(events=timedelta(days=365))
    assert Pruner(session_factory, clock, retention).prune()["events"] == 1
    with session_factory() as session:
        assert session.scalars(select(AccountEvent.id)).all() == [kept.id]


def test_events_of_no_account_are_pruned_after_thirty_days(
    account_service: AccountService, dbsession: Session, clock: FakeClock, session_factory
):
    """docs/security.md 57: guesses at unknown addresses are kept a month, not a year."""
    alice = account_service.create_account("alice@example.com", STRONG_PASSWORD)
    audit = AuditLog(dbsession, clock)
    owners = audit.record(events.SIGN_IN_FAILED, alice.id)
    audit.record(events.SIGN_IN_FAILED, None)
    dbsession.commit()
    clock.advance(days=29)
    recent = audit.record(events.SIGN_IN_FAILED, None)
    dbsession.commit()
    clock.advance(days=1, seconds=1)

    assert Pruner(session_factory, clock).prune()["events"] == 1
    with session_factory() as session:
        ids = session.scalars(select(AccountEvent.id).order_by(AccountEvent.id)).all()
        assert ids == [owners.id, recent.id]


def test_accounts_never_confirmed_are_pruned_after_the_setting_and_others_kept(
    account_service: AccountService, dbsession: Session, clock: FakeClock, session_factory
):
    unconfirmed = account_service.create_account("squatter@example.com", STRONG_PASSWORD)
    account_service.create_account("alice@example.com", STRONG_PASSWORD, email_verified=True)
    account_service.create_account("invited@example.com", None)
    dbsession.commit()
    retention = RetentionPolicy(unconfirmed_accounts=timedelta(days=7))

    clock.advance(days=6, hours=23)
    assert Pruner(session_factory, clock, retention).prune()["unconfirmed_accounts"] == 0
    clock.advance(hours=2)
    assert Pruner(session_factory, clock, retention).prune()["unconfirmed_accounts"] == 1
    with session_factory() as session:
        emails = set(session.scalars(select(Account.email)))
    assert emails == {"alice@example.com", "invited@example.com"}
    assert unconfirmed.email not in emails


def test_answered_passkey_challenges_are_forgotten_after_an_hour(
    dbsession: Session, clock: FakeClock, session_factory
):
    dbsession.add(SpentChallenge(challenge_hash="a" * 64, spent_at=clock.now()))
    dbsession.commit()
    clock.advance(minutes=59)
    dbsession.add(SpentChallenge(challenge_hash="b" * 64, spent_at=clock.now()))
    dbsession.commit()
    clock.advance(minutes=2)
    assert Pruner(session_factory, clock).prune()["spent_challenges"] == 1
    with session_factory() as session:
        assert session.scalars(select(SpentChallenge.challenge_hash)).all() == ["b" * 64]


def test_an_account_never_confirmed_leaves_events_that_name_no_one(
    account_service: AccountService, dbsession: Session, clock: FakeClock, session_factory
):
    squatter = account_service.create_account("squatter@example.com", STRONG_PASSWORD)
    alice = account_service.create_account("alice@example.com", STRONG_PASSWORD)
    alice.email_verified_at = clock.now()

    audit = AuditLog(dbsession, clock, RequestOrigin(ip="198.51.100.77", user_agent="Browser/1"))
    audit.record(events.REGISTERED, squatter.id, note="squatter@example.com")
    audit.record(events.REGISTERED, alice.id, note="kept")
    dbsession.commit()
    clock.advance(days=8)
    assert Pruner(session_factory, clock).prune()["unconfirmed_accounts"] == 1
    with session_factory() as session:
        kept = {
            (e.account_id, e.ip, e.user_agent, str(e.details))
            for e in session.scalars(select(AccountEvent))
        }
    assert kept == {
        (None, None, None, "{}"),
        (alice.id, "198.51.100.77", "Browser/1", "{'note': 'kept'}"),
    }
