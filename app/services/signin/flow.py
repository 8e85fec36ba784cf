"""A sign-in as one flow of stages, the same for every face that drives it (the HTML
pages today; the JSON API and the OpenID Connect authorization endpoint next).

The stages: a first factor (a password, or a passkey that verifies its user), a
confirmed address, a second factor when the account has one (an authenticator code, a
recovery code or a passkey), then the session. A password known from a breach still
signs in, but the session it starts may only change the password (see app/security.py);
the result says so. Each step answers what comes next, typed; only a refusal is an
exception (a DomainError).

Between two steps nothing is stored on the server: the face keeps the sealed
PendingSignIn this module writes and reads (encrypted with a key of its own, and good
for five minutes), in the browser's session or as an API client's pending token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet

from app.models import Account, LoginSession
from app.models.login_sessions import BROWSER_SESSION
from app.services.kernel import audit as events
from app.services.kernel.context import ServiceContext
from app.services.kernel.errors import SignInExpired, SignInFailed
from app.services.mfa.passkeys import PasskeyService
from app.services.mfa.two_factor import TwoFactorService
from app.services.sessions.login_sessions import LoginSessionService
from app.services.signin.authentication import AuthenticationService, password_fingerprint
from app.services.signin.new_device_alerts import NewDeviceAlerts
from app.services.signin.stages import (
    AddressUnconfirmed,
    Factor,
    PendingSignIn,
    SecondFactorNeeded,
    SignedIn,
    SignInMethod,
    Step,
)


class SignInFlow:
    def __init__(
        self,
        context: ServiceContext,
        authentication: AuthenticationService,
        two_factor: TwoFactorService,
        passkeys: PasskeyService,
        login_sessions: LoginSessionService,
        new_device_alerts: NewDeviceAlerts,
        send_confirmation_link: Callable[[Account], bool],
        fernet: Fernet,
        *,
        require_confirmed_email: bool,
    ) -> None:
        self.context = context
        self.authentication = authentication
        self.two_factor = two_factor
        self.passkeys = passkeys
        self.login_sessions = login_sessions
        self.new_device_alerts = new_device_alerts
        self.send_confirmation_link = send_confirmation_link
        self.fernet = fernet
        self.require_confirmed_email = require_confirmed_email

    # First factors

    def with_password(
        self,
        email: str,
        plain_text_password: str,
        came_from: str = "/account",
        remember: bool = False,
        replacing: LoginSession | None = None,
        kind: str = BROWSER_SESSION,
    ) -> Step:
        """The password step. Raises SignInFailed (the same for every reason),
        AccountDisabled (only with the right password) or RateLimited."""
        account = self.authentication.check_password(email, plain_text_password)
        if self._unconfirmed(account):
            return self._ask_confirmation(account)
        self.authentication.note_if_breached(account, plain_text_password)
        if self.two_factor.has_second_factor(account):
            # No session, nor a counted sign-in, until the second factor passes.
            return self._ask_second_factor(account, came_from, remember, kind)
        return self._start(account, (Factor.PASSWORD,), came_from, remember, replacing, kind)

    def with_passkey(
        self,
        response: Any,
        challenge: bytes | None,
        came_from: str = "/account",
        remember: bool = False,
        replacing: LoginSession | None = None,
        kind: str = BROWSER_SESSION,
    ) -> AddressUnconfirmed | SignedIn:
        """A passkey alone, which verified its user: both factors in one step. Raises
        PasskeyRefused, AccountDisabled, SignInFailed or RateLimited."""
        account = self.authentication.check_passkey(response, challenge)
        if self._unconfirmed(account):
            return self._ask_confirmation(account)
        return self._start(account, (Factor.PASSKEY,), came_from, remember, replacing, kind)

    def after_confirmation(
        self,
        account: Account,
        replacing: LoginSession | None = None,
        kind: str = BROWSER_SESSION,
    ) -> SecondFactorNeeded | SignedIn:
        """An address just confirmed with the password chosen at registration: the
        password was the first factor, and a second one is still asked if the account
        has one by now."""
        if self.two_factor.has_second_factor(account):
            return self._ask_second_factor(account, "/account", False, kind)
        return self._start(account, (Factor.PASSWORD,), "/account", False, replacing, kind)

    def with_upstream(
        self,
        account: Account,
        trusted_mfa: bool = False,
        came_from: str = "/account",
        replacing: LoginSession | None = None,
        kind: str = BROWSER_SESSION,
    ) -> Step:
        """An account at another provider linked to this one, whose answer checked out:
        the first factor (both, if the provider is trusted to say its own sign-in used
        two). The account's own second factor is still asked. Raises AccountDisabled."""
        self.authentication.check_may_sign_in(account)
        if self._unconfirmed(account):
            return self._ask_confirmation(account)
        if trusted_mfa:
            return self._start(account, (Factor.UPSTREAM_MFA,), came_from, False, replacing, kind)
        if self.two_factor.has_second_factor(account):
            return self._ask_second_factor(account, came_from, False, kind, Factor.UPSTREAM)
        return self._start(account, (Factor.UPSTREAM,), came_from, False, replacing, kind)

    def with_emailed_code(
        self,
        account: Account,
        came_from: str = "/account",
        remember: bool = False,
        replacing: LoginSession | None = None,
        kind: str = BROWSER_SESSION,
    ) -> Step:
        """A code emailed to the account's address, typed in the browser that asked
        (email_codes.py checked it): the first factor, which also proves the mailbox.
        The account's second factor is still asked. Raises AccountDisabled."""
        self.authentication.check_may_sign_in(account)
        if account.email_verified_at is None:
            account.email_verified_at = self.context.clock.now()
            self.context.audit.record(events.EMAIL_CONFIRMED, account.id, by="sign_in_code")
        if self.two_factor.has_second_factor(account):
            return self._ask_second_factor(account, came_from, remember, kind, Factor.EMAIL_CODE)
        return self._start(account, (Factor.EMAIL_CODE,), came_from, remember, replacing, kind)

    # The second factor

    def read_pending(self, token: Any) -> PendingSignIn | None:
        return PendingSignIn.unseal(self.fernet, token, self.context.clock.now())

    def with_code(
        self, pending: PendingSignIn, code: str, replacing: LoginSession | None = None
    ) -> SignedIn:
        """An authenticator code or a recovery code for the pending sign-in. Raises
        SignInFailed (the sign-in expired), InvalidSecondFactorCode or RateLimited."""
        account = self.authentication.pending_account(
            pending.account_id, pending.password_fingerprint, pending.sign_ins
        )
        factor = Factor(self.two_factor.verify(account, code))
        return self._start(
            account,
            (pending.first, factor),
            pending.came_from,
            pending.remember,
            replacing,
            pending.kind,
            refusal=SignInExpired,
            sign_ins=pending.sign_ins,
        )

    def with_second_passkey(
        self,
        pending: PendingSignIn,
        response: Any,
        challenge: bytes | None,
        replacing: LoginSession | None = None,
    ) -> SignedIn:
        """One of the account's passkeys for the pending sign-in (user verification not
        required: the password was the other factor). Raises SignInFailed,
        PasskeyRefused or RateLimited."""
        account = self.authentication.pending_account(
            pending.account_id, pending.password_fingerprint, pending.sign_ins
        )
        self.authentication.check_second_passkey(account, response, challenge)
        return self._start(
            account,
            (pending.first, Factor.PASSKEY),
            pending.came_from,
            pending.remember,
            replacing,
            pending.kind,
            refusal=SignInExpired,
            sign_ins=pending.sign_ins,
        )

    # Stages

    def _unconfirmed(self, account: Account) -> bool:
        return self.require_confirmed_email and account.email_verified_at is None

    def _ask_confirmation(self, account: Account) -> AddressUnconfirmed:
        # Only the right first factor gets here: saying so reveals nothing to anyone else.
        self.context.audit.record(events.SIGN_IN_UNCONFIRMED, account.id)
        return AddressUnconfirmed(account, link_sent=self.send_confirmation_link(account))

    def _ask_second_factor(
        self,
        account: Account,
        came_from: str,
        remember: bool,
        kind: str,
        first: Factor = Factor.PASSWORD,
    ) -> SecondFactorNeeded:
        """Which factors the second step offers is read now, so that its page needs no
        lookup: the factor given is checked against the account when it is sent."""
        pending = PendingSignIn(
            account_id=account.id,
            password_fingerprint=password_fingerprint(account),
            started_at=self.context.clock.now(),
            use_code=self.two_factor.takes_codes(account),
            use_passkey=self.passkeys.has_passkeys(account),
            came_from=came_from,
            remember=remember,
            kind=kind,
            sign_ins=account.login_count,
            first=first,
        )
        return SecondFactorNeeded(pending, pending.seal(self.fernet))

    def _start(
        self,
        account: Account,
        factors: tuple[Factor, ...],
        came_from: str,
        remember: bool,
        replacing: LoginSession | None,
        kind: str,
        refusal: type[SignInFailed] = SignInFailed,
        sign_ins: int | None = None,
    ) -> SignedIn:
        """The session stage: the sign-in is counted if the password checked is still
        the account's and the account still enabled (else SignInFailed), the browser's
        old session ends (a cookie planted before sign-in is never promoted), the
        browser is remembered (its owner told if it is new), and a new session starts."""
        method = SignInMethod(factors)
        if not self.authentication.record_sign_in(account, method.label, sign_ins):
            raise refusal()
        if replacing is not None:
            self.login_sessions.revoke(replacing)
        device = self.new_device_alerts.signed_in(account)
        origin = self.context.origin
        token, login_session = self.login_sessions.start(
            account,
            ip=origin.ip,
            user_agent=origin.user_agent,
            method=method.label,
            device_id=device.id,
            kind=kind,
        )
        return SignedIn(
            account=account,
            method=method,
            session_token=token,
            login_session=login_session,
            device_token=device.token,
            came_from=came_from,
            remember=remember,
        )
