"""Forgot password, the emailed link, and choosing the new password."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pyramid.security import forget
from pyramid.view import view_config, view_defaults

from app.controllers.base import see_other
from app.controllers.emailed_links import LINK_INVALID_TEMPLATE, EmailedLinkController
from app.i18n import translated
from app.models import PURPOSE_INVITE
from app.services.kernel.errors import CodeInvalid, PasswordRejected, RateLimited
from app.services.links.one_time_codes import CodeState
from app.translation import _
from app.viewmodels.account import (
    PREFILL_KEY,
    ForgotPasswordViewModel,
    ResetPasswordViewModel,
)

# Where opening the link keeps the code with its verdict.
VERDICT_KEY = "reset_verdict"
RESET_DONE_MESSAGE = _("Your password has been reset, please sign in.")
INVITATION_DONE_MESSAGE = _("Your password is set, please sign in.")


@view_defaults(renderer="app:templates/account/reset_password.pt")
class PasswordResetController(EmailedLinkController):
    pending_key = "reset_code"
    form_route = "account.reset_password"
    again_route = "account.forgot_password"
    again_label = _("Ask for a new link")

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
        renderer=LINK_INVALID_TEMPLATE,
    )
    def open_link(self) -> Any:
        return self.open_emailed_link(self.services.accounts.check_reset_link)

    @view_config(route_name="account.reset_password", request_method="GET")
    def reset_password_get(self) -> Any:
        try:
            return self._form_from_verdict().to_dict()
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)

    @view_config(route_name="account.reset_password", request_method="POST")
    def reset_password_post(self) -> Any:
        try:
            pending = self._pending_form()
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        vm = ResetPasswordViewModel.from_request(
            self.request, pending.code, pending.email, pending.is_invitation
        )
        if not vm.validate():
            return self.form_error(vm)
        try:
            self.services.accounts.reset_password(vm.code, vm.password)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        except PasswordRejected as exc:
            return self.form_error(vm, exc)
        self.forget_pending_code(used=True)
        # Every session of the account has ended, this browser's included if it had one.
        self.request.response.headerlist.extend(forget(self.request))
        # The sign-in form offers the address (encrypted in this browser's session).
        self.request.pending_codes.keep(self.request.session, PREFILL_KEY, vm.email)
        self.request.override_renderer = "app:templates/account/reset_done.pt"
        message = INVITATION_DONE_MESSAGE if vm.is_invitation else RESET_DONE_MESSAGE
        return {"message": translated(self.request, message), "is_invitation": vm.is_invitation}

    # Opening the link checks the code; the form it leads to is drawn from that verdict,
    # kept with the code (encrypted, one value) in the session, until the code's expiry.
    # Sending the form checks the code again and spends it in one conditional UPDATE, so
    # a code used or voided in between is refused there. The value has a key of its own:
    # a session that holds only a code under pending_key (opened before the verdict was
    # kept) still works, looked up as before.

    def keep_pending_code(self, code: str, verdict: CodeState) -> None:
        kept = {
            "code": code,
            "email": verdict.email,
            "invitation": verdict.purpose == PURPOSE_INVITE,
            "expires": verdict.expires_at.timestamp(),
        }
        self.request.pending_codes.keep(self.request.session, VERDICT_KEY, json.dumps(kept))

    def _verdict(self) -> dict[str, Any] | None:
        kept = self.request.pending_codes.read(self.request.session, VERDICT_KEY)
        try:
            verdict = json.loads(kept) if kept else None
        except ValueError:
            return None
        if isinstance(verdict, dict) and isinstance(verdict.get("code"), str):
            return verdict
        return None

    def pending_code(self) -> str:
        verdict = self._verdict()
        return verdict["code"] if verdict is not None else super().pending_code()

    def forget_pending_code(self, used: bool = False) -> None:
        super().forget_pending_code(used)
        self.request.pending_codes.drop(self.request.session, VERDICT_KEY)

    def _form_from_verdict(self) -> ResetPasswordViewModel:
        """The form for the code waiting in the session, from the verdict of opening its
        link while the code has not expired; else from a new check."""
        verdict = self._verdict()
        if verdict is not None:
            expires, email = verdict.get("expires"), verdict.get("email")
            now = self.services.clock.now()
            if (
                isinstance(expires, float)
                and isinstance(email, str)
                and datetime.fromtimestamp(expires, now.tzinfo) > now
            ):
                return ResetPasswordViewModel(
                    self.request, verdict["code"], email, bool(verdict.get("invitation"))
                )
        return self._pending_form()

    def _pending_form(self) -> ResetPasswordViewModel:
        """The form for the code waiting in the session; raises CodeInvalid when there is
        none or it cannot be used. The code is read once per request: the reset that
        follows on a POST finds it already checked."""
        code = self.pending_code()
        record = self.services.accounts.check_reset_code(code)
        return ResetPasswordViewModel(
            self.request, code, record.account.email, record.purpose == PURPOSE_INVITE
        )
