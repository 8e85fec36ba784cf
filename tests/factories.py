"""Accounts in the states the tests need, made through the same service calls a person's
requests make: confirmed or not, an administrator, disabled, with an authenticator app,
a passkey or recovery codes.

make_account returns the account; the add_* traits return what a test goes on to use
(the TOTP secret, the passkey's authenticator, the recovery codes); passkey_answer
answers a ceremony with that authenticator."""

from __future__ import annotations

import json
from typing import Any

import pyotp

from app.models import Account
from app.services.composition import Services
from tests.conftest import BASE_URL, STRONG_PASSWORD
from tests.passkey_authenticator import SoftAuthenticator

EMAIL = "alice@example.com"


def make_account(
    services: Services,
    email: str = EMAIL,
    password: str | None = STRONG_PASSWORD,
    *,
    confirmed: bool = True,
    admin: bool = False,
    disabled: bool = False,
    totp: bool = False,
    passkey: bool = False,
    recovery_codes: bool = False,
) -> Account:
    """An account as the account service creates it (a password of None is an invited
    account that has to choose one), then given each trait asked for. A disabled account
    is marked so directly, as an administrator's decision leaves it."""
    account = services.accounts.create_account(
        email, password, is_admin=admin, email_verified=confirmed
    )
    if totp:
        add_totp(services, account)
    if passkey:
        add_passkey(services, account)
    if recovery_codes:
        add_recovery_codes(services, account)
    if disabled:
        account.is_disabled = True
        services.dbsession.flush()
    return account


def add_totp(services: Services, account: Account) -> str:
    """An authenticator app set up as the owner sets one up (a new secret, confirmed with
    its current code); the secret, for making codes."""
    secret = services.two_factor.new_totp_secret()
    code = pyotp.TOTP(secret).at(services.clock.now())
    services.two_factor.enable_totp(account, secret, code)
    return secret


def add_passkey(
    services: Services,
    account: Account,
    name: str = "Phone",
    *,
    user_verifying: bool = True,
    counter_step: int = 1,
) -> SoftAuthenticator:
    """A passkey added as the app requires (verifying its user); then, if asked, one that
    from now on only shows the user is present (a plain security key). Its authenticator,
    for answering ceremonies (counter_step 0 is a synced passkey, whose counter stays)."""
    authenticator = SoftAuthenticator(origin=BASE_URL, counter_step=counter_step)
    ceremony = services.passkeys.registration_ceremony(account)
    created = authenticator.create(json.loads(ceremony.options_json))
    services.passkeys.add(account, created, ceremony.challenge, name)
    authenticator.user_verifying = user_verifying
    return authenticator


def passkey_answer(
    services: Services, authenticator: SoftAuthenticator, account: Account | None = None
) -> tuple[Any, bytes]:
    """The authenticator's answer to a new passkey ceremony (for this account's second
    step, if given, else for a sign-in), and the ceremony's challenge."""
    ceremony = services.passkeys.authentication_ceremony(account)
    return authenticator.get(json.loads(ceremony.options_json)), ceremony.challenge


def add_recovery_codes(services: Services, account: Account) -> list[str]:
    """A fresh set of recovery codes, as the owner asks for them."""
    return list(services.two_factor.new_recovery_codes(account))
