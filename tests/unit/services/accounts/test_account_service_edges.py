"""Edges of the account services (on SQLite and PostgreSQL): how long a sign-in counts as
recent enough for a sensitive change, to the second; whose recovery codes are counted;
how long a refusal for too many attempts asks to wait; what a reset request records."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from app.models import Account, AccountEvent
from app.services.composition import Services
from app.services.kernel import audit as events
from app.services.kernel.errors import RateLimited
from tests.factories import add_recovery_codes, make_account
from tests.support import FakeClock


@pytest.mark.parametrize(
    ("since", "recent"),
    [(None, True), (timedelta(0), True), (timedelta(seconds=1), False)],
    ids=["just now", "at the limit", "a second past it"],
)
def test_a_sign_in_is_recent_up_to_the_limit_and_not_a_second_after(
    services: Services, clock: FakeClock, since: timedelta | None, recent: bool
) -> None:
    window = services.login_sessions.policy.reauthenticate_after
    age = timedelta(0) if since is None else window + since
    session: Any = SimpleNamespace(authenticated_at=clock.now() - age)

    assert services.login_sessions.is_recently_authenticated(session) is recent


def test_each_account_counts_only_its_own_recovery_codes_left(services: Services, alice) -> None:
    codes = add_recovery_codes(services, alice)
    bob = make_account(services, "bob@example.com", recovery_codes=True)

    assert services.two_factor.recovery_codes_left(alice.id) == len(codes)
    assert services.two_factor.recovery_codes_left(bob.id) == len(codes)


@pytest.mark.parametrize(("seconds", "wait"), [(30, 30), (0, 1), (-2, 1)])
def test_a_refusal_for_too_many_attempts_asks_to_wait_at_least_a_second(seconds, wait) -> None:
    assert RateLimited(seconds).retry_after == wait


def test_a_refusal_for_too_many_attempts_can_say_what_was_limited() -> None:
    refusal = RateLimited(60, "Too many codes were asked for.")

    assert (refusal.message, str(refusal)) == ("Too many codes were asked for.",) * 2
    assert str(RateLimited(60)) == "Too many attempts."


def test_each_reset_request_is_recorded_with_whether_a_link_was_sent(
    services: Services, alice, dbsession
) -> None:
    services.accounts.request_password_reset("nobody@example.com")
    services.accounts.request_password_reset(alice.email)
    dbsession.execute(update(Account).values(is_disabled=True))
    services.accounts.request_password_reset(alice.email)

    recorded = dbsession.scalars(
        select(AccountEvent)
        .where(AccountEvent.kind == events.RESET_REQUESTED)
        .order_by(AccountEvent.id)
    ).all()
    assert [(e.account_id, e.details) for e in recorded] == [
        (None, {"sent": False}),
        (alice.id, {"sent": True}),
        (alice.id, {"sent": False}),
    ]
