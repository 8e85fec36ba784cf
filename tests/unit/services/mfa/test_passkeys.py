"""Passkeys through the services: what removing one leaves, what a passkey proves at
sign-in and re-authentication, and the events and limits of each (each test runs on
SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from app.models import Account
from app.services.composition import ServiceFactory, Services
from app.services.kernel import audit as events
from app.services.kernel.errors import (
    AccountDisabled,
    PasskeyRefused,
    RateLimited,
    SignInFailed,
)
from app.services.passwords.hashing import PasswordHasher
from app.services.signin.authentication import password_fingerprint
from app.services.signin.stages import AddressUnconfirmed
from tests.conftest import STRONG_PASSWORD, unit_settings
from tests.factories import EMAIL, add_passkey, add_recovery_codes, add_totp, passkey_answer
from tests.passkey_authenticator import b64url
from tests.support import FakeClock, waiting_sign_in
from tests.support.outbox import body_text, emails_to
from tests.support.records import recorded_as, recovery_codes_of

EXPIRED = "Your sign-in has expired. Sign in again."


def test_removing_the_last_second_factor_takes_its_recovery_codes_and_no_one_elses(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    admin = services.accounts.create_account("root@example.com", STRONG_PASSWORD, is_admin=True)
    for account in (alice, bob):
        add_passkey(services, account)
        add_recovery_codes(services, account)
    [passkey] = services.passkeys.for_account(alice.id)

    services.passkeys.remove(alice, passkey, by_admin_id=admin.id)

    assert (recovery_codes_of(dbsession, alice), recovery_codes_of(dbsession, bob)) == (0, 10)
    assert recorded_as(dbsession, events.PASSKEY_REMOVED) == [
        (alice.id, admin.id, {"name": "Phone"})
    ]
    # An administrator's removal is told in one email of its own (AccountAdminService),
    # not one per passkey.
    assert [m for m in emails_to(dbsession, EMAIL) if "removed" in body_text(m)] == []


def test_the_owner_is_told_of_a_passkey_removed_and_its_name(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    add_passkey(services, alice)
    [passkey] = services.passkeys.for_account(alice.id)
    services.passkeys.remove(alice, passkey)
    removed = [m for m in emails_to(dbsession, EMAIL) if "removed" in body_text(m)]
    assert removed and "Phone" in body_text(removed[-1])


@pytest.mark.parametrize("remaining", ["a second passkey", "an authenticator app"])
def test_recovery_codes_stay_while_another_second_factor_remains(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock, remaining: str
) -> None:
    add_passkey(services, alice, "Phone")
    if remaining == "a second passkey":
        add_passkey(services, alice, "Laptop")
        add_recovery_codes(services, alice)
    else:
        add_totp(services, alice)
    phone = next(p for p in services.passkeys.for_account(alice.id) if p.name == "Phone")

    services.passkeys.remove(alice, phone)

    assert recovery_codes_of(dbsession, alice) == 10


def test_a_passkey_is_found_by_its_id_within_its_own_account_only(
    services: Services, alice: Account
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    add_passkey(services, alice, "Phone")
    add_passkey(services, alice, "Laptop")
    add_passkey(services, bob, "Bob's")
    phone, laptop = sorted(services.passkeys.for_account(alice.id), key=lambda p: p.id)

    assert services.passkeys.find(alice, laptop.id) is laptop
    assert services.passkeys.find(bob, laptop.id) is None


def test_a_passkey_that_does_not_verify_its_user_cannot_stand_for_a_reauthentication(
    services: Services, alice: Account, dbsession: Session
) -> None:
    verifying = add_passkey(services, alice, "Phone")
    presence_only = add_passkey(services, alice, "Key", user_verifying=False)

    with pytest.raises(PasskeyRefused):
        services.authentication.reauthenticate_with_passkey(
            alice, *passkey_answer(services, presence_only)
        )
    services.authentication.reauthenticate_with_passkey(alice, *passkey_answer(services, verifying))

    assert recorded_as(dbsession, events.REAUTHENTICATED) == [
        (alice.id, None, {"factor": "passkey"})
    ]


def test_a_passkey_as_second_step_signs_in_even_without_user_verification(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    key = add_passkey(services, alice, "Key", user_verifying=False)
    pending = waiting_sign_in(alice.id, password_fingerprint(alice), clock.now())

    signed_in = services.signin.with_second_passkey(pending, *passkey_answer(services, key))

    assert signed_in.account is alice
    assert signed_in.method.factors == ("password", "passkey")
    assert recorded_as(dbsession, events.SIGN_IN) == [
        (alice.id, None, {"method": "password+passkey"})
    ]


@pytest.mark.parametrize("why", ["disabled", "password changed", "no second factor", "no account"])
def test_a_pending_sign_in_expires_when_the_account_changed_under_it(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock, why: str
) -> None:
    key = add_passkey(services, alice, "Phone")
    fingerprint = password_fingerprint(alice)
    account_id = alice.id
    if why == "disabled":
        alice.is_disabled = True
    elif why == "password changed":
        alice.password_hash = "$argon2id$another"
    elif why == "no second factor":
        for passkey in services.passkeys.for_account(alice.id):
            services.passkeys.remove(alice, passkey)
    else:
        account_id = alice.id + 1000
    dbsession.flush()

    with pytest.raises(SignInFailed) as refused:
        services.signin.with_second_passkey(
            waiting_sign_in(account_id, fingerprint, clock.now()), *passkey_answer(services, key)
        )
    assert str(refused.value) == EXPIRED


def test_passkey_answers_are_limited_per_account(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    limits = {"second_factor_per_account": "1/hour"}
    services = ServiceFactory(
        unit_settings(rate_limits=limits), clock=clock, hasher=hasher
    ).services(dbsession)
    alice = services.accounts.create_account(EMAIL, STRONG_PASSWORD, email_verified=True)
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD, email_verified=True)
    alices, bobs = add_passkey(services, alice), add_passkey(services, bob)

    services.authentication.reauthenticate_with_passkey(alice, *passkey_answer(services, alices))
    with pytest.raises(RateLimited):
        services.authentication.reauthenticate_with_passkey(
            alice, *passkey_answer(services, alices)
        )
    services.authentication.reauthenticate_with_passkey(bob, *passkey_answer(services, bobs))
    with pytest.raises(RateLimited):
        services.signin.with_second_passkey(
            waiting_sign_in(alice.id, password_fingerprint(alice), clock.now()),
            *passkey_answer(services, alices),
        )


COPIED = (
    "This passkey's counter went backwards, so it may have been copied; it was refused."
    " If it is yours, remove it and add it again."
)


@pytest.mark.parametrize("counter", [3, 0], ids=["went back", "back to zero"])
def test_a_counter_that_does_not_move_forward_is_refused_as_a_copy(
    services: Services, alice: Account, dbsession: Session, counter: int
) -> None:
    key = add_passkey(services, alice, "Key")
    for _ in range(4):  # the counter stands at 4 or more now
        services.authentication.reauthenticate_with_passkey(alice, *passkey_answer(services, key))
    ceremony = services.passkeys.authentication_ceremony()
    copied = key.get(json.loads(ceremony.options_json), sign_count=counter)

    with pytest.raises(PasskeyRefused) as refused:
        services.passkeys.verify(copied, ceremony.challenge, require_user_verification=True)

    assert str(refused.value) == COPIED
    assert recorded_as(dbsession, events.PASSKEY_CLONE_SUSPECTED) == [
        (alice.id, None, {"name": "Key"})
    ]


def test_using_one_passkey_moves_its_own_counter_only(
    services: Services, alice: Account, dbsession: Session
) -> None:
    phone = add_passkey(services, alice, "Phone")
    add_passkey(services, alice, "Laptop")
    before = {p.name: p.sign_count for p in services.passkeys.for_account(alice.id)}

    services.passkeys.verify(*passkey_answer(services, phone), require_user_verification=True)

    dbsession.expire_all()
    after = {p.name: p.sign_count for p in services.passkeys.for_account(alice.id)}
    assert after["Laptop"] == before["Laptop"]
    assert after["Phone"] > before["Phone"]


def test_a_passkey_that_does_not_verify_its_user_cannot_sign_in_without_a_password(
    services: Services, alice: Account, dbsession: Session
) -> None:
    verifying = add_passkey(services, alice, "Phone")
    presence_only = add_passkey(services, alice, "Key", user_verifying=False)

    with pytest.raises(PasskeyRefused):
        services.signin.with_passkey(*passkey_answer(services, presence_only))
    assert recorded_as(dbsession, events.SIGN_IN) == []

    assert services.signin.with_passkey(*passkey_answer(services, verifying)).account is alice
    assert recorded_as(dbsession, events.SIGN_IN) == [(alice.id, None, {"method": "passkey"})]


def test_another_accounts_passkey_cannot_stand_for_a_reauthentication(
    services: Services, alice: Account, dbsession: Session
) -> None:
    add_passkey(services, alice, "Phone")
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    bobs = add_passkey(services, bob, "Bob's")

    with pytest.raises(PasskeyRefused):
        services.authentication.reauthenticate_with_passkey(alice, *passkey_answer(services, bobs))

    assert recorded_as(dbsession, events.REAUTHENTICATED) == []
    assert recorded_as(dbsession, events.PASSKEY_REFUSED) == [
        (alice.id, None, {"reason": "unknown passkey"})
    ]


def test_a_passkey_of_a_disabled_account_is_refused_with_whom_to_ask(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    services = ServiceFactory(
        unit_settings(support_contact="help@example.com"), clock=clock, hasher=hasher
    ).services(dbsession)
    alice = services.accounts.create_account(EMAIL, STRONG_PASSWORD, email_verified=True)
    key = add_passkey(services, alice, "Phone")
    alice.is_disabled = True
    dbsession.flush()

    with pytest.raises(AccountDisabled) as refused:
        services.signin.with_passkey(*passkey_answer(services, key))

    assert str(refused.value) == (
        "This account is disabled, so it cannot sign in. To use it again, contact help@example.com."
    )
    assert recorded_as(dbsession, events.SIGN_IN_FAILED) == [
        (alice.id, None, {"reason": "disabled"})
    ]
    assert recorded_as(dbsession, events.SIGN_IN) == []


def test_a_passkey_sign_in_before_the_address_is_confirmed_names_the_account_to_confirm(
    services: Services, dbsession: Session
) -> None:
    alice = services.accounts.create_account(EMAIL, STRONG_PASSWORD)
    key = add_passkey(services, alice, "Phone")

    step = services.signin.with_passkey(*passkey_answer(services, key))

    assert isinstance(step, AddressUnconfirmed)
    assert (step.account, step.link_sent) == (alice, True)
    assert recorded_as(dbsession, events.SIGN_IN) == []
    assert recorded_as(dbsession, events.SIGN_IN_UNCONFIRMED) == [(alice.id, None, {})]


def test_a_refused_answer_is_recorded_for_its_account_with_the_reason_cut_short(
    services: Services, alice: Account, dbsession: Session
) -> None:
    key = add_passkey(services, alice, "Phone")
    ceremony = services.passkeys.authentication_ceremony(alice)
    elsewhere = "https://" + "a" * 300 + ".example"
    answer = key.get(json.loads(ceremony.options_json), origin=elsewhere)

    with pytest.raises(PasskeyRefused):
        services.authentication.reauthenticate_with_passkey(alice, answer, ceremony.challenge)

    [(account_id, _, details)] = recorded_as(dbsession, events.PASSKEY_REFUSED)
    assert account_id == alice.id
    assert details["reason"].startswith(f'Unexpected client data origin "{elsewhere[:100]}')
    assert len(details["reason"]) == 200


def test_the_ceremony_for_an_account_offers_its_own_passkeys_only(
    services: Services, alice: Account
) -> None:
    add_passkey(services, alice, "Phone")
    add_passkey(services, alice, "Laptop")
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    add_passkey(services, bob, "Bob's")
    alices_ids = {b64url(p.credential_id) for p in services.passkeys.for_account(alice.id)}

    for_alice = json.loads(services.passkeys.authentication_ceremony(alice).options_json)
    for_anyone = json.loads(services.passkeys.authentication_ceremony().options_json)

    assert {c["id"] for c in for_alice["allowCredentials"]} == alices_ids
    assert all(c["transports"] == ["internal"] for c in for_alice["allowCredentials"])
    assert for_anyone["allowCredentials"] == []
    assert for_anyone["userVerification"] == "required"
