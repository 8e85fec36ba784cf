"""Forgot password, the emailed link, and choosing the new password."""

from __future__ import annotations

from typing import Any

from pyramid.security import forget
from pyramid.view import view_config, view_defaults

from app.models import PURPOSE_INVITE
from app.services.errors import CodeInvalid, PasswordRejected, RateLimited
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
            return self.form_error(vm)
        # The same answer whether or not the address has an account; the email itself is
        # sent after commit by the outbox, so the timing does not tell either.
        try:
            self.services.accounts.request_password_reset(vm.email)
        except RateLimited as exc:
            return self.too_many(exc)
        return see_other(self.request, self.request.page_path("account.reset_sent"))

    @view_config(
        route_name="account.reset_sent",
        request_method="GET",
        renderer="app:templates/account/reset_sent.pt",
    )
    def reset_sent(self) -> dict[str, Any]:
        return {"minutes": self.request.app_settings.reset_code_minutes}

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
            self.services.accounts.check_reset_link(code)
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self._link_invalid(str(exc))
        self.request.pending_codes.keep(self.request.session, PENDING_CODE_KEY, code)
        return see_other(self.request, self.request.page_path("account.reset_password"))

    @view_config(route_name="account.reset_password", request_method="GET")
    def reset_password_get(self) -> Any:
        try:
            return self._pending_form().to_dict()
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self._link_invalid(str(exc))

    @view_config(route_name="account.reset_password", request_method="POST")
    def reset_password_post(self) -> Any:
        try:
            pending = self._pending_form()
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self._link_invalid(str(exc))
        vm = ResetPasswordViewModel.from_request(
            self.request, pending.code, pending.email, pending.is_invitation
        )
        if not vm.validate():
            return self.form_error(vm)
        try:
            self.services.accounts.reset_password(vm.code, vm.password)
        except CodeInvalid as exc:
            return self._link_invalid(str(exc))
        except PasswordRejected as exc:
            return self.form_error(vm, exc)
        self.request.pending_codes.drop(self.request.session, PENDING_CODE_KEY)
        # Every session of the account has ended, this browser's included if it had one.
        self.request.response.headerlist.extend(forget(self.request))
        self.request.override_renderer = "app:templates/account/reset_done.pt"
        message = INVITATION_DONE_MESSAGE if vm.is_invitation else RESET_DONE_MESSAGE
        return {"message": message}

    def _pending_form(self) -> ResetPasswordViewModel:
        """The form for the code waiting in the session; raises CodeInvalid when there is
        none or it cannot be used. The code is read once per request: the reset that
        follows on a POST finds it already checked."""
        code = self.request.pending_codes.read(self.request.session, PENDING_CODE_KEY)
        if code is None:
            raise _NoPendingCode()
        record = self.services.accounts.check_reset_code(code)
        return ResetPasswordViewModel(
            self.request, code, record.account.email, record.purpose == PURPOSE_INVITE
        )

    def _link_invalid(self, message: str) -> dict[str, Any]:
        """The page for an unknown, used, expired or missing code."""
        self.request.pending_codes.drop(self.request.session, PENDING_CODE_KEY)
        self.request.response.status = 400
        self.request.override_renderer = "app:templates/account/reset_link_invalid.pt"
        return {"error": message}


class _NoPendingCode(CodeInvalid):
    """No code in the session: the form was opened without the emailed link."""

    message = NO_PENDING_CODE
