"""Changing the account's email address, and confirming the new one from its link."""

from __future__ import annotations

from typing import Any

from pyramid.view import view_config

from app.controllers.base import see_other
from app.controllers.emailed_links import LINK_INVALID_TEMPLATE, EmailedLinkController
from app.i18n import translated
from app.security import PERMISSION_RECENTLY_SIGNED_IN, PERMISSION_SIGNED_IN
from app.services.kernel.errors import (
    CodeInvalid,
    EmailTaken,
    InvalidEmail,
    RateLimited,
    SameEmail,
    WrongCurrentPassword,
)
from app.translation import _
from app.viewmodels.account import ChangeEmailViewModel

CHANGE_TEMPLATE = "app:templates/account/change_email.pt"
CONFIRM_TEMPLATE = "app:templates/account/confirm_email.pt"


class EmailChangeController(EmailedLinkController):
    pending_key = "email_code"
    form_route = "account.confirm_email"
    again_route = "account.change_email"
    again_label = _("Ask again")

    @view_config(
        route_name="account.change_email",
        request_method="GET",
        renderer=CHANGE_TEMPLATE,
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def change_get(self) -> dict[str, Any]:
        return ChangeEmailViewModel(self.request, self.request.identity.email).to_dict()

    @view_config(
        route_name="account.change_email",
        request_method="POST",
        renderer=CHANGE_TEMPLATE,
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def change_post(self) -> Any:
        """The same answer whether or not the new address has an account."""
        account = self.request.identity
        vm = ChangeEmailViewModel.from_request(self.request, account.email)
        if not vm.validate():
            return self.form_error(vm)
        try:
            self.services.email_changes.request(account, vm.current_password, vm.new_email)
        except RateLimited as exc:
            return self.too_many(exc)
        except (WrongCurrentPassword, InvalidEmail, SameEmail) as exc:
            return self.form_error(vm, exc)
        return see_other(self.request, self.request.page_path("account.change_email_sent"))

    @view_config(
        route_name="account.change_email_sent",
        request_method="GET",
        renderer="app:templates/account/change_email_sent.pt",
        permission=PERMISSION_SIGNED_IN,
    )
    def change_sent(self) -> dict[str, Any]:
        return {"days": self.request.app_settings.verify_email_days}

    @view_config(
        route_name="account.confirm_email_link",
        request_method="GET",
        renderer=LINK_INVALID_TEMPLATE,
    )
    def open_link(self) -> Any:
        return self.open_emailed_link(self.services.email_changes.check_link)

    @view_config(
        route_name="account.confirm_email", request_method="GET", renderer=CONFIRM_TEMPLATE
    )
    def confirm_get(self) -> Any:
        try:
            account, new_email = self.services.email_changes.check_code(self.pending_code())
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        return {"error": None, "old_email": account.email, "new_email": new_email}

    @view_config(
        route_name="account.confirm_email", request_method="POST", renderer=CONFIRM_TEMPLATE
    )
    def confirm_post(self) -> Any:
        login_session = self.request.login_session
        try:
            code = self.pending_code()
            account, new_email = self.services.email_changes.check_code(code)
            # This browser stays signed in if it is signed in to this account.
            keep = (
                login_session.id
                if login_session and login_session.account_id == account.id
                else None
            )
            self.services.email_changes.confirm(code, keep_session_id=keep)
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        except EmailTaken as exc:
            self.forget_pending_code()
            self.request.response.status = 400
            return {
                "error": translated(self.request, exc.message),
                "old_email": None,
                "new_email": None,
            }
        self.forget_pending_code(used=True)
        self.flash(_("Your email address is now ${email}.", mapping={"email": new_email}))
        return see_other(self.request, self.request.page_path("account"))
