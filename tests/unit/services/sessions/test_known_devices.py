"""Which browsers an account knows, the order of its signed-in devices, and how a list
is cut into pages (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account
from app.services.composition import Services
from app.services.kernel.pagination import paginate
from app.services.sessions.known_devices import MAX_TOKEN_LENGTH
from tests.conftest import STRONG_PASSWORD
from tests.support import FakeClock


def test_a_browser_is_known_only_to_the_accounts_it_signed_in_to(
    services: Services, alice: Account
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    alices_browser = services.devices.remember(alice, None).token
    bobs_browser = services.devices.remember(bob, None).token

    assert services.devices.is_known(alice.id, alices_browser) is True
    assert services.devices.is_known(alice.id, bobs_browser) is False
    assert services.devices.is_known(bob.id, alices_browser) is False
    assert services.devices.is_known(alice.id, "a token never handed out") is False


def test_a_token_that_is_not_one_of_ours_is_never_known(services: Services, alice: Account) -> None:
    for odd in ("", "x" * (MAX_TOKEN_LENGTH + 1), "t\u00f6ken"):
        services.devices.remember(alice, odd)
        assert services.devices.is_known(alice.id, odd) is False
    assert services.devices.is_known(alice.id, None) is False


def test_the_signed_in_devices_are_listed_most_recently_seen_first(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    _, first = services.login_sessions.start(alice, None, None)
    clock.advance(minutes=5)
    _, second = services.login_sessions.start(alice, None, None)
    clock.advance(minutes=5)
    _, third = services.login_sessions.start(alice, None, None)
    second.last_seen_at = clock.now() + timedelta(minutes=1)

    listed = services.login_sessions.list_active(alice.id)
    assert [s.id for s in listed] == [second.id, third.id, first.id]


def test_a_list_that_fits_on_one_page_has_one_page(
    services: Services, alice: Account, dbsession: Session
) -> None:
    query = select(Account).order_by(Account.id)

    assert (paginate(dbsession, query, 1, 10).pages, paginate(dbsession, query, 1, 1).pages) == (
        1,
        1,
    )
    services.accounts.create_account("bob@example.com", None)
    page = paginate(dbsession, query, 5, 1)
    assert (page.page, page.pages, page.total, [a.email for a in page.items]) == (
        2,
        2,
        2,
        ["bob@example.com"],
    )
