"""Registering, and confirming the address from the emailed link."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from app.controllers.base import see_other
from app.controllers.emailed_links import LINK_INVALID_TEMPLATE, EmailedLinkController
from app.controllers.signin_steps import keep_pending, signed_in
from app.services.accounts.profile import DisplayNameRefused
from app.services.kernel.errors import (
    CodeInvalid,
    InvalidEmail,
    PasswordRejected,
    RateLimited,
    WrongRegistrationPassword,
)
from app.services.signin.stages import SecondFactorNeeded
from app.translation import _
from app.viewmodels.account import RegisterViewModel, VerifyEmailViewModel

VERIFY_TEMPLATE = "app:templates/account/verify_email.pt"


class RegistrationController(EmailedLinkController):
    pending_key = "verify_code"
    form_route = "account.verify_email"
    again_route = "account.signin"
    again_label = _("Sign in to get a new link")

    def _require_registration_open(self) -> None:
        if not self.request.app_settings.allow_registration:
            # Closed: accounts are created by invitation, and there is no such page.
            raise HTTPNotFound()

    @view_config(
        route_name="account.register",
        request_method="GET",
        renderer="app:templates/account/register.pt",
    )
    def register_get(self) -> dict[str, Any]:
        self._require_registration_open()
        return RegisterViewModel(self.request).to_dict()

    @view_config(
        route_name="account.register",
        request_method="POST",
        renderer="app:templates/account/register.pt",
    )
    def register_post(self) -> Any:
        """The same answer for an address that has an account and one that has not: the
        mailbox's owner learns which from the email."""
        self._require_registration_open()
        vm = RegisterViewModel.from_request(self.request)
        if not vm.validate():
            return self.form_error(vm)
        try:
            self.services.registration.register(vm.email, vm.password, vm.display_name)
        except RateLimited as exc:
            return self.too_many(exc)
        except (InvalidEmail, PasswordRejected, DisplayNameRefused) as exc:
            return self.form_error(vm, exc)
        return see_other(self.request, self.request.page_path("account.verify_sent"))

    @view_config(
        route_name="account.verify_sent",
        request_method="GET",
        renderer="app:templates/account/verify_sent.pt",
    )
    def verify_sent(self) -> dict[str, Any]:
        return {"days": self.request.app_settings.verify_email_days}

    @view_config(
        route_name="account.verify_email_link", request_method="GET", renderer=LINK_INVALID_TEMPLATE
    )
    def open_link(self) -> Any:
        return self.open_emailed_link(self.services.registration.check_confirmation_link)

    @view_config(route_name="account.verify_email", request_method="GET", renderer=VERIFY_TEMPLATE)
    def verify_get(self) -> Any:
        try:
            return self._pending_form().to_dict()
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)

    @view_config(route_name="account.verify_email", request_method="POST", renderer=VERIFY_TEMPLATE)
    def verify_post(self) -> Any:
        try:
            pending = self._pending_form()
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        vm = VerifyEmailViewModel.from_request(self.request, pending.code, pending.email)
        if not vm.validate():
            return self.form_error(vm)
        try:
            account = self.services.registration.confirm(vm.code, vm.password)
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        except WrongRegistrationPassword as exc:
            return self.form_error(vm, exc)
        self.forget_pending_code(used=True)
        self.flash(_("Your email address is confirmed. Welcome!"))
        step = self.services.signin.after_confirmation(account, self.request.login_session)
        if isinstance(step, SecondFactorNeeded):
            return keep_pending(self.request, step)
        return signed_in(self.request, step)

    def _pending_form(self) -> VerifyEmailViewModel:
        code = self.pending_code()
        account = self.services.registration.check_confirmation_code(code)
        return VerifyEmailViewModel(self.request, code, account.email)
