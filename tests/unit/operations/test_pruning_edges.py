"""Housekeeping at the exact edge of each retention: a row that reaches its retention
this very second is kept, one a second older is deleted (each test runs on SQLite and
PostgreSQL)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
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
from tests.support import FakeClock

SECOND = timedelta(seconds=1)
RETENTION = RetentionPolicy(
    codes=timedelta(days=30),
    sessions=timedelta(days=20),
    emails=timedelta(days=7),
    events=timedelta(days=365),
    unconfirmed_accounts=timedelta(days=7),
    spent_challenges=timedelta(hours=1),
)
ABSOLUTE = timedelta(days=10)


def _rows(dbsession: Session, now: datetime) -> None:
    account = Account(
        email="alice@example.com", is_admin=False, is_disabled=False, created_at=now, login_count=0
    )
    dbsession.add(account)
    dbsession.flush()
    for name, expires in (("edge", now - RETENTION.codes), ("old", now - RETENTION.codes - SECOND)):
        dbsession.add(
            OneTimeCode(
                account_id=account.id,
                purpose="reset",
                code_hash=name * 8,
                created_at=expires,
                expires_at=expires,
            )
        )
    revoked_edge = now - RETENTION.sessions
    created_edge = now - ABSOLUTE - RETENTION.sessions
    sessions = {
        "revoked-edge": (now, revoked_edge),
        "revoked-old": (now, revoked_edge - SECOND),
        "live-edge": (created_edge, None),
        "live-old": (created_edge - SECOND, None),
    }
    for name, (created, revoked) in sessions.items():
        dbsession.add(
            LoginSession(
                token_hash=name,
                account_id=account.id,
                created_at=created,
                last_seen_at=created,
                authenticated_at=created,
                revoked_at=revoked,
            )
        )
    edge = now - RETENTION.emails
    for name, sent, failed in (
        ("sent-edge", edge, None),
        ("sent-old", edge - SECOND, None),
        ("failed-edge", None, edge),
        ("failed-old", None, edge - SECOND),
        ("waiting", None, None),
    ):
        dbsession.add(
            OutgoingEmail(
                recipient=name,
                template="password_changed",
                created_at=now,
                attempts=1,
                next_attempt_at=now,
                sent_at=sent,
                failed_at=failed,
            )
        )
    for name, created in (
        ("edge", now - RETENTION.events),
        ("old", now - RETENTION.events - SECOND),
    ):
        dbsession.add(
            AccountEvent(account_id=account.id, kind=name, created_at=created, details={})
        )
    challenge_edge = now - RETENTION.spent_challenges
    for name, spent in (("c-edge", challenge_edge), ("c-old", challenge_edge - SECOND)):
        dbsession.add(SpentChallenge(challenge_hash=name, spent_at=spent))
    unconfirmed_edge = now - RETENTION.unconfirmed_accounts
    for name, created, password, confirmed in (
        ("unconfirmed-edge", unconfirmed_edge, "hash", None),
        ("unconfirmed-old", unconfirmed_edge - SECOND, "hash", None),
        ("invited-old", unconfirmed_edge - SECOND, None, None),
        ("confirmed-old", unconfirmed_edge - SECOND, "hash", now),
    ):
        dbsession.add(
            Account(
                email=f"{name}@example.com",
                password_hash=password,
                email_verified_at=confirmed,
                is_admin=False,
                is_disabled=False,
                created_at=created,
                login_count=0,
            )
        )
    dbsession.commit()


def test_each_kind_of_row_is_kept_to_the_second_of_its_retention_and_no_longer(
    dbsession: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = clock.now()
    _rows(dbsession, now)
    pruner = Pruner(session_factory, clock, RETENTION, session_absolute=ABSOLUTE)

    with caplog.at_level(logging.INFO, logger="app.operations.pruning"):
        counts = pruner.prune()

    assert counts == {
        "codes": 1,
        "sessions": 2,
        "emails": 2,
        "events": 1,
        "unconfirmed_accounts": 1,
        "spent_challenges": 1,
    }
    with session_factory() as session:
        assert session.scalars(select(OneTimeCode.code_hash)).all() == ["edge" * 8]
        assert sorted(session.scalars(select(LoginSession.token_hash))) == [
            "live-edge",
            "revoked-edge",
        ]
        assert sorted(session.scalars(select(OutgoingEmail.recipient))) == [
            "failed-edge",
            "sent-edge",
            "waiting",
        ]
        assert session.scalars(select(AccountEvent.kind)).all() == ["edge"]
        assert session.scalars(select(SpentChallenge.challenge_hash)).all() == ["c-edge"]
        assert sorted(session.scalars(select(Account.email))) == [
            "alice@example.com",
            "confirmed-old@example.com",
            "invited-old@example.com",
            "unconfirmed-edge@example.com",
        ]
    assert [r.getMessage() for r in caplog.records] == [
        "Pruned 1 codes, 2 sessions, 2 emails, 1 events, 1 unconfirmed accounts,"
        " 1 answered passkey challenges"
    ]


def test_nothing_to_prune_logs_nothing(
    session_factory: sessionmaker[Session], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.operations.pruning"):
        counts = Pruner(session_factory, clock).prune()

    assert set(counts.values()) == {0}
    assert caplog.records == []


def test_an_event_of_no_account_is_kept_to_the_second_of_its_own_shorter_retention(
    dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    now = clock.now()
    edge = now - RETENTION.anonymous_events
    assert RETENTION.anonymous_events < RETENTION.events
    for name, created in (("edge", edge), ("old", edge - SECOND)):
        dbsession.add(AccountEvent(account_id=None, kind=name, created_at=created, details={}))
    dbsession.commit()

    counts = Pruner(session_factory, clock, RETENTION, session_absolute=ABSOLUTE).prune()

    assert counts["events"] == 1
    with session_factory() as session:
        assert session.scalars(select(AccountEvent.kind)).all() == ["edge"]
