"""Changing the password and managing the devices that are signed in."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.security import forget
from pyramid.view import view_config, view_defaults

from app.controllers.base import ControllerBase, see_other
from app.security import PERMISSION_SIGNED_IN
from app.services.kernel import audit as events
from app.services.kernel.errors import (
    PasswordChangedMeanwhile,
    PasswordRejected,
    RateLimited,
    WrongCurrentPassword,
)
from app.services.sessions.user_agents import describe_user_agent
from app.translation import _
from app.viewmodels.account import ChangePasswordViewModel
from app.viewmodels.activity import ActivityViewModel
from app.viewmodels.pages import page_number
from app.viewmodels.sessions import SessionsViewModel


@view_defaults(permission=PERMISSION_SIGNED_IN)
class AccountSecurityController(ControllerBase):
    @property
    def account(self) -> Any:
        return self.request.identity

    @property
    def current_session_id(self) -> int | None:
        login_session = self.request.login_session
        return login_session.id if login_session is not None else None

    # Change password

    @view_config(
        route_name="account.change_password",
        request_method="GET",
        renderer="app:templates/account/change_password.pt",
    )
    def change_password_get(self) -> dict[str, Any]:
        return ChangePasswordViewModel(self.request, self.account.email).to_dict()

    @view_config(
        route_name="account.change_password",
        request_method="POST",
        renderer="app:templates/account/change_password.pt",
    )
    def change_password_post(self) -> Any:
        vm = ChangePasswordViewModel.from_request(self.request, self.account.email)
        if not vm.validate():
            return self.form_error(vm)
        try:
            self.services.accounts.change_password(
                self.account,
                vm.current_password,
                vm.password,
                keep_session_id=self.current_session_id,
            )
        except RateLimited as exc:
            return self.too_many(exc)
        except (WrongCurrentPassword, PasswordRejected, PasswordChangedMeanwhile) as exc:
            return self.form_error(vm, exc)
        new_csrf_token(self.request)
        self.flash(_("Your password has been changed. Your other devices have been signed out."))
        return see_other(self.request, self.request.page_path("account"))

    # Devices

    @view_config(
        route_name="account.sessions",
        request_method="GET",
        renderer="app:templates/account/sessions.pt",
    )
    def sessions(self) -> dict[str, Any]:
        active = self.services.login_sessions.list_active(self.account.id)
        return SessionsViewModel(self.request, active, self.current_session_id).to_dict()

    @view_config(route_name="account.sessions.revoke", request_method="POST")
    def revoke(self) -> Response:
        session_id = int(self.request.matchdict["id"])  # the route allows 1-9 digits only
        target = self.services.login_sessions.find_live(self.account.id, session_id)
        if target is None or not self.services.login_sessions.revoke_by_id(
            self.account.id, session_id
        ):
            # Not one of this account's live sessions: say nothing about other accounts.
            raise HTTPNotFound()
        self.services.audit.record(events.SESSION_REVOKED, self.account.id, session_id=session_id)
        if session_id == self.current_session_id:
            headers = forget(self.request)
            self.request.session.invalidate()
            self.flash(_("You are signed out."))
            return see_other(self.request, self.request.page_path("account.signin"), headers)
        self.flash(
            _(
                "${device}, signed in ${when} from ${ip}, has been signed out.",
                mapping={
                    "device": describe_user_agent(target.user_agent),
                    "when": self.request.formats.when(target.created_at),
                    "ip": target.ip or _("an unknown address"),
                },
            )
        )
        return see_other(self.request, self.request.page_path("account.sessions"))

    @view_config(route_name="account.sessions.revoke_others", request_method="POST")
    def revoke_others(self) -> Response:
        count = self.services.login_sessions.revoke_all(
            self.account.id, except_id=self.current_session_id
        )
        self.services.audit.record(events.SESSIONS_REVOKED, self.account.id, count=count)
        self.flash(
            self.request.formats.ngettext(
                "${n} other device has been signed out.",
                "${n} other devices have been signed out.",
                count,
            )
        )
        return see_other(self.request, self.request.page_path("account.sessions"))

    # Activity

    @view_config(
        route_name="account.activity",
        request_method="GET",
        renderer="app:templates/account/activity.pt",
    )
    def activity(self) -> dict[str, Any]:
        page = self.services.audit.for_account(self.account.id, page=page_number(self.request))
        return ActivityViewModel(self.request, page).to_dict()
