"""When a session is seen in use: its last_seen_at moves once a minute at most (a tenth
of the idle limit, if that is shorter), so that reading pages is not a write each time
(each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.models import Account
from app.services.composition import Services
from app.services.sessions.login_sessions import (
    LAST_SEEN_RESOLUTION,
    LoginSessionService,
    SessionPolicy,
)
from tests.conftest import STRONG_PASSWORD
from tests.support import IP, FakeClock


def test_last_seen_moves_once_the_resolution_has_passed_and_not_before(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    token, session = services.login_sessions.start(alice, IP, None)
    started = session.last_seen_at

    clock.advance(seconds=LAST_SEEN_RESOLUTION.total_seconds() - 1)
    assert services.login_sessions.find_active(token) is session
    assert session.last_seen_at == started

    clock.advance(seconds=1)  # exactly the resolution since it was last seen
    assert services.login_sessions.find_active(token) is session
    assert session.last_seen_at == clock.now()
    assert session.last_seen_at - started == LAST_SEEN_RESOLUTION


def test_with_a_short_idle_limit_last_seen_moves_every_tenth_of_it(
    dbsession: Session, alice: Account, clock: FakeClock
) -> None:
    sessions = LoginSessionService(dbsession, clock, SessionPolicy(idle=timedelta(minutes=5)))
    token, session = sessions.start(alice, IP, None)
    started = session.last_seen_at

    clock.advance(seconds=29)
    assert sessions.find_active(token) is session
    assert session.last_seen_at == started

    clock.advance(seconds=1)  # a tenth of five minutes
    assert sessions.find_active(token) is session
    assert session.last_seen_at == started + timedelta(seconds=30)


def test_a_session_records_how_it_was_signed_in_to_a_password_unless_told(
    services: Services, alice: Account
) -> None:
    _, plain = services.login_sessions.start(alice, IP, None)
    _, with_key = services.login_sessions.start(alice, IP, None, method="passkey")

    assert (plain.sign_in_method, with_key.sign_in_method) == ("password", "passkey")


def test_a_long_user_agent_is_kept_to_the_columns_size(services: Services, alice: Account) -> None:
    _, session = services.login_sessions.start(alice, IP, "Mozilla/5.0 " + "x" * 600)

    assert session.user_agent == ("Mozilla/5.0 " + "x" * 600)[:512]


def test_beyond_the_maximum_the_session_that_started_first_is_ended(
    dbsession: Session, alice: Account, clock: FakeClock
) -> None:
    sessions = LoginSessionService(dbsession, clock, SessionPolicy(max_per_account=2))
    _, first_made = sessions.start(alice, IP, None)
    clock.advance(minutes=-10)  # another server, whose clock is behind
    _, oldest = sessions.start(alice, IP, None)
    clock.advance(minutes=20)

    _, newest = sessions.start(alice, IP, None)

    dbsession.expire_all()
    assert [s.revoked_at is None for s in (first_made, oldest, newest)] == [True, False, True]


def test_one_accounts_sign_ins_never_end_another_accounts_sessions(
    dbsession: Session, alice: Account, services: Services, clock: FakeClock
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    sessions = LoginSessionService(dbsession, clock, SessionPolicy(max_per_account=2))
    _, bobs = sessions.start(bob, IP, None)
    clock.advance(minutes=1)

    for _ in range(3):
        sessions.start(alice, IP, None)

    dbsession.expire_all()
    assert bobs.revoked_at is None


def test_a_session_ended_earlier_keeps_the_time_it_ended(
    dbsession: Session, alice: Account, clock: FakeClock
) -> None:
    sessions = LoginSessionService(dbsession, clock, SessionPolicy(max_per_account=2))
    _, ended = sessions.start(alice, IP, None)
    sessions.revoke(ended)
    ended_at = ended.revoked_at
    clock.advance(minutes=5)

    sessions.start(alice, IP, None)
    sessions.start(alice, IP, None)

    dbsession.expire_all()
    assert ended.revoked_at == ended_at
