"""Deleting an account (docs/security.md 71): /account/delete after a recent sign-in,
the page that says when it goes, and the emailed restore link that brings it back
(app/services/accounts/deletion.py does the work)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyramid.response import Response
from pyramid.security import forget
from pyramid.view import view_config

from app.controllers.base import see_other
from app.controllers.emailed_links import LINK_INVALID_TEMPLATE, EmailedLinkController
from app.security import PERMISSION_RECENTLY_SIGNED_IN
from app.services.kernel.errors import CodeInvalid, RateLimited
from app.services.kernel.lifecycle_errors import DeletionRefused
from app.translation import _

DELETE_TEMPLATE = "app:templates/account/delete.pt"
DELETED_TEMPLATE = "app:templates/account/deleted.pt"
RESTORE_TEMPLATE = "app:templates/account/restore.pt"
# What the page after the deletion shows: when the account goes ("" for now).
ERASE_AT_KEY = "deletion_erase_at"


class AccountDeletionController(EmailedLinkController):
    pending_key = "restore_code"
    form_route = "account.restore"
    again_route = "account.register"
    again_label = _("Create an account")

    @view_config(
        route_name="account.delete",
        request_method="GET",
        renderer=DELETE_TEMPLATE,
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def confirm(self) -> dict[str, Any]:
        deletion = self.services.account_deletion
        return {
            "error": None,
            "last_administrator": deletion.is_last_administrator(self.request.identity),
            "grace_days": deletion.grace.days,
        }

    @view_config(
        route_name="account.delete",
        request_method="POST",
        renderer=DELETE_TEMPLATE,
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def delete(self) -> Response | dict[str, Any]:
        deletion = self.services.account_deletion
        try:
            erase_at = deletion.request(self.request.identity)
        except DeletionRefused as exc:
            self.request.response.status = 409
            return {"error": exc.message, "last_administrator": True, "grace_days": 0}
        # Every session ended, this one too: its cookie and the browser's session go.
        headers = forget(self.request)
        self.request.session.invalidate()
        self.request.session[ERASE_AT_KEY] = erase_at.isoformat() if erase_at else ""
        return see_other(self.request, self.request.page_path("account.deleted"), headers)

    @view_config(route_name="account.deleted", request_method="GET", renderer=DELETED_TEMPLATE)
    def deleted(self) -> Response | dict[str, Any]:
        erase_at = self.request.session.get(ERASE_AT_KEY)
        if not isinstance(erase_at, str):
            # Not after a deletion in this browser: nothing to tell.
            return see_other(self.request, self.request.page_path("home"))
        return {"erase_at": datetime.fromisoformat(erase_at) if erase_at else None}

    @view_config(
        route_name="account.restore_link", request_method="GET", renderer=LINK_INVALID_TEMPLATE
    )
    def open_link(self) -> Any:
        # Opening the link (or a mail scanner fetching it) changes nothing.
        return self.open_emailed_link(self.services.account_deletion.check_restore_link)

    @view_config(route_name="account.restore", request_method="GET", renderer=RESTORE_TEMPLATE)
    def restore_confirm(self) -> Any:
        try:
            account = self.services.account_deletion.check_restore_code(self.pending_code())
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        return {"email": account.email}

    @view_config(route_name="account.restore", request_method="POST", renderer=RESTORE_TEMPLATE)
    def restore(self) -> Any:
        try:
            account = self.services.account_deletion.restore(self.pending_code())
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        self.forget_pending_code(used=True)
        self.flash(
            _(
                "Your account ${email} is back and will not be deleted. Sign in to use it.",
                mapping={"email": account.email},
            )
        )
        return see_other(self.request, self.request.page_path("account.signin"))
