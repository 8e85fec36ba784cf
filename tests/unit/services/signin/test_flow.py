"""The sign-in flow's stages (app/services/signin/flow.py and stages.py): what each step
answers, the sealed sign-in between two steps, and the factors a session records."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from app.models import Account
from app.services.composition import Services
from app.services.kernel.errors import InvalidSecondFactorCode, SignInExpired, SignInFailed
from app.services.signin.stages import (
    PENDING_VERSION,
    AddressUnconfirmed,
    Factor,
    PendingSignIn,
    SecondFactorNeeded,
    SignedIn,
    SignInMethod,
)
from tests.conftest import STRONG_PASSWORD
from tests.factories import EMAIL, add_passkey, passkey_answer
from tests.support import FakeClock

KEY = Fernet(Fernet.generate_key())


def _pending(clock: FakeClock, **changes: object) -> PendingSignIn:
    pending = PendingSignIn(
        account_id=7,
        password_fingerprint="f" * 64,
        started_at=clock.now(),
        use_code=True,
        use_passkey=False,
        came_from="/account/sessions",
        remember=True,
    )
    return replace(pending, **changes)  # type: ignore[arg-type]


def _with_an_app(services: Services, account: Account, clock: FakeClock) -> str:
    secret = pyotp.random_base32()
    services.two_factor.enable_totp(account, secret, pyotp.TOTP(secret).at(clock.now()))
    clock.advance(seconds=30)
    return secret


# The sealed sign-in


def test_a_sealed_sign_in_reads_back_the_same(clock: FakeClock) -> None:
    pending = _pending(clock)
    assert PendingSignIn.unseal(KEY, pending.seal(KEY), clock.now()) == pending


def test_a_sealed_sign_in_holds_no_readable_field(clock: FakeClock) -> None:
    token = _pending(clock).seal(KEY)
    assert "/account/sessions" not in token and "f" * 64 not in token


@pytest.mark.parametrize(
    "token",
    [None, "", 42, "not a token", Fernet(Fernet.generate_key()).encrypt(b"{}").decode()],
    ids=["none", "empty", "number", "garbage", "another key"],
)
def test_what_this_app_did_not_seal_reads_as_no_sign_in(clock: FakeClock, token: object) -> None:
    assert PendingSignIn.unseal(KEY, token, clock.now()) is None


def test_a_sign_in_sealed_in_another_shape_is_not_read(clock: FakeClock) -> None:
    sealed = json.loads(KEY.decrypt(_pending(clock).seal(KEY).encode()))
    older = KEY.encrypt(json.dumps({**sealed, "v": PENDING_VERSION - 1}).encode()).decode()
    missing = KEY.encrypt(json.dumps({"v": PENDING_VERSION, "account": 7}).encode()).decode()
    assert PendingSignIn.unseal(KEY, older, clock.now()) is None
    assert PendingSignIn.unseal(KEY, missing, clock.now()) is None


def test_a_sealed_sign_in_lapses_after_five_minutes(clock: FakeClock) -> None:
    token = _pending(clock).seal(KEY)
    clock.advance(minutes=5)
    assert PendingSignIn.unseal(KEY, token, clock.now()) is not None
    clock.advance(seconds=1)
    assert PendingSignIn.unseal(KEY, token, clock.now()) is None


# The factors a session records


@pytest.mark.parametrize(
    ("label", "factors", "amr", "acr"),
    [
        ("password", (Factor.PASSWORD,), ["pwd"], "pwd"),
        ("password+totp", (Factor.PASSWORD, Factor.TOTP), ["pwd", "otp", "mfa"], "mfa"),
        (
            "password+recovery",
            (Factor.PASSWORD, Factor.RECOVERY_CODE),
            ["pwd", "otp", "mfa"],
            "mfa",
        ),
        ("password+passkey", (Factor.PASSWORD, Factor.PASSKEY), ["pwd", "hwk", "mfa"], "mfa"),
        ("passkey", (Factor.PASSKEY,), ["hwk", "mfa"], "mfa"),
        ("upstream", (Factor.UPSTREAM,), ["fed"], "pwd"),
        ("upstream+totp", (Factor.UPSTREAM, Factor.TOTP), ["fed", "otp", "mfa"], "mfa"),
        ("upstream+passkey", (Factor.UPSTREAM, Factor.PASSKEY), ["fed", "hwk", "mfa"], "mfa"),
        ("upstream_mfa", (Factor.UPSTREAM_MFA,), ["fed", "mfa"], "mfa"),
    ],
)
def test_each_way_of_signing_in_names_its_factors(
    label: str, factors: tuple[Factor, ...], amr: list[str], acr: str
) -> None:
    method = SignInMethod(factors)
    assert method.label == label
    assert SignInMethod.parse(label) == method
    assert (method.amr, method.acr) == (amr, acr)


def test_an_unknown_or_missing_method_names_no_factor() -> None:
    assert SignInMethod.parse(None).factors == ()
    assert SignInMethod.parse("password+sms").factors == (Factor.PASSWORD,)


# The steps


def test_the_right_password_without_a_second_factor_starts_a_session(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    step = services.signin.with_password(EMAIL, STRONG_PASSWORD, "/account/activity", True)

    assert isinstance(step, SignedIn)
    assert (step.account, step.came_from, step.remember) == (alice, "/account/activity", True)
    assert step.method.factors == (Factor.PASSWORD,)
    assert services.login_sessions.find_active(step.session_token) is step.login_session
    assert step.login_session.sign_in_method == "password"
    assert step.login_session.authenticated_at == clock.now()
    assert step.device_token
    assert not step.password_change_required


def test_a_sign_in_ends_the_session_the_browser_had(services: Services, alice: Account) -> None:
    first = services.signin.with_password(EMAIL, STRONG_PASSWORD)
    assert isinstance(first, SignedIn)
    # Without a page to go to, the account's page, and not remembered.
    assert (first.came_from, first.remember) == ("/account", False)

    second = services.signin.with_password(EMAIL, STRONG_PASSWORD, replacing=first.login_session)

    assert isinstance(second, SignedIn)
    assert services.login_sessions.find_active(first.session_token) is None
    assert services.login_sessions.find_active(second.session_token) is not None


def test_a_password_known_from_a_breach_signs_in_to_change_it(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    alice.password_breached_at = clock.now()
    step = services.signin.with_password(EMAIL, STRONG_PASSWORD)
    assert isinstance(step, SignedIn) and step.password_change_required


def test_with_an_authenticator_app_the_password_leads_to_the_second_step(
    services: Services, alice: Account, clock: FakeClock, dbsession: Session
) -> None:
    secret = _with_an_app(services, alice, clock)

    step = services.signin.with_password(EMAIL, STRONG_PASSWORD, "/account/sessions", True)

    assert isinstance(step, SecondFactorNeeded)
    assert (step.pending.use_code, step.pending.use_passkey) == (True, False)
    assert alice.login_count == 0
    pending = services.signin.read_pending(step.token)
    assert pending == step.pending

    with pytest.raises(InvalidSecondFactorCode):
        services.signin.with_code(pending, "000000")
    done = services.signin.with_code(pending, pyotp.TOTP(secret).at(clock.now()))

    assert (done.account, done.came_from, done.remember) == (alice, "/account/sessions", True)
    assert done.login_session.sign_in_method == "password+totp"
    assert done.method.acr == "mfa"
    dbsession.expire_all()
    assert alice.login_count == 1


def test_a_pending_sign_in_of_a_password_changed_since_has_expired(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    secret = _with_an_app(services, alice, clock)
    step = services.signin.with_password(EMAIL, STRONG_PASSWORD)
    assert isinstance(step, SecondFactorNeeded)
    alice.password_hash = "$argon2id$another"

    with pytest.raises(SignInFailed) as refused:
        services.signin.with_code(step.pending, pyotp.TOTP(secret).at(clock.now()))
    assert str(refused.value) == "Your sign-in has expired. Sign in again."


def test_a_pending_sign_in_is_read_by_the_clock_of_the_flow(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    _with_an_app(services, alice, clock)
    step = services.signin.with_password(EMAIL, STRONG_PASSWORD)
    assert isinstance(step, SecondFactorNeeded)
    clock.advance(minutes=5, seconds=1)
    assert services.signin.read_pending(step.token) is None


def test_an_address_not_confirmed_yet_gets_a_new_link_and_no_session(
    services: Services, dbsession: Session
) -> None:
    carol = services.accounts.create_account("carol@example.com", STRONG_PASSWORD)

    step = services.signin.with_password("carol@example.com", STRONG_PASSWORD)

    assert isinstance(step, AddressUnconfirmed) and step.account is carol
    assert carol.login_count == 0


def test_a_confirmed_address_signs_in_with_the_password_as_the_one_factor(
    services: Services, alice: Account
) -> None:
    step = services.signin.after_confirmation(alice)
    assert isinstance(step, SignedIn)
    assert step.method.factors == (Factor.PASSWORD,)
    # Nobody ticked "remember me" on the confirmation page.
    assert step.remember is False


def test_a_confirmed_address_of_an_account_with_a_second_factor_still_asks_for_it(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    """docs/security.md 53: confirming an address is a password, never a second factor."""
    _with_an_app(services, alice, clock)
    step = services.signin.after_confirmation(alice)
    assert isinstance(step, SecondFactorNeeded)
    assert alice.login_count == 0


def test_the_factors_a_second_step_offers_are_read_with_the_password(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    _with_an_app(services, alice, clock)
    step = services.signin.with_password(EMAIL, STRONG_PASSWORD)
    assert isinstance(step, SecondFactorNeeded)
    assert step.pending.started_at == clock.now()
    assert step.pending.started_at + timedelta(minutes=5) > clock.now()


def test_each_second_step_keeps_the_pending_choices_and_ends_the_browsers_old_session(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    secret = _with_an_app(services, alice, clock)
    key = add_passkey(services, alice, "Phone", user_verifying=False)
    old = services.login_sessions.start(alice, ip=None, user_agent=None)[1]
    step = services.signin.with_password(EMAIL, STRONG_PASSWORD, "/account/activity", True)
    assert isinstance(step, SecondFactorNeeded)
    by_code = services.signin.with_code(
        step.pending, pyotp.TOTP(secret).at(clock.now()), replacing=old
    )
    # A pending sign-in is spent by its success: the next one starts with the password.
    with pytest.raises(SignInExpired):
        services.signin.with_second_passkey(step.pending, *passkey_answer(services, key, alice))
    again = services.signin.with_password(EMAIL, STRONG_PASSWORD, "/account/activity", True)
    assert isinstance(again, SecondFactorNeeded)
    by_passkey = services.signin.with_second_passkey(
        again.pending, *passkey_answer(services, key, alice), replacing=by_code.login_session
    )

    for done in (by_code, by_passkey):
        assert (done.came_from, done.remember) == ("/account/activity", True)
    assert old.revoked_at is not None
    assert by_code.login_session.revoked_at is not None
    assert by_passkey.login_session.revoked_at is None


def test_a_confirmation_leads_to_the_account_page_without_remembering_the_browser(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    old = services.login_sessions.start(alice, ip=None, user_agent=None)[1]
    signed_in = services.signin.after_confirmation(alice, replacing=old)
    assert isinstance(signed_in, SignedIn)
    assert (signed_in.came_from, signed_in.remember) == ("/account", False)
    assert old.revoked_at is not None

    _with_an_app(services, alice, clock)
    asked = services.signin.after_confirmation(alice, replacing=signed_in.login_session)
    assert isinstance(asked, SecondFactorNeeded)
    assert (asked.pending.came_from, asked.pending.remember) == ("/account", False)
    # No session is ended before the second factor passes.
    assert signed_in.login_session.revoked_at is None


def test_a_passkey_alone_signs_in_with_the_choices_given_and_ends_the_old_session(
    services: Services, alice: Account
) -> None:
    key = add_passkey(services, alice, "Phone")
    old = services.login_sessions.start(alice, ip=None, user_agent=None)[1]

    plain = services.signin.with_passkey(*passkey_answer(services, key))
    chosen = services.signin.with_passkey(
        *passkey_answer(services, key), came_from="/account/sessions", remember=True, replacing=old
    )

    assert isinstance(plain, SignedIn) and isinstance(chosen, SignedIn)
    assert (plain.came_from, plain.remember) == ("/account", False)
    assert (chosen.came_from, chosen.remember) == ("/account/sessions", True)
    assert chosen.method.factors == (Factor.PASSKEY,)
    assert old.revoked_at is not None
