"""What the API's controllers share: the account as the API shows it, and starting the
session a sign-in ended with, in the mode the request came in."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.response import Response

from app.api.modes import Mode
from app.api.operations import answer
from app.api.schemas import AccountInfo, SecondFactorRequired, SignedIn
from app.controllers.base import ControllerBase
from app.controllers.signin_steps import PENDING_SIGN_IN_KEY, read_pending, session_headers
from app.i18n import translated
from app.models import Account
from app.models.login_sessions import APP_SESSION, BROWSER_SESSION
from app.services.kernel.errors import SignInExpired
from app.services.signin import stages
from app.translation import _
from app.web.authorization import bearer_token

SECOND_FACTOR_MESSAGE = _("Enter the code from your authenticator app, or use your passkey.")


# What a successful re-authentication answers, with a password or a passkey.
REAUTHENTICATED = _("Thank you: you can make sensitive changes for a while.")


class ApiController(ControllerBase):
    @property
    def account(self) -> Account:
        """The signed-in account (operations with a permission only)."""
        account: Account = self.request.identity
        return account

    def account_info(self, account: Account) -> AccountInfo:
        two_factor = self.services.two_factor
        on = two_factor.has_second_factor(account)
        return AccountInfo(
            id=account.public_id,
            email=account.email,
            display_name=account.display_name,
            email_confirmed_at=account.email_verified_at,
            created_at=account.created_at,
            is_admin=account.is_admin,
            locale=account.locale,
            two_factor=on,
            authenticator_app=two_factor.has_totp(account),
            passkeys=len(self.services.passkeys.for_account(account.id)),
            recovery_codes_left=two_factor.recovery_codes_left(account.id) if on else 0,
            password_change_required=account.password_breached_at is not None,
        )

    def pending_sign_in(self) -> stages.PendingSignIn:
        """The sign-in waiting for its second factor: an application's, from the pending
        token sent as `Authorization: Bearer`, or a browser's, from its session (a
        browser's sign-in never goes on as an application's, nor the other way round);
        SignInExpired if there is none."""
        token = bearer_token(self.request)
        if token is not None:
            pending = self.services.signin.read_pending(token)
            kind = APP_SESSION
        else:
            pending = read_pending(self.request)
            kind = BROWSER_SESSION
        if pending is None or pending.kind != kind:
            raise SignInExpired()
        return pending

    def signed_in(self, mode: Mode, result: stages.SignedIn) -> Response:
        """201 with the account; for an application's session its token, for a
        browser's the session's cookies (as the HTML sign-in sets them) and the new
        CSRF token. The session's kind decides, never the request's mode alone."""
        if result.for_an_application:
            return answer(
                SignedIn(
                    session_token=result.session_token,
                    csrf_token=None,
                    account=self.account_info(result.account),
                ),
                status=201,
            )
        headers = session_headers(self.request, result)
        return answer(
            SignedIn(
                session_token=None,
                csrf_token=get_csrf_token(self.request),
                account=self.account_info(result.account),
            ),
            status=201,
            headers=headers,
        )

    def second_factor_needed(self, mode: Mode, step: stages.SecondFactorNeeded) -> Response:
        """401 with the pending token and the factors the second step takes; a browser
        also keeps the pending sign-in in its session, as the HTML pages do."""
        token: str | None = step.token
        if mode is Mode.BROWSER:
            # The browser's session keeps it; the page's script never sees it.
            self.request.session[PENDING_SIGN_IN_KEY] = step.token
            token = None
        pending = step.pending
        factors: list[str] = []
        if pending.use_code:
            factors += ["totp", "recovery_code"]
        if pending.use_passkey:
            factors.append("passkey")
        body = SecondFactorRequired.model_validate(
            {
                "errors": [
                    {
                        "code": "second_factor_required",
                        "message": translated(self.request, SECOND_FACTOR_MESSAGE),
                        "field": None,
                    }
                ],
                "pending_token": token,
                "factors": factors,
            }
        )
        return answer(body, status=401)
