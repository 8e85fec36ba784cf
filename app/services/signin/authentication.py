"""Signing in with an email address and a password, and the limits on guessing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeGuard

from sqlalchemy import true, update

from app.models import Account, LoginSession
from app.services.accounts.accounts import AccountService
from app.services.kernel import audit as events
from app.services.kernel.codes import digest
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.errors import (
    AccountDisabled,
    InvalidSecondFactorCode,
    RateLimited,
    SignInExpired,
    SignInFailed,
    WrongCurrentPassword,
)
from app.services.kernel.lifecycle_errors import AccountDeletionPending
from app.services.kernel.statements import rows_changed
from app.services.mfa.passkeys import PasskeyService
from app.services.mfa.two_factor import TwoFactorService
from app.services.passwords.guesses import PasswordGuessLimits
from app.services.passwords.passwords import Passwords
from app.services.signin.stages import Factor, SignInMethod
from app.settings.limits import SECOND_FACTOR_PER_ACCOUNT, SIGNIN_PER_IP

# The columns record_sign_in() updates or depends on.
_SIGN_IN_CHECKED_COLUMNS = [
    *("password_hash", "is_disabled", "deletion_requested_at"),
    *("last_login_at", "last_login_ip", "login_count"),
]


# A flood of blocked attempts is one event per account in this window, not one each.
BLOCKED_EVENT_WINDOW = timedelta(minutes=5)
# Failed sign-ins with addresses that have no account: one event per client in this window.
ANONYMOUS_EVENT_WINDOW = timedelta(hours=1)


def password_fingerprint(account: Account) -> str:
    """A digest of the stored password hash: what a pending sign-in is tied to."""
    return digest(account.password_hash or "")


class AuthenticationService(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        passwords: Passwords,
        accounts: AccountService,
        guesses: PasswordGuessLimits,
        two_factor: TwoFactorService,
        passkeys: PasskeyService,
        *,
        support_contact: str,
    ) -> None:
        super().__init__(context)
        self.passwords = passwords
        self.accounts = accounts
        self.guesses = guesses
        self.two_factor = two_factor
        self.passkeys = passkeys
        self.support_contact = support_contact

    def check_password(self, email: str, plain_text_password: str) -> Account:
        """The first factor of a sign-in (flow.py runs the rest): the account, if the
        password is right and the account may sign in; else raises SignInFailed, the
        same for every reason, or RateLimited, or AccountDisabled to the right password.

        Every attempt counts against the client's per-IP limit, the right ones too; a
        wrong password counts against this browser's allowance for the account (see
        passwords/guesses.py), before it is checked, and the right one clears it."""
        account = self.accounts.find_account_by_email(email)
        try:
            self.rate_limiter.hit(SIGNIN_PER_IP, self.context.address_key)
            allowance = self.guesses.allowance(email, account)
            self.guesses.count(allowance)
        except RateLimited:
            self.audit.record_once_per_window(
                events.SIGN_IN_BLOCKED, account.id if account else None, BLOCKED_EVENT_WINDOW
            )
            raise
        if not self._authenticate(account, plain_text_password, tell_disabled=True):
            raise SignInFailed()
        self.guesses.succeeded(allowance)
        return account

    def note_if_breached(self, account: Account, plain_text_password: str) -> None:
        """A right password that is known from a breach still signs in, but the account
        must change it before anything else (see the security policy). Checked at each
        sign-in until then: a password can turn up in a breach at any time."""
        if account.password_breached_at is not None:
            return
        if self.passwords.policy.is_breached(plain_text_password):
            account.password_breached_at = self.clock.now()
            self.audit.record(events.PASSWORD_BREACHED, account.id)
            self.dbsession.flush()

    def pending_account(self, account_id: int, fingerprint: str, sign_ins: int) -> Account:
        """The account of a sign-in waiting for its second factor, if it still may: the
        password checked is still the password, the account is enabled, and no sign-in
        has completed since the first factor (a pending sign-in is spent by its own
        success). Raises SignInFailed (the sign-in expired) if not."""
        account = self.accounts.find_account_by_id(account_id)
        if (
            account is None
            or not account.may_sign_in
            or account.login_count != sign_ins
            or password_fingerprint(account) != fingerprint
            or not self.two_factor.has_second_factor(account)
        ):
            raise SignInExpired()
        return account

    def check_passkey(self, response: Any, challenge: bytes | None) -> Account:
        """A passkey alone, which verified its user: two factors in one. The per-IP
        limit counts it like any sign-in; raises PasskeyRefused (recorded),
        AccountDisabled or RateLimited."""
        self.rate_limiter.hit(SIGNIN_PER_IP, self.context.address_key)
        passkey = self.passkeys.verify(response, challenge, require_user_verification=True)
        # A passkey's account is its owner's (the row cascades with the account).
        account = self.accounts.find_account_by_id(passkey.account_id)
        assert account is not None
        self.check_may_sign_in(account)
        return account

    def check_may_sign_in(self, account: Account) -> None:
        """After a first factor that is not a password (a passkey, another provider's
        answer): AccountDisabled (AccountDeletionPending) if the account may not sign in."""
        refusal = self._refusal(account)
        if refusal is not None:
            raise refusal

    def _refusal(self, account: Account) -> AccountDisabled | None:
        """Why the account may not sign in, recorded; None if it may."""
        if account.is_disabled:
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason="disabled")
            return AccountDisabled(self.support_contact)
        if account.deletion_requested_at is not None:
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason="deletion_pending")
            return AccountDeletionPending()
        return None

    def check_second_passkey(
        self, account: Account, response: Any, challenge: bytes | None
    ) -> None:
        """A passkey of the account as the second step after its password: user
        verification is not required. Raises PasskeyRefused or RateLimited."""
        self.rate_limiter.hit(SECOND_FACTOR_PER_ACCOUNT, str(account.id))
        self.passkeys.verify(response, challenge, account, require_user_verification=False)

    def reauthenticate_with_passkey(
        self, account: Account, response: Any, challenge: bytes | None
    ) -> SignInMethod:
        """Prove again who is at the keyboard with one of the account's passkeys, which
        verifies its user: worth the password and a second factor. The factors given."""
        self.rate_limiter.hit(SECOND_FACTOR_PER_ACCOUNT, str(account.id))
        self.passkeys.verify(response, challenge, account, require_user_verification=True)
        self.audit.record(events.REAUTHENTICATED, account.id, factor="passkey")
        return SignInMethod((Factor.PASSKEY,))

    def reauthenticate_with_upstream(
        self, account: Account, provider: str, code: str | None = None
    ) -> SignInMethod:
        """Prove again who is at the keyboard with a provider linked to the account,
        whose fresh answer was checked, and the second factor's code if the account has
        one; the factors given. Raises InvalidSecondFactorCode or RateLimited."""
        factors: tuple[Factor, ...] = (Factor.UPSTREAM,)
        if self.two_factor.has_second_factor(account):
            if code is None:
                raise InvalidSecondFactorCode()
            method = self.two_factor.verify(account, code)
            factors = (Factor.UPSTREAM, Factor(method))
        self.audit.record(events.REAUTHENTICATED, account.id, factor="upstream", provider=provider)
        return SignInMethod(factors)

    def reauthenticate(
        self,
        account: Account,
        plain_text_password: str,
        code: str,
        session: LoginSession | None = None,
    ) -> SignInMethod:
        """Prove again who is at the keyboard before a sensitive change: the password, and
        the second factor if the account has one; the factors given. Raises
        WrongCurrentPassword, InvalidSecondFactorCode or RateLimited."""
        allowance = self.guesses.allowance(account.email, account, session)
        self.guesses.count(allowance)
        matches, _ = self.passwords.verify(plain_text_password, account.password_hash)
        if not matches:
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason="reauthentication")
            raise WrongCurrentPassword()
        self.guesses.succeeded(allowance)
        factors: tuple[Factor, ...] = (Factor.PASSWORD,)
        if self.two_factor.has_second_factor(account):
            self.two_factor.verify(account, code)
            factors = (Factor.PASSWORD, Factor.TOTP)
        self.audit.record(events.REAUTHENTICATED, account.id)
        return SignInMethod(factors)

    def get_authenticated_account(self, email: str, plain_text_password: str) -> Account | None:
        """The account if the password is right, else None, with the same cost either way
        (no limits counted: sign_in() is what the app calls)."""
        account = self.accounts.find_account_by_email(email)
        return account if self._authenticate(account, plain_text_password) else None

    def _authenticate(
        self, account: Account | None, plain_text_password: str, tell_disabled: bool = False
    ) -> TypeGuard[Account]:
        """Whether the password is the account's and the account may sign in.

        Unknown emails, accounts without a password and disabled accounts still cost one
        hash verification, so timing does not reveal which addresses have accounts. An
        outdated hash is upgraded on success."""
        if self.passwords.is_too_long_to_check(plain_text_password):
            return False
        if account is None or account.password_hash is None:
            self.passwords.dummy_verify()
            if account is None:
                # Guesses at unknown addresses belong to no owner: one row an hour for each
                # client address, counting the rest, not one each (docs/security.md 57).
                self.audit.record_once_per_window(
                    events.SIGN_IN_FAILED, None, ANONYMOUS_EVENT_WINDOW, reason="no_account"
                )
            else:
                self.audit.record(events.SIGN_IN_FAILED, account.id, reason="no_account")
            return False
        matches, new_hash = self.passwords.verify(plain_text_password, account.password_hash)
        if not matches:
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason="wrong_password")
            return False
        refusal = self._refusal(account)
        if refusal is not None:
            if tell_disabled:
                # The right password: the owner learns why, and whom to ask.
                raise refusal
            return False
        if new_hash is not None and not self._replace_hash(
            account, account.password_hash, new_hash
        ):
            # The password changed while this one was being checked: it is not valid now.
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason="password_changed")
            return False
        return True

    def _replace_hash(self, account: Account, old_hash: str, new_hash: str) -> bool:
        """Store an upgraded hash only if the stored one is still the one that was checked,
        so that an upgrade can never undo a reset that committed in the meantime."""
        changed = rows_changed(
            self.dbsession,
            update(Account)
            .where(Account.id == account.id, Account.password_hash == old_hash)
            .values(password_hash=new_hash)
            .execution_options(synchronize_session=False),
        )
        # Reloaded only if something reads it again (a SELECT saved on every sign-in).
        self.dbsession.expire(account, ["password_hash"])
        return changed == 1

    def record_sign_in(self, account: Account, method: str, sign_ins: int | None = None) -> bool:
        """Count the sign-in, if the password checked is still the account's password
        and the account is still enabled (and, for a sign-in that waited for its second
        factor, no other was counted meanwhile: `sign_ins`, the count it started from);
        False if not. Of two requests racing with one pending sign-in, one wins.

        A reset or a password change that commits while a sign-in is checking the old
        password would otherwise let that sign-in start a session after every session
        was ended. The conditional UPDATE waits for such a change to commit (it locks the
        same row) and then finds the hash different."""
        changed = rows_changed(
            self.dbsession,
            update(Account)
            .where(
                Account.id == account.id,
                Account.password_hash == account.password_hash,
                Account.is_disabled.is_(False),
                Account.deletion_requested_at.is_(None),
                true() if sign_ins is None else Account.login_count == sign_ins,
            )
            .values(
                last_login_at=self.clock.now(),
                last_login_ip=self.context.ip,
                login_count=Account.login_count + 1,
            )
            .execution_options(synchronize_session=False),
        )
        # What the UPDATE counted or found changed is reloaded only if something reads
        # it again; a sign-in answers with a redirect, so it usually costs no SELECT.
        self.dbsession.expire(account, _SIGN_IN_CHECKED_COLUMNS)
        if changed != 1:
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason="password_changed")
            return False
        self.audit.record(events.SIGN_IN, account.id, method=method)
        return True
