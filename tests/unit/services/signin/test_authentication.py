"""Signing in with a password, and its second step (each test runs on SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pyotp
import pytest
from passlib.hash import pbkdf2_sha256
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Account, AccountEvent
from app.services.accounts.accounts import AccountService
from app.services.composition import ServiceFactory, Services
from app.services.kernel import audit as events
from app.services.kernel.audit import RequestOrigin
from app.services.kernel.errors import AccountDisabled, InvalidSecondFactorCode, SignInFailed
from app.services.passwords.hashing import PasswordHasher, make_crypt_context
from app.services.signin.authentication import AuthenticationService, password_fingerprint
from app.services.signin.flow import SignInFlow
from app.services.signin.stages import AddressUnconfirmed
from tests.conftest import (
    BASE_URL,
    CHEAP_ARGON2,
    OTHER_PASSWORD,
    STRONG_PASSWORD,
    make_services,
    unit_settings,
)
from tests.factories import EMAIL, add_passkey
from tests.passkey_authenticator import SoftAuthenticator
from tests.support import FakeClock, SignsIn, waiting_sign_in
from tests.support.records import account_events


class CountingContext:
    """A CryptContext stand-in that counts every password verification it performs."""

    def __init__(self) -> None:
        self._context = make_crypt_context(**CHEAP_ARGON2)
        self.verifications = 0

    def hash(self, secret: str) -> str:
        return self._context.hash(secret)

    def verify(self, secret: str, stored: str) -> bool:
        self.verifications += 1
        return self._context.verify(secret, stored)

    def verify_and_update(self, secret: str, stored: str) -> tuple[bool, str | None]:
        self.verifications += 1
        return self._context.verify_and_update(secret, stored)


def test_right_password_signs_in(
    account_service: AccountService, alice: Account, authentication: AuthenticationService
) -> None:
    assert authentication.get_authenticated_account(" Alice@Example.com", STRONG_PASSWORD) is alice


def test_a_password_sign_in_is_recorded_as_one(
    alice: Account, signin: SignInFlow, dbsession: Session
) -> None:
    signin.with_password(EMAIL, STRONG_PASSWORD)

    signed_in = dbsession.scalars(select(AccountEvent).where(AccountEvent.kind == events.SIGN_IN))
    assert [(e.account_id, e.details) for e in signed_in] == [(alice.id, {"method": "password"})]


def test_a_sign_in_is_counted_on_its_own_account_only(
    account_service: AccountService,
    alice: Account,
    signin: SignInFlow,
    dbsession: Session,
) -> None:
    # Another account with the very same stored hash, as an import of another
    # system's hashes could give.
    bob = account_service.create_account("bob@example.com", OTHER_PASSWORD, email_verified=True)
    bob.password_hash = alice.password_hash
    dbsession.flush()

    signin.with_password(EMAIL, STRONG_PASSWORD)

    dbsession.expire_all()
    assert (alice.login_count, bob.login_count) == (1, 0)
    assert bob.last_login_at is None


@pytest.mark.parametrize(
    ("password", "disabled", "refused", "recorded"),
    [
        # An invited account, which has no password yet.
        (None, False, SignInFailed, (events.SIGN_IN_FAILED, {"reason": "no_account"})),
        # The right password, on a disabled account.
        (STRONG_PASSWORD, True, AccountDisabled, (events.SIGN_IN_FAILED, {"reason": "disabled"})),
    ],
)
def test_a_refused_sign_in_is_recorded_on_its_account(
    account_service: AccountService,
    signin: SignInFlow,
    dbsession: Session,
    password: str | None,
    disabled: bool,
    refused: type[Exception],
    recorded: tuple[str, dict],
) -> None:
    carol = account_service.create_account("carol@example.com", password)
    carol.is_disabled = disabled

    with pytest.raises(refused):
        signin.with_password("carol@example.com", STRONG_PASSWORD)

    rows = dbsession.scalars(select(AccountEvent).where(AccountEvent.account_id == carol.id))
    assert [(e.kind, e.details) for e in rows] == [recorded]


def test_the_right_password_on_an_address_not_confirmed_yet_asks_for_the_confirmation(
    account_service: AccountService, signin: SignInFlow, dbsession: Session
) -> None:
    carol = account_service.create_account("carol@example.com", STRONG_PASSWORD)

    step = signin.with_password("carol@example.com", STRONG_PASSWORD)

    assert isinstance(step, AddressUnconfirmed)
    assert (step.account, step.link_sent) == (carol, True)
    rows = dbsession.scalars(select(AccountEvent).where(AccountEvent.account_id == carol.id))
    assert [(e.kind, e.details) for e in rows] == [(events.SIGN_IN_UNCONFIRMED, {})]
    assert carol.login_count == 0


def test_wrong_password_does_not_sign_in(
    account_service: AccountService, alice: Account, authentication: AuthenticationService
) -> None:
    assert authentication.get_authenticated_account(EMAIL, OTHER_PASSWORD) is None


def test_unknown_email_does_not_sign_in(
    account_service: AccountService, alice: Account, authentication: AuthenticationService
) -> None:
    assert authentication.get_authenticated_account("bob@example.com", STRONG_PASSWORD) is None


def test_disabled_account_does_not_sign_in(
    account_service: AccountService,
    alice: Account,
    dbsession: Session,
    authentication: AuthenticationService,
) -> None:
    alice.is_disabled = True
    dbsession.flush()

    assert authentication.get_authenticated_account(EMAIL, STRONG_PASSWORD) is None


def test_invited_account_without_password_does_not_sign_in(
    account_service: AccountService,
    authentication: AuthenticationService,
) -> None:
    account_service.create_account(EMAIL, None)

    assert authentication.get_authenticated_account(EMAIL, "") is None
    assert authentication.get_authenticated_account(EMAIL, STRONG_PASSWORD) is None


def test_every_sign_in_costs_exactly_one_hash_verification(
    dbsession: Session, clock: FakeClock
) -> None:
    # Unknown emails and accounts without a password get a dummy verification, so that
    # timing does not reveal who has an account.
    context = CountingContext()
    services = make_services(dbsession, clock, PasswordHasher(context=context))  # type: ignore[arg-type]
    accounts, service = services.accounts, services.authentication
    accounts.create_account(EMAIL, STRONG_PASSWORD)
    accounts.create_account("invited@example.com", None)
    accounts.create_account("disabled@example.com", STRONG_PASSWORD).is_disabled = True
    dbsession.flush()
    attempts = {
        "right password": (EMAIL, STRONG_PASSWORD, True),
        "wrong password": (EMAIL, OTHER_PASSWORD, False),
        "unknown email": ("nobody@example.com", STRONG_PASSWORD, False),
        "invited account": ("invited@example.com", STRONG_PASSWORD, False),
        "disabled account": ("disabled@example.com", STRONG_PASSWORD, False),
        "not an email": ("v@x.com\r\nBcc: a@evil.test", STRONG_PASSWORD, False),
    }

    for case, (email, password, succeeds) in attempts.items():
        context.verifications = 0
        account = service.get_authenticated_account(email, password)
        assert (account is not None) == succeeds, case
        assert context.verifications == 1, case


@pytest.mark.parametrize(("length", "signs_in"), [(4 * 128, True), (4 * 128 + 1, False)])
def test_only_a_password_up_to_four_times_the_longest_accepted_is_checked(
    dbsession: Session, clock: FakeClock, length: int, signs_in: bool
) -> None:
    # The stored hash is of a password of this length (from an older system; the policy
    # accepts 128 characters at most): one longer than four times that is refused
    # without any hashing, even when it is the right one.
    context = CountingContext()
    services = make_services(dbsession, clock, PasswordHasher(context=context))  # type: ignore[arg-type]
    account = services.accounts.create_account(EMAIL, STRONG_PASSWORD, email_verified=True)
    long_password = "p" * length
    account.password_hash = context.hash(long_password)
    dbsession.flush()
    context.verifications = 0

    if signs_in:
        assert services.signin.with_password(EMAIL, long_password).account is account
    else:
        with pytest.raises(SignInFailed):
            services.signin.with_password(EMAIL, long_password)
    assert context.verifications == (1 if signs_in else 0)


def test_password_expanding_under_nfkc_answers_the_same_for_known_and_unknown_emails(
    account_service: AccountService, alice: Account, authentication: AuthenticationService
) -> None:
    # 228 x U+FDFA: 228 code points, 4,104 after NFKC (passlib refuses over 4,096).
    password = "\ufdfa" * 228

    assert authentication.get_authenticated_account(EMAIL, password) is None
    assert authentication.get_authenticated_account("nobody@example.com", password) is None


def test_pbkdf2_hash_is_upgraded_to_argon2id_at_sign_in(
    alice: Account,
    dbsession: Session,
    signs_in: SignsIn,
    clock: FakeClock,
    owasp_hasher: PasswordHasher,
) -> None:
    alice.password_hash = pbkdf2_sha256.hash(STRONG_PASSWORD)
    dbsession.commit()
    authentication = make_services(dbsession, clock, owasp_hasher).authentication

    assert authentication.get_authenticated_account(EMAIL, STRONG_PASSWORD) is alice
    dbsession.commit()
    dbsession.expire_all()

    stored = dbsession.scalars(select(Account.password_hash)).one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert signs_in(EMAIL, STRONG_PASSWORD)
    assert not signs_in(EMAIL, OTHER_PASSWORD)


def test_wrong_password_does_not_upgrade_an_old_hash(
    account_service: AccountService,
    alice: Account,
    dbsession: Session,
    authentication: AuthenticationService,
) -> None:
    old_hash = pbkdf2_sha256.hash(STRONG_PASSWORD)
    alice.password_hash = old_hash
    dbsession.commit()

    assert authentication.get_authenticated_account(EMAIL, OTHER_PASSWORD) is None
    dbsession.commit()
    dbsession.expire_all()

    assert dbsession.scalars(select(Account.password_hash)).one() == old_hash


def _disabled_while_it_runs(
    monkeypatch: pytest.MonkeyPatch, service: Any, method: str, other: Session
) -> None:
    """An administrator disables the account (committed on another connection) when the
    service's method is called, before it does its work."""
    run = getattr(service, method)

    def disabled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        other.execute(update(Account).values(is_disabled=True))
        other.commit()
        return run(*args, **kwargs)

    monkeypatch.setattr(service, method, disabled_meanwhile)


def test_an_account_disabled_while_its_passkey_answer_is_checked_gets_no_session(
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The password was right and the pending sign-in still valid when the passkey's
    # answer arrived; an administrator disables the account while the answer is checked.
    services = make_services(dbsession, clock, hasher)
    key = SoftAuthenticator(origin=BASE_URL)
    adding = services.passkeys.registration_ceremony(alice)
    services.passkeys.add(
        alice, key.create(json.loads(adding.options_json)), adding.challenge, "Key"
    )
    fingerprint = password_fingerprint(alice)
    signing_in = services.passkeys.authentication_ceremony()
    answer = key.get(json.loads(signing_in.options_json))
    dbsession.commit()

    _disabled_while_it_runs(monkeypatch, services.passkeys, "verify", other_dbsession)

    with pytest.raises(SignInFailed) as refused:
        services.signin.with_second_passkey(
            waiting_sign_in(alice.id, fingerprint, clock.now()), answer, signing_in.challenge
        )

    assert str(refused.value) == "Your sign-in has expired. Sign in again."
    kinds = list(dbsession.scalars(select(AccountEvent.kind)))
    assert events.SIGN_IN not in kinds
    assert events.SIGN_IN_FAILED in kinds
    dbsession.commit()
    dbsession.expire_all()
    assert (alice.login_count, alice.last_login_at) == (0, None)


def test_an_account_disabled_while_its_second_factor_code_is_checked_gets_no_session(
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The password was right and the code is right; an administrator disables the
    # account while the code is checked.
    services = make_services(dbsession, clock, hasher)
    secret = pyotp.random_base32()
    clock.advance(seconds=30)
    services.two_factor.enable_totp(alice, secret, pyotp.TOTP(secret).at(clock.now()))
    fingerprint = password_fingerprint(alice)
    dbsession.commit()
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock.now())

    _disabled_while_it_runs(monkeypatch, services.two_factor, "verify", other_dbsession)

    with pytest.raises(SignInFailed) as refused:
        services.signin.with_code(waiting_sign_in(alice.id, fingerprint, clock.now()), code)

    assert str(refused.value) == "Your sign-in has expired. Sign in again."
    assert events.SIGN_IN not in list(dbsession.scalars(select(AccountEvent.kind)))


def test_sign_ins_at_unknown_addresses_are_one_event_an_hour_for_each_client(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    """docs/security.md 57: sixty guesses at addresses without an account once wrote
    fifty-one rows, kept a year; they are one row that counts them."""
    limits = {"signin_per_ip": "1000/minute"}
    factory = ServiceFactory(unit_settings(rate_limits=limits), clock=clock, hasher=hasher)
    here = factory.services(dbsession, RequestOrigin(ip="198.51.100.7", user_agent="x" * 512))
    elsewhere = factory.services(dbsession, RequestOrigin(ip="198.51.100.8"))

    for n in range(60):
        with pytest.raises(SignInFailed):
            here.signin.with_password(f"nobody{n}@example.com", STRONG_PASSWORD)
    with pytest.raises(SignInFailed):
        elsewhere.signin.with_password("nobody@example.com", STRONG_PASSWORD)
    clock.advance(hours=1, seconds=1)
    with pytest.raises(SignInFailed):
        here.signin.with_password("nobody@example.com", STRONG_PASSWORD)

    rows = account_events(dbsession, events.SIGN_IN_FAILED)
    assert [(e.ip, e.details) for e in rows] == [
        ("198.51.100.7", {"reason": "no_account", "repeats": 59}),
        ("198.51.100.8", {"reason": "no_account"}),
        ("198.51.100.7", {"reason": "no_account"}),
    ]


def test_an_account_whose_only_second_factor_is_a_passkey_cannot_reauthenticate_with_a_code(
    services: Services, alice: Account
) -> None:
    """Re-authentication asks for the second factor whatever its kind: with a passkey as
    the only one, the password and a made-up code are not enough."""
    add_passkey(services, alice, "Phone")

    with pytest.raises(InvalidSecondFactorCode):
        services.authentication.reauthenticate(alice, STRONG_PASSWORD, "123456")
    assert account_events(services.dbsession, events.REAUTHENTICATED) == []
