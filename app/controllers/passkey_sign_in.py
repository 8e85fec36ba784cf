"""Proving who one is with a passkey: signing in without a password, the second step
after a password, and re-authentication before a sensitive change."""

from __future__ import annotations

from typing import Any

from pyramid.response import Response
from pyramid.view import view_config

from app.controllers import passkey_ceremonies as ceremonies
from app.controllers.base import ControllerBase
from app.controllers.signin_steps import drop_pending, read_pending, session_headers
from app.security import PERMISSION_SIGNED_IN
from app.services.kernel.errors import PasskeyRefused, RateLimited, SignInExpired, SignInFailed
from app.services.signin.stages import AddressUnconfirmed
from app.translation import _
from app.viewmodels.passkeys import PasskeyAnswerViewModel


class PasskeySignInController(ControllerBase):
    # Without a password: any passkey of this site that verifies its user.

    @view_config(route_name="account.signin.passkey_options", request_method="POST")
    def sign_in_options(self) -> Response:
        ceremony = self.services.passkeys.authentication_ceremony()
        return ceremonies.offer(self.request, ceremonies.SIGN_IN, ceremony, None)

    @view_config(route_name="account.signin.passkey", request_method="POST")
    def sign_in(self) -> Response:
        vm = PasskeyAnswerViewModel.from_request(self.request)
        challenge = ceremonies.take_challenge(self.request, ceremonies.SIGN_IN, None)
        if not vm.validate():
            return ceremonies.refusal(self.request, vm.error or "")
        try:
            step = self.services.signin.with_passkey(
                vm.credential,
                challenge,
                came_from=vm.next,
                remember=vm.remember_me,
                replacing=self.request.login_session,
            )
        except RateLimited as exc:
            return ceremonies.refusal(self.request, exc, 429)
        except (PasskeyRefused, SignInFailed) as exc:
            return ceremonies.refusal(self.request, exc)
        if isinstance(step, AddressUnconfirmed):
            return ceremonies.refusal(
                self.request,
                _("Confirm your email address first: we have sent you a new link."),
                403,
            )
        return ceremonies.go_to(self.request, step.came_from, session_headers(self.request, step))

    # The second step, after the right password.

    @view_config(route_name="account.signin.two_factor_passkey_options", request_method="POST")
    def second_factor_options(self) -> Response:
        pending = read_pending(self.request)
        if pending is None:
            return self._expired()
        account = self.services.accounts.find_account_by_id(pending.account_id)
        if account is None:
            return self._expired()
        if not self.services.passkeys.has_passkeys(account):
            return ceremonies.refusal(self.request, _("Your account has no passkey."))
        ceremony = self.services.passkeys.authentication_ceremony(account, verify_user=False)
        return ceremonies.offer(self.request, ceremonies.SECOND_FACTOR, ceremony, account.id)

    @view_config(route_name="account.signin.two_factor_passkey", request_method="POST")
    def second_factor(self) -> Response:
        pending = read_pending(self.request)
        if pending is None:
            return self._expired()
        vm = PasskeyAnswerViewModel.from_request(self.request)
        challenge = ceremonies.take_challenge(
            self.request, ceremonies.SECOND_FACTOR, pending.account_id
        )
        if not vm.validate():
            return ceremonies.refusal(self.request, vm.error or "")
        try:
            result = self.services.signin.with_second_passkey(
                pending, vm.credential, challenge, replacing=self.request.login_session
            )
        except RateLimited as exc:
            return ceremonies.refusal(self.request, exc, 429)
        except PasskeyRefused as exc:
            return ceremonies.refusal(self.request, exc)
        except SignInFailed:
            return self._expired()
        headers = session_headers(self.request, result)
        return ceremonies.go_to(self.request, result.came_from, headers)

    def _expired(self) -> Response:
        drop_pending(self.request)
        self.flash(SignInExpired.message, queue="error")
        return ceremonies.go_to(self.request, self.request.page_path("account.signin"))

    # Re-authentication: a passkey that verifies its user is worth password and code.

    @view_config(
        route_name="account.reauthenticate.passkey_options",
        request_method="POST",
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate_options(self) -> Response:
        account = self.request.identity
        if not self.services.passkeys.has_passkeys(account):
            return ceremonies.refusal(self.request, _("Your account has no passkey."))
        ceremony = self.services.passkeys.authentication_ceremony(account, verify_user=True)
        return ceremonies.offer(self.request, ceremonies.REAUTHENTICATE, ceremony, account.id)

    @view_config(
        route_name="account.reauthenticate.passkey",
        request_method="POST",
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate(self) -> Any:
        account = self.request.identity
        vm = PasskeyAnswerViewModel.from_request(self.request)
        challenge = ceremonies.take_challenge(self.request, ceremonies.REAUTHENTICATE, account.id)
        if not vm.validate():
            return ceremonies.refusal(self.request, vm.error or "")
        try:
            method = self.services.authentication.reauthenticate_with_passkey(
                account, vm.credential, challenge
            )
        except RateLimited as exc:
            return ceremonies.refusal(self.request, exc, 429)
        except PasskeyRefused as exc:
            return ceremonies.refusal(self.request, exc)
        self.services.login_sessions.mark_authenticated(self.request.login_session, method.label)
        return ceremonies.go_to(self.request, vm.next)
