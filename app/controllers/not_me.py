""" "This wasn't me": the link in the email about a sign-in from a new browser, and the
page that confirms it."""

from __future__ import annotations

from typing import Any

from pyramid.security import forget
from pyramid.view import view_config

from app.controllers.emailed_links import LINK_INVALID_TEMPLATE, EmailedLinkController
from app.services.kernel.errors import CodeInvalid, RateLimited
from app.translation import _

CONFIRM_TEMPLATE = "app:templates/account/not_me.pt"
DONE_TEMPLATE = "app:templates/account/not_me_done.pt"


class NotMeController(EmailedLinkController):
    pending_key = "not_me_code"
    form_route = "account.not_me"
    again_route = "account.forgot_password"
    again_label = _("Reset your password")

    @view_config(
        route_name="account.not_me_link", request_method="GET", renderer=LINK_INVALID_TEMPLATE
    )
    def open_link(self) -> Any:
        # Opening the link (or a mail scanner fetching it) changes nothing.
        return self.open_emailed_link(self.services.new_device_alerts.check_link)

    @view_config(route_name="account.not_me", request_method="GET", renderer=CONFIRM_TEMPLATE)
    def confirm_get(self) -> Any:
        try:
            account = self.services.new_device_alerts.check_code(self.pending_code())
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        return {"email": account.email}

    @view_config(route_name="account.not_me", request_method="POST", renderer=DONE_TEMPLATE)
    def confirm_post(self) -> Any:
        try:
            account = self.services.new_device_alerts.report(self.pending_code())
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        self.forget_pending_code(used=True)
        # This browser too was signed out with every other; its cookie goes.
        self.request.response.headerlist.extend(forget(self.request))
        return {"email": account.email}
