"""The sign-in flow after another provider's answer (SignInFlow.with_upstream): a first
factor, after which the account's own second factor is still asked, unless the provider
is trusted to say its sign-in used two; a disabled account is refused."""

from __future__ import annotations

import pyotp
import pytest

from app.services.kernel.errors import AccountDisabled
from app.services.signin.stages import Factor, SecondFactorNeeded, SignedIn
from tests.factories import add_totp, make_account


def test_an_account_without_a_second_factor_is_signed_in(services, alice):
    step = services.signin.with_upstream(alice)
    assert isinstance(step, SignedIn)
    assert step.method.factors == (Factor.UPSTREAM,)
    assert step.login_session.sign_in_method == "upstream"


def test_the_second_factor_is_asked_and_the_session_names_both(services, clock):
    account = make_account(services, "two@example.com")
    secret = add_totp(services, account)
    step = services.signin.with_upstream(account, came_from="/somewhere")
    assert isinstance(step, SecondFactorNeeded)
    assert step.pending.first == Factor.UPSTREAM and step.pending.came_from == "/somewhere"
    pending = services.signin.read_pending(step.token)
    assert pending is not None and pending.first == Factor.UPSTREAM
    clock.advance(seconds=30)
    done = services.signin.with_code(pending, pyotp.TOTP(secret).at(clock.now()))
    assert done.method.label == "upstream+totp"
    assert done.method.acr == "mfa" and "fed" in done.method.amr


def test_a_trusted_providers_two_factors_stand_for_the_local_second_factor(services):
    account = make_account(services, "two@example.com")
    add_totp(services, account)
    step = services.signin.with_upstream(account, trusted_mfa=True)
    assert isinstance(step, SignedIn)
    assert step.method.label == "upstream_mfa" and step.method.acr == "mfa"


def test_a_disabled_account_is_refused(services):
    account = make_account(services, "off@example.com", disabled=True)
    with pytest.raises(AccountDisabled):
        services.signin.with_upstream(account)
    with pytest.raises(AccountDisabled):
        services.signin.with_upstream(account, trusted_mfa=True)
