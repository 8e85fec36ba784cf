"""Undoing a change of address: the link in the email to the old address, and the page
that confirms it (app/services/signin/new_device_alerts.py does it)."""

from __future__ import annotations

from typing import Any

from pyramid.security import forget
from pyramid.view import view_config

from app.controllers.emailed_links import LINK_INVALID_TEMPLATE, EmailedLinkController
from app.services.kernel.errors import CodeInvalid, EmailTaken, RateLimited
from app.translation import _

CONFIRM_TEMPLATE = "app:templates/account/undo_email_change.pt"
DONE_TEMPLATE = "app:templates/account/undo_email_change_done.pt"


class UndoEmailChangeController(EmailedLinkController):
    pending_key = "undo_email_change_code"
    form_route = "account.undo_email_change"
    again_route = "account.forgot_password"
    again_label = _("Reset your password")

    @view_config(
        route_name="account.undo_email_change_link",
        request_method="GET",
        renderer=LINK_INVALID_TEMPLATE,
    )
    def open_link(self) -> Any:
        # Opening the link (or a mail scanner fetching it) changes nothing.
        return self.open_emailed_link(self.services.new_device_alerts.check_undo_link)

    @view_config(
        route_name="account.undo_email_change", request_method="GET", renderer=CONFIRM_TEMPLATE
    )
    def confirm_get(self) -> Any:
        try:
            account, old_email = self.services.new_device_alerts.check_undo_code(
                self.pending_code()
            )
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        return {"email": old_email, "error": None}

    @view_config(
        route_name="account.undo_email_change", request_method="POST", renderer=DONE_TEMPLATE
    )
    def confirm_post(self) -> Any:
        try:
            account = self.services.new_device_alerts.undo_email_change(self.pending_code())
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        except EmailTaken as exc:
            self.forget_pending_code()
            self.request.response.status = 409
            self.request.override_renderer = CONFIRM_TEMPLATE
            return {"email": None, "error": exc.message}
        self.forget_pending_code(used=True)
        # This browser too was signed out with every other; its cookie goes.
        self.request.response.headerlist.extend(forget(self.request))
        return {"email": account.email}
