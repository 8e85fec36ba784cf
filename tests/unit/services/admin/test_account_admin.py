"""What administrators do, through AccountAdminService (on SQLite and PostgreSQL): each
refusal with its exact message, each action on the account it names and no other, and
the one event it leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, AccountEvent, KnownDevice, LoginSession, OneTimeCode
from app.services.admin.account_admin import AccountAdminService
from app.services.composition import Services
from app.services.kernel import audit as events
from app.services.kernel.errors import AdminActionRefused
from tests.conftest import STRONG_PASSWORD
from tests.factories import EMAIL, make_account
from tests.support import FakeClock
from tests.support.outbox import body_text, emails_to

BOB = "bob@example.com"


def recorded(dbsession: Session) -> list[tuple[str, int | None, int | None, dict[str, Any]]]:
    return [
        (e.kind, e.account_id, e.actor_id, e.details)
        for e in dbsession.scalars(select(AccountEvent).order_by(AccountEvent.id))
    ]


def _with_a_code_a_session_and_a_device(services: Services, account: Account) -> None:
    services.accounts.create_reset_code(account.email, None)
    services.login_sessions.start(account, ip=None, user_agent=None)
    services.devices.remember(account, None)


def _open_codes(dbsession: Session, account: Account) -> int:
    return len(
        dbsession.scalars(
            select(OneTimeCode).where(
                OneTimeCode.account_id == account.id, OneTimeCode.used_at.is_(None)
            )
        ).all()
    )


def _live_sessions(dbsession: Session, account: Account) -> int:
    return len(
        dbsession.scalars(
            select(LoginSession).where(
                LoginSession.account_id == account.id, LoginSession.revoked_at.is_(None)
            )
        ).all()
    )


def _devices(dbsession: Session, account: Account) -> int:
    return len(
        dbsession.scalars(select(KnownDevice).where(KnownDevice.account_id == account.id)).all()
    )


@pytest.fixture
def root(services: Services) -> Account:
    return services.accounts.create_account("root@example.com", STRONG_PASSWORD, is_admin=True)


def test_appointing_a_new_address_makes_an_administrator_without_a_password(
    services: Services, dbsession: Session
) -> None:
    account, created = services.admin.appoint_administrator(" Chief@Example.com ")

    assert created is True
    assert (account.email, account.is_admin, account.password_hash) == (
        "chief@example.com",
        True,
        None,
    )
    assert recorded(dbsession) == [
        (events.ADMINISTRATOR_APPOINTED, account.id, None, {"existing": False})
    ]


def test_appointing_an_existing_account_takes_everything_from_its_holder_and_nothing_from_others(
    services: Services, dbsession: Session
) -> None:
    squatted = make_account(services, EMAIL, confirmed=False, disabled=True)
    bystander = services.accounts.create_account(BOB, STRONG_PASSWORD)
    for account in (squatted, bystander):
        _with_a_code_a_session_and_a_device(services, account)
    dbsession.flush()

    account, created = services.admin.appoint_administrator(EMAIL)

    assert (account, created) == (squatted, False)
    assert account.is_admin is True and account.is_disabled is False
    assert (account.password_hash, account.password_changed_at) == (None, None)
    assert (_open_codes(dbsession, account), _live_sessions(dbsession, account)) == (0, 0)
    assert _devices(dbsession, account) == 0
    assert (_open_codes(dbsession, bystander), _live_sessions(dbsession, bystander)) == (1, 1)
    assert _devices(dbsession, bystander) == 1
    assert recorded(dbsession)[-1] == (
        events.ADMINISTRATOR_APPOINTED,
        account.id,
        None,
        {"existing": True},
    )


def test_an_invitation_makes_the_account_with_the_chosen_role_and_names_the_admin(
    services: Services, dbsession: Session, root: Account
) -> None:
    invited = services.admin.invite(BOB, is_admin=True, actor=root)
    plain = services.admin.invite("carol@example.com", is_admin=False, actor=root)

    assert (invited.is_admin, plain.is_admin) == (True, False)
    assert invited.password_hash is None
    assert recorded(dbsession) == [
        (events.ADMIN_CREATED_ACCOUNT, invited.id, root.id, {"is_admin": True}),
        (events.ADMIN_CREATED_ACCOUNT, plain.id, root.id, {"is_admin": False}),
    ]
    [mail] = emails_to(dbsession, BOB)
    assert mail.template == "invitation"


def test_an_admin_cannot_disable_their_own_account(services: Services, root: Account) -> None:
    with pytest.raises(AdminActionRefused) as refused:
        services.admin.disable(root, actor=root)
    assert str(refused.value) == "You cannot disable your own account."
    assert root.is_disabled is False


def test_the_last_active_administrator_cannot_be_disabled(
    services: Services, dbsession: Session, root: Account
) -> None:
    # A disabled administrator does not count as active, and a plain account may not be
    # the one left: the only active administrator stays.
    make_account(services, "old@example.com", None, confirmed=False, admin=True, disabled=True)
    bob = services.accounts.create_account(BOB, STRONG_PASSWORD)
    dbsession.flush()

    with pytest.raises(AdminActionRefused) as refused:
        services.admin.disable(root, actor=bob)
    assert str(refused.value) == "The last active administrator cannot be disabled."
    assert root.is_disabled is False


def test_one_of_two_active_administrators_can_be_disabled(
    services: Services, dbsession: Session, root: Account
) -> None:
    deputy = services.accounts.create_account("deputy@example.com", None, is_admin=True)
    dbsession.flush()

    services.admin.disable(deputy, actor=root)

    assert deputy.is_disabled is True
    with pytest.raises(AdminActionRefused):
        services.admin.disable(root, actor=deputy)


def test_disabling_ends_the_accounts_sessions_and_codes_and_no_one_elses(
    services: Services, dbsession: Session, root: Account
) -> None:
    alice = services.accounts.create_account(EMAIL, STRONG_PASSWORD)
    bob = services.accounts.create_account(BOB, STRONG_PASSWORD)
    for account in (alice, bob):
        _with_a_code_a_session_and_a_device(services, account)
    dbsession.flush()

    services.admin.disable(alice, actor=root)
    services.admin.enable(alice, actor=root)

    assert alice.is_disabled is False
    assert (_open_codes(dbsession, alice), _live_sessions(dbsession, alice)) == (0, 0)
    assert (_open_codes(dbsession, bob), _live_sessions(dbsession, bob)) == (1, 1)
    assert [e for e in recorded(dbsession) if e[2] is not None] == [
        (events.ADMIN_DISABLED, alice.id, root.id, {}),
        (events.ADMIN_ENABLED, alice.id, root.id, {}),
    ]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("has a password", "This account has already chosen a password."),
        ("disabled", "Enable the account before inviting it again."),
    ],
)
def test_an_invitation_is_sent_again_only_to_an_enabled_account_without_a_password(
    services: Services, dbsession: Session, root: Account, state: str, message: str
) -> None:
    password = STRONG_PASSWORD if state == "has a password" else None
    account = services.accounts.create_account(BOB, password)
    account.is_disabled = state == "disabled"
    dbsession.flush()

    with pytest.raises(AdminActionRefused) as refused:
        services.admin.resend_invitation(account, actor=root)
    assert str(refused.value) == message
    assert emails_to(dbsession, BOB) == []


def test_a_reset_link_is_not_sent_to_a_disabled_account(
    services: Services, dbsession: Session, root: Account
) -> None:
    account = make_account(services, BOB, confirmed=False, disabled=True)
    dbsession.flush()

    with pytest.raises(AdminActionRefused) as refused:
        services.admin.send_reset(account, actor=root)
    assert str(refused.value) == "Enable the account before sending it a reset link."
    assert emails_to(dbsession, BOB) == []


def test_sending_a_reset_link_to_an_invited_account_sends_the_invitation_again(
    services: Services, dbsession: Session, root: Account
) -> None:
    invited = services.accounts.create_account(BOB, None)
    active = services.accounts.create_account("carol@example.com", STRONG_PASSWORD)
    dbsession.flush()

    services.admin.send_reset(invited, actor=root)
    services.admin.send_reset(active, actor=root)

    assert [m.template for m in emails_to(dbsession, BOB)] == ["invitation"]
    [reset] = emails_to(dbsession, "carol@example.com")
    assert reset.template == "password_reset"
    assert "/account/reset_password/" in body_text(reset)
    assert recorded(dbsession) == [
        (events.ADMIN_SENT_INVITATION, invited.id, root.id, {}),
        (events.ADMIN_SENT_RESET, active.id, root.id, {}),
    ]


def test_an_account_that_is_not_an_administrator_can_be_disabled_with_no_administrator_active(
    services: Services, dbsession: Session
) -> None:
    # The rule protects the last administrator only: a script acting while every
    # administrator is disabled can still disable anyone else.
    retired = make_account(
        services, "old@example.com", None, confirmed=False, admin=True, disabled=True
    )
    alice = services.accounts.create_account(EMAIL, STRONG_PASSWORD)
    dbsession.flush()

    services.admin.disable(alice, actor=retired)

    assert alice.is_disabled is True


def _emails(page: Any) -> list[str]:
    return [account.email for account in page.items]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("a_b", ["a_b@example.com"]),
        ("a%b", ["a%b@example.com"]),
        ("%", ["a%b@example.com"]),
        ("a\\b", []),
        ("\\", []),
        ("  A_B@Example.COM ", ["a_b@example.com"]),
    ],
)
def test_a_search_means_its_text_wildcards_included(
    services: Services, dbsession: Session, query: str, found: list[str]
) -> None:
    for email in ("a_b@example.com", "axb@example.com", "a%b@example.com", "ab@example.com"):
        services.accounts.create_account(email, None)
    dbsession.flush()

    assert _emails(services.admin.list_accounts(query)) == found


def test_a_search_is_cut_to_the_longest_address() -> None:
    assert AccountAdminService.clean_query("  Mixed\x00Case  ") == "mixedcase"
    assert AccountAdminService.clean_query("x" * 300) == "x" * 254


def test_the_account_list_is_newest_first_and_starts_at_the_first_page(
    services: Services, dbsession: Session, clock: FakeClock
) -> None:
    services.accounts.create_account("first@example.com", None)
    clock.advance(minutes=-10)  # a clock that stepped back: the time still decides
    services.accounts.create_account("earlier@example.com", None)
    clock.advance(minutes=20)
    services.accounts.create_account("tie-a@example.com", None)
    services.accounts.create_account("tie-b@example.com", None)
    dbsession.flush()

    assert _emails(services.admin.list_accounts()) == [
        "tie-b@example.com",
        "tie-a@example.com",
        "first@example.com",
        "earlier@example.com",
    ]
    assert _emails(services.admin.list_accounts(per_page=1)) == ["tie-b@example.com"]


def test_the_addresses_of_those_who_acted_are_found_by_id_for_accounts_that_exist(
    services: Services, dbsession: Session, root: Account
) -> None:
    bob = services.accounts.create_account(BOB, None)
    dbsession.flush()

    found = services.admin.emails_by_id({root.id, bob.id, bob.id + 1000})

    assert found == {root.id: "root@example.com", bob.id: BOB}
    assert services.admin.emails_by_id(set()) == {}


def test_an_unknown_order_lists_the_newest_first(
    services: Services, dbsession: Session, clock: FakeClock
) -> None:
    services.accounts.create_account("b-older@example.com", None)
    clock.advance(minutes=1)
    services.accounts.create_account("a-newer@example.com", None)
    dbsession.flush()

    for sort in ("no such order", ""):
        assert _emails(services.admin.list_accounts(sort=sort)) == [
            "a-newer@example.com",
            "b-older@example.com",
        ]


def _account_with_id(dbsession: Session, clock: FakeClock, account_id: int, email: str) -> None:
    dbsession.add(
        Account(
            id=account_id,
            email=email,
            is_admin=False,
            is_disabled=False,
            created_at=clock.now(),
            login_count=0,
        )
    )
    dbsession.flush()


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("123456789", ["order-123456789@example.com", "someone@example.com"]),
        ("#123456789", ["someone@example.com"]),
    ],
)
def test_a_number_finds_the_account_of_that_id_and_the_addresses_that_contain_it(
    services: Services, dbsession: Session, clock: FakeClock, query: str, found: list[str]
) -> None:
    _account_with_id(dbsession, clock, 123456789, "someone@example.com")
    clock.advance(minutes=1)
    _account_with_id(dbsession, clock, 7, "order-123456789@example.com")
    _account_with_id(dbsession, clock, 8, "unrelated@example.com")

    assert _emails(services.admin.list_accounts(query)) == found


def test_a_number_longer_than_an_account_pages_id_searches_the_addresses_only(
    services: Services, dbsession: Session, clock: FakeClock
) -> None:
    # The account pages take ids of up to nine digits; a longer number is text, and is
    # never compared with the id column (where it could overflow PostgreSQL's integer).
    _account_with_id(dbsession, clock, 2000000000, "someone@example.com")
    _account_with_id(dbsession, clock, 9, "ref-2000000000@example.com")

    assert _emails(services.admin.list_accounts("2000000000")) == ["ref-2000000000@example.com"]
    assert _emails(services.admin.list_accounts("#9999999999")) == []


def _refusal_code(action: Callable[[], object]) -> str:
    with pytest.raises(AdminActionRefused) as refused:
        action()
    return refused.value.code


def test_each_refused_action_names_its_rule_by_its_code(
    services: Services, dbsession: Session, root: Account
) -> None:
    """The code a program reads beside the message, one for each rule."""
    admin = services.admin
    plain = services.accounts.create_account(BOB, STRONG_PASSWORD)
    invited_disabled = make_account(services, "carol@example.com", None, disabled=True)
    disabled = make_account(services, "dave@example.com", disabled=True)
    dbsession.flush()

    codes = [
        _refusal_code(lambda: admin.disable(root, actor=root)),
        _refusal_code(lambda: admin.disable(root, actor=plain)),
        _refusal_code(lambda: admin.resend_invitation(plain, actor=root)),
        _refusal_code(lambda: admin.resend_invitation(invited_disabled, actor=root)),
        _refusal_code(lambda: admin.send_reset(disabled, actor=root)),
        _refusal_code(lambda: admin.remove_two_factor(plain, actor=root)),
    ]

    assert codes == [
        "cannot_disable_yourself",
        "last_administrator",
        "already_has_password",
        "enable_first",
        "enable_first",
        "no_second_factor",
    ]


def test_appointing_an_existing_account_takes_its_other_ways_in_too(
    services: Services, dbsession: Session
) -> None:
    """A passkey, an authenticator app or a provider's account linked by whoever held
    the address before would sign in, or lock the new administrator out."""
    from app.services.upstream.journeys import UpstreamAnswer

    held = make_account(services, EMAIL, totp=True, passkey=True)
    services.upstream_links.link(
        held, UpstreamAnswer(provider="google", subject="s", email=EMAIL, email_verified=True)
    )
    dbsession.flush()

    account, _created = services.admin.appoint_administrator(EMAIL)

    assert services.passkeys.for_account(account.id) == []
    assert not services.two_factor.has_second_factor(account)
    assert services.upstream_links.links_of(account) == []
