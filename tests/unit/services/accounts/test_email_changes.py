"""Changing the address and confirming a new one, through the services: where the link
was used from, which codes can confirm, an address taken meanwhile, and the limit on
sending confirmation links again (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, AccountEvent, OneTimeCode
from app.services.composition import ServiceFactory, Services
from app.services.kernel.audit import RequestOrigin
from app.services.kernel.errors import (
    CodeUnknown,
    CodeUsed,
    EmailTaken,
    RateLimited,
    WrongCurrentPassword,
    WrongRegistrationPassword,
)
from app.services.notices.account_mail import masked
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import STRONG_PASSWORD, make_services, unit_settings
from tests.factories import EMAIL
from tests.support import IP, LINK_PATTERN, FakeClock
from tests.support.outbox import body_text, emails_to

NEW = "new.address@example.org"


def _change_code(dbsession: Session, clock: FakeClock, hasher: PasswordHasher, account: Account):
    make_services(dbsession, clock, hasher).email_changes.request(account, STRONG_PASSWORD, NEW)
    [mail] = emails_to(dbsession, NEW)
    match = LINK_PATTERN.search(body_text(mail))
    assert match is not None
    return match.group(1)


def test_a_new_address_is_confirmed_with_its_own_link_from_where_it_was_opened(
    alice: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    code = _change_code(dbsession, clock, hasher, alice)
    clock.advance(minutes=3)
    reset = make_services(dbsession, clock, hasher).accounts.create_reset_code(EMAIL, None)
    assert reset is not None
    confirming = make_services(dbsession, clock, hasher, ip=IP).email_changes

    with pytest.raises(CodeUnknown):
        confirming.confirm(reset, None)
    assert confirming.confirm(code, None) is alice

    assert (alice.email, alice.email_verified_at) == (NEW, clock.now())
    [changed] = dbsession.scalars(select(AccountEvent).where(AccountEvent.kind == "email_changed"))
    assert (changed.account_id, changed.details) == (alice.id, {"to": masked(NEW)})
    used = dbsession.scalars(select(OneTimeCode).where(OneTimeCode.purpose == "change_email"))
    assert used.one().used_ip == IP


def test_an_address_taken_by_another_account_meanwhile_is_refused_with_the_reason(
    alice: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    code = _change_code(dbsession, clock, hasher, alice)
    make_services(dbsession, clock, hasher).accounts.create_account(NEW, STRONG_PASSWORD)

    with pytest.raises(EmailTaken) as taken:
        make_services(dbsession, clock, hasher).email_changes.confirm(code, None)

    assert str(taken.value) == "That address has been taken by another account meanwhile."
    assert alice.email == EMAIL


def test_confirmation_links_are_sent_again_within_each_accounts_own_limit(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    settings = unit_settings(rate_limits={"confirmation_per_account": "1/hour"})
    factory = ServiceFactory(settings, clock=clock, hasher=hasher)
    services = factory.services(dbsession, RequestOrigin(ip=IP))
    first = services.accounts.create_account("first@example.com", STRONG_PASSWORD)
    second = services.accounts.create_account("second@example.com", STRONG_PASSWORD)

    assert services.registration.send_another_link(first) is True
    assert services.registration.send_another_link(first) is False
    assert services.registration.send_another_link(second) is True
    assert [len(emails_to(dbsession, a.email)) for a in (first, second)] == [1, 1]


def test_asking_to_change_the_address_is_recorded_either_way(
    alice: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    services = make_services(dbsession, clock, hasher)
    with pytest.raises(WrongCurrentPassword):
        services.email_changes.request(alice, "not the password", NEW)
    services.email_changes.request(alice, STRONG_PASSWORD, NEW)

    recorded = [
        (e.kind, e.account_id, e.details)
        for e in dbsession.scalars(select(AccountEvent).order_by(AccountEvent.id))
    ]
    assert recorded == [
        ("email_change_failed", alice.id, {}),
        ("email_change_requested", alice.id, {"to": masked(NEW)}),
    ]


def test_address_change_requests_are_limited_per_account(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    settings = unit_settings(rate_limits={"change_email_per_account": "1/hour"})
    services = ServiceFactory(settings, clock=clock, hasher=hasher).services(dbsession)
    first = services.accounts.create_account("first@example.com", STRONG_PASSWORD)
    second = services.accounts.create_account("second@example.com", STRONG_PASSWORD)

    services.email_changes.request(first, STRONG_PASSWORD, "one@example.org")
    with pytest.raises(RateLimited):
        services.email_changes.request(first, STRONG_PASSWORD, "two@example.org")
    services.email_changes.request(second, STRONG_PASSWORD, "three@example.org")


def test_address_change_requests_are_limited_per_new_address_whoever_asks(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    """docs/security.md 55: four accounts once sent one mailbox 20 emails in a minute."""
    settings = unit_settings(rate_limits={"change_email_per_address": "2/hour"})
    services = ServiceFactory(settings, clock=clock, hasher=hasher).services(dbsession)
    senders = [
        services.accounts.create_account(f"sender{n}@example.com", STRONG_PASSWORD)
        for n in range(3)
    ]
    services.accounts.create_account("taken@example.org", STRONG_PASSWORD)

    for target in ("victim@example.org", "taken@example.org"):
        services.email_changes.request(senders[0], STRONG_PASSWORD, target)
        services.email_changes.request(senders[1], STRONG_PASSWORD, target.upper())
        # New address or taken, the third request is refused alike, and sends nothing.
        with pytest.raises(RateLimited):
            services.email_changes.request(senders[2], STRONG_PASSWORD, target)
        assert len(emails_to(dbsession, target)) == 2
    services.email_changes.request(senders[2], STRONG_PASSWORD, "another@example.org")


def test_a_registration_is_confirmed_only_with_a_confirmation_link(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    services = make_services(dbsession, clock, hasher)
    account = services.accounts.create_account("new@example.com", STRONG_PASSWORD)
    reset = services.accounts.create_reset_code("new@example.com", None)
    assert reset is not None

    with pytest.raises(CodeUnknown):
        make_services(dbsession, clock, hasher).registration.confirm(reset, STRONG_PASSWORD)
    assert account.email_verified_at is None


def test_confirming_a_registration_is_recorded_stamped_and_spends_the_other_links(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    services = make_services(dbsession, clock, hasher, ip=IP)
    account = services.accounts.create_account("new@example.com", STRONG_PASSWORD)
    first = services.codes.create(account, "verify_email", None)
    second = services.codes.create(account, "verify_email", None)

    with pytest.raises(WrongRegistrationPassword):
        make_services(dbsession, clock, hasher).registration.confirm(first, "not the password")
    make_services(dbsession, clock, hasher, ip=IP).registration.confirm(first, STRONG_PASSWORD)
    confirmed_at = clock.now()
    clock.advance(hours=1)
    with pytest.raises(CodeUsed):
        make_services(dbsession, clock, hasher).registration.confirm(second, STRONG_PASSWORD)

    assert account.email_verified_at == confirmed_at
    used = dbsession.execute(
        select(OneTimeCode.used_ip, OneTimeCode.used_at).order_by(OneTimeCode.id)
    ).all()
    # The second link was spent with the first, from no address of its own.
    assert used == [(IP, confirmed_at), (None, confirmed_at)]
    recorded = [
        (e.kind, e.account_id)
        for e in dbsession.scalars(select(AccountEvent).order_by(AccountEvent.id))
    ]
    assert recorded == [
        ("email_confirmation_failed", account.id),
        ("email_confirmed", account.id),
        ("code_used", account.id),
    ]


def _after_strangers_used_up_the_allowance(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher, confirmed: bool
) -> tuple[Account, Services, Services]:
    """Alice's account, known to one browser of hers; strangers have used up every new
    browser's guesses at it. Returns (alice, her browser, a stranger's browser)."""
    limits = {"signin_per_account": "2/hour", "signin_per_device": "2/hour"}
    factory = ServiceFactory(unit_settings(rate_limits=limits), clock=clock, hasher=hasher)
    setup = factory.services(dbsession)
    alice = setup.accounts.create_account(EMAIL, STRONG_PASSWORD, email_verified=confirmed)
    token = setup.devices.remember(alice, None).token
    stranger = factory.services(dbsession, RequestOrigin(ip="192.0.2.66"))
    for _ in range(2):
        with pytest.raises(WrongCurrentPassword):
            stranger.email_changes.request(alice, "a wrong password guess", NEW)
    owner = factory.services(dbsession, RequestOrigin(ip=IP, device_token=token))
    return alice, owner, stranger


def test_strangers_guessing_do_not_stop_the_owners_browser_from_changing_the_address(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    alice, owner, stranger = _after_strangers_used_up_the_allowance(
        dbsession, clock, hasher, confirmed=True
    )

    with pytest.raises(RateLimited):
        stranger.email_changes.request(alice, STRONG_PASSWORD, NEW)
    owner.email_changes.request(alice, STRONG_PASSWORD, NEW)

    assert [m.template for m in emails_to(dbsession, NEW)] == ["confirm_new_email"]


def test_strangers_guessing_do_not_stop_the_owners_browser_from_confirming_the_registration(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    alice, owner, stranger = _after_strangers_used_up_the_allowance(
        dbsession, clock, hasher, confirmed=False
    )
    code = owner.codes.create(alice, "verify_email", None)

    with pytest.raises(RateLimited):
        stranger.registration.confirm(code, STRONG_PASSWORD)
    assert owner.registration.confirm(code, STRONG_PASSWORD) is alice

    assert alice.email_verified_at == clock.now()
