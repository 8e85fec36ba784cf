"""Forgot password, the emailed link, and choosing the new password."""

from __future__ import annotations

from typing import Any

from pyramid.security import forget
from pyramid.view import view_config, view_defaults

from app.models import PURPOSE_INVITE
from app.services.accounts import ResetCodeInvalid
from app.services.email_addresses import normalize_email
from app.services.passwords import PasswordRejected
from app.services.rate_limits import RateLimited
from app.viewmodels.account import ForgotPasswordViewModel, ResetPasswordViewModel

from .base import ControllerBase, see_other

# Where the code waits between opening the link and posting the form.
PENDING_CODE_KEY = "reset_code"
RESET_DONE_MESSAGE = "Your password has been reset, please sign in."
INVITATION_DONE_MESSAGE = "Your password is set, please sign in."
NO_PENDING_CODE = (
    "Open the link from your email to choose a new password. If it has expired, ask for a new one."
)


@view_defaults(renderer="app:templates/account/reset_password.pt")
class PasswordResetController(ControllerBase):
    @view_config(
        route_name="account.forgot_password",
        request_method="GET",
        renderer="app:templates/account/forgot_password.pt",
    )
    def forgot_password_get(self) -> dict[str, Any]:
        return ForgotPasswordViewModel(self.request).to_dict()

    @view_config(
        route_name="account.forgot_password",
        request_method="POST",
        renderer="app:templates/account/forgot_password.pt",
    )
    def forgot_password_post(self) -> Any:
        vm = ForgotPasswordViewModel.from_request(self.request)
        if not vm.validate():
            self.request.response.status = 400
            return vm.to_dict()
        try:
            self.rate_limiter.hit("forgot_per_ip", self.client_ip or "")
            self.rate_limiter.hit("forgot_per_email", normalize_email(vm.email))
        except RateLimited as exc:
            return self.too_many(exc)
        # The same answer whether or not the address has an account; the email itself is
        # sent after commit by the outbox, so the timing does not tell either.
        self.accounts.request_password_reset(vm.email, self.client_ip)
        return see_other(self.request.page_path("account.reset_sent"))

    @view_config(
        route_name="account.reset_sent",
        request_method="GET",
        renderer="app:templates/account/reset_sent.pt",
    )
    def reset_sent(self) -> dict[str, Any]:
        minutes = self.request.registry["app_settings"].reset_code_minutes
        return {"minutes": minutes}

    @view_config(
        route_name="account.reset_password_link",
        request_method="GET",
        renderer="app:templates/account/reset_link_invalid.pt",
    )
    def open_link(self) -> Any:
        """Check the code, keep it in the session and send the browser to a URL without it,
        so the code does not linger in the address bar, history or a Referer header."""
        code = self.request.matchdict["code"]
        try:
            self.rate_limiter.check("bad_code_per_ip", self.client_ip or "")
        except RateLimited as exc:
            return self.too_many(exc)
        try:
            self.accounts.check_reset_link(code)
        except ResetCodeInvalid as exc:
            return self._link_invalid(str(exc))
        self.request.session[PENDING_CODE_KEY] = code
        return see_other(self.request.page_path("account.reset_password"))

    @view_config(route_name="account.reset_password", request_method="GET")
    def reset_password_get(self) -> Any:
        pending = self._pending_reset()
        if pending is None:
            return self._link_invalid(NO_PENDING_CODE, code_presented=False)
        if isinstance(pending, str):
            return self._link_invalid(pending)
        return pending.to_dict()

    @view_config(route_name="account.reset_password", request_method="POST")
    def reset_password_post(self) -> Any:
        pending = self._pending_reset()
        if pending is None:
            return self._link_invalid(NO_PENDING_CODE, code_presented=False)
        if isinstance(pending, str):
            return self._link_invalid(pending)
        vm = ResetPasswordViewModel.from_request(
            self.request, pending.code, pending.email, pending.is_invitation
        )
        if not vm.validate():
            self.request.response.status = 400
            return vm.to_dict()
        try:
            self.accounts.reset_password(vm.code, vm.password, ip=self.client_ip)
        except ResetCodeInvalid as exc:
            return self._link_invalid(str(exc))
        except PasswordRejected as exc:
            vm.error = str(exc)
            self.request.response.status = 400
            return vm.to_dict()
        self.request.session.pop(PENDING_CODE_KEY, None)
        # The owner is back in control: failed sign-ins by others no longer lock them out.
        self.rate_limiter.clear("signin_per_account", pending.email)
        # Every session of the account has ended, this browser's included if it had one.
        self.request.response.headerlist.extend(forget(self.request))
        self.request.override_renderer = "app:templates/account/reset_done.pt"
        message = INVITATION_DONE_MESSAGE if vm.is_invitation else RESET_DONE_MESSAGE
        return {"message": message}

    def _pending_reset(self) -> ResetPasswordViewModel | str | None:
        """The form for the code waiting in the session, why it cannot be used, or None
        when there is no code at all."""
        code = self.request.session.get(PENDING_CODE_KEY)
        if not isinstance(code, str) or not code:
            return None
        try:
            reset = self.accounts.check_reset_code(code)
        except ResetCodeInvalid as exc:
            return str(exc)
        return ResetPasswordViewModel(
            self.request, code, reset.account.email, reset.purpose == PURPOSE_INVITE
        )

    def _link_invalid(self, message: str, code_presented: bool = True) -> dict[str, Any]:
        """The page for an unknown, used or expired code; each one presented counts
        against the client's limit on bad codes (valid codes never do)."""
        if code_presented:
            try:
                self.rate_limiter.hit("bad_code_per_ip", self.client_ip or "")
            except RateLimited as exc:
                return self.too_many(exc)
        self.request.session.pop(PENDING_CODE_KEY, None)
        self.request.response.status = 400
        self.request.override_renderer = "app:templates/account/reset_link_invalid.pt"
        return {"error": message}
