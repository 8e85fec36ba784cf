"""Picking one of the account's signed-in devices to sign it out: only a live session of
the account itself is found (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from app.models import Account
from app.services.composition import Services
from tests.conftest import STRONG_PASSWORD
from tests.support import IP, FakeClock


def test_a_live_session_of_the_account_is_found_for_signing_out(
    services: Services, alice: Account
) -> None:
    _, phone = services.login_sessions.start(alice, IP, "Phone browser")
    _, laptop = services.login_sessions.start(alice, IP, "Laptop browser")

    assert services.login_sessions.find_live(alice.id, laptop.id) is laptop
    assert services.login_sessions.find_live(alice.id, phone.id) is phone


def test_another_accounts_session_is_not_found_even_when_it_is_live(
    services: Services, alice: Account
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    _, bobs = services.login_sessions.start(bob, IP, None)

    assert services.login_sessions.find_live(alice.id, bobs.id) is None
    assert services.login_sessions.find_live(alice.id, bobs.id + 1000) is None


def test_a_session_already_signed_out_is_not_found(services: Services, alice: Account) -> None:
    _, ended = services.login_sessions.start(alice, IP, None)
    services.login_sessions.revoke(ended)

    assert services.login_sessions.find_live(alice.id, ended.id) is None


def test_a_session_that_went_idle_is_not_found(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    _, idle = services.login_sessions.start(alice, IP, None)
    idle_limit = services.login_sessions.policy.idle.total_seconds()
    clock.advance(seconds=idle_limit - 60)
    assert services.login_sessions.find_live(alice.id, idle.id) is idle

    clock.advance(seconds=120)

    assert services.login_sessions.find_live(alice.id, idle.id) is None


def test_a_session_lives_to_the_last_instant_of_its_idle_and_absolute_limits(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    sessions = services.login_sessions
    _, session = sessions.start(alice, IP, None)
    idle, absolute = sessions.policy.idle, sessions.policy.absolute
    tick = timedelta(microseconds=1)
    seen = session.last_seen_at

    assert sessions.is_expired(session, seen + idle) is False
    assert sessions.is_expired(session, seen + idle + tick) is True

    end = session.created_at + absolute
    session.last_seen_at = end - timedelta(minutes=1)  # in use to the end
    assert sessions.is_expired(session, end) is False
    assert sessions.is_expired(session, end + tick) is True


def test_another_accounts_session_is_not_signed_out_by_its_id(
    services: Services, alice: Account
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    _, bobs = services.login_sessions.start(bob, IP, None)

    assert services.login_sessions.revoke_by_id(alice.id, bobs.id) is False

    services.dbsession.expire_all()
    assert bobs.revoked_at is None
    assert services.login_sessions.find_live(bob.id, bobs.id) is bobs
