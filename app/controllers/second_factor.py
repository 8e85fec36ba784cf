"""The second step of a sign-in, and re-authentication before sensitive changes."""

from __future__ import annotations

import json
from typing import Any

from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other, start_session
from app.models import Account
from app.security import PERMISSION_SIGNED_IN
from app.services.kernel.errors import (
    InvalidSecondFactorCode,
    RateLimited,
    SecondFactorRequired,
    SignInFailed,
    WrongCurrentPassword,
)
from app.translation import _
from app.viewmodels.two_factor import ReauthenticateViewModel, SecondFactorViewModel

PENDING_SIGN_IN_KEY = "pending_sign_in"
# How long the second step may wait after the password was checked.
PENDING_SIGN_IN_SECONDS = 300
SECOND_FACTOR_TEMPLATE = "app:templates/account/signin_two_factor.pt"
REAUTHENTICATE_TEMPLATE = "app:templates/account/reauthenticate.pt"


def keep_pending_sign_in(
    request: Any, pending: SecondFactorRequired, came_from: str, remember_me: bool = False
) -> Any:
    """After the right password on an account with a second factor: no session yet, only
    this browser's encrypted note of whose password was checked, for five minutes, and
    which factors the second step offers (so that its page needs no lookup: the factor
    given is checked against the account when it is sent)."""
    use_code, use_passkey = second_factors(request.services, pending.account)
    note = {
        "account": pending.account.id,
        "password": pending.fingerprint,
        "next": came_from,
        "remember": remember_me,
        "code": use_code,
        "passkey": use_passkey,
    }
    request.pending_codes.keep(request.session, PENDING_SIGN_IN_KEY, json.dumps(note))
    return see_other(request, request.page_path("account.signin.two_factor"))


def pending_sign_in(request: Any) -> dict[str, Any] | None:
    """This browser's sign-in waiting for its second factor: the account, the password
    fingerprint, the page to go to next; None if there is none (or it is too old)."""
    note = request.pending_codes.read(
        request.session, PENDING_SIGN_IN_KEY, max_age=PENDING_SIGN_IN_SECONDS
    )
    return json.loads(note) if note else None


def second_factors(services: Any, account: Account) -> tuple[bool, bool]:
    """Whether the account can give a code (an authenticator app, or recovery codes
    left), and whether it has passkeys."""
    two_factor = services.two_factor
    use_code = two_factor.has_totp(account) or two_factor.recovery_codes_left(account.id) > 0
    return use_code, services.passkeys.has_passkeys(account)


class SecondFactorController(ControllerBase):
    def _pending(self) -> dict[str, Any] | None:
        return pending_sign_in(self.request)

    def _form(self, pending: dict[str, Any], posted: bool = False) -> SecondFactorViewModel:
        use_code, use_passkey = pending.get("code"), pending.get("passkey")
        if not isinstance(use_code, bool) or not isinstance(use_passkey, bool):
            account = self.services.accounts.find_account_by_id(pending["account"])
            use_code, use_passkey = True, False
            if account is not None:
                use_code, use_passkey = second_factors(self.services, account)
        if posted:
            return SecondFactorViewModel.from_request(self.request, use_code, use_passkey)
        return SecondFactorViewModel(self.request, use_code, use_passkey)

    def _start_again(self, message: str) -> Any:
        self.request.pending_codes.drop(self.request.session, PENDING_SIGN_IN_KEY)
        self.flash(message, queue="error")
        return see_other(self.request, self.request.page_path("account.signin"))

    @view_config(
        route_name="account.signin.two_factor",
        request_method="GET",
        renderer=SECOND_FACTOR_TEMPLATE,
    )
    def second_factor_get(self) -> Any:
        pending = self._pending()
        if pending is None:
            return self._start_again(_("Your sign-in has expired. Sign in again."))
        return self._form(pending).to_dict()

    @view_config(
        route_name="account.signin.two_factor",
        request_method="POST",
        renderer=SECOND_FACTOR_TEMPLATE,
    )
    def second_factor_post(self) -> Any:
        pending = self._pending()
        if pending is None:
            return self._start_again(_("Your sign-in has expired. Sign in again."))
        vm = self._form(pending, posted=True)
        if not vm.validate():
            return self.form_error(vm)
        try:
            account, factor = self.services.authentication.complete_sign_in(
                pending["account"], pending["password"], vm.code
            )
        except RateLimited as exc:
            return self.too_many(exc)
        except InvalidSecondFactorCode as exc:
            return self.form_error(vm, exc)
        except SignInFailed as exc:
            return self._start_again(exc.message)
        self.request.pending_codes.drop(self.request.session, PENDING_SIGN_IN_KEY)
        return start_session(
            self.request,
            account,
            pending["next"],
            method=f"password+{factor}",
            persistent=bool(pending.get("remember")),
        )

    # Re-authentication

    def _reauthenticate_form(self, account: Account) -> ReauthenticateViewModel:
        use_code, use_passkey = second_factors(self.services, account)
        # has_second_factor(): an authenticator app, or passkeys (already looked up).
        needs_code = self.services.two_factor.has_totp(account) or use_passkey
        return ReauthenticateViewModel(
            self.request, account.email, needs_code, use_code, use_passkey
        )

    @view_config(
        route_name="account.reauthenticate",
        request_method="GET",
        renderer=REAUTHENTICATE_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate_get(self) -> dict[str, Any]:
        return self._reauthenticate_form(self.request.identity).to_dict()

    @view_config(
        route_name="account.reauthenticate",
        request_method="POST",
        renderer=REAUTHENTICATE_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate_post(self) -> Any:
        account = self.request.identity
        blank = self._reauthenticate_form(account)
        vm = ReauthenticateViewModel.from_request(
            self.request, account.email, blank.needs_code, blank.use_code, blank.use_passkey
        )
        if not vm.validate():
            return self.form_error(vm)
        try:
            self.services.authentication.reauthenticate(account, vm.password, vm.code)
        except RateLimited as exc:
            return self.too_many(exc)
        except (WrongCurrentPassword, InvalidSecondFactorCode) as exc:
            return self.form_error(vm, exc)
        self.services.login_sessions.mark_authenticated(self.request.login_session)
        return see_other(self.request, vm.came_from)
