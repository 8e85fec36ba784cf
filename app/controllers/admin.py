"""Administrators: the account list, invitations, and actions on one account."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from app.models import Account
from app.security import PERMISSION_ADMIN
from app.services.accounts import EmailTaken
from app.services.admin import AdminActionRefused
from app.viewmodels.activity import page_number
from app.viewmodels.admin import AccountDetailViewModel, AccountListViewModel, NewAccountViewModel

from .base import ControllerBase, see_other

ACTIONS = {"disable", "enable", "send_reset", "send_invitation"}


@view_defaults(permission=PERMISSION_ADMIN)
class AdminController(ControllerBase):
    @property
    def admin(self) -> Account:
        return self.request.identity

    @view_config(
        route_name="admin.accounts",
        request_method="GET",
        renderer="app:templates/admin/accounts.pt",
    )
    def accounts_list(self) -> dict[str, Any]:
        query, page = AccountListViewModel.search_from(self.request)
        result = self.request.account_admin.list_accounts(query, page)
        return AccountListViewModel(self.request, result).to_dict()

    @view_config(
        route_name="admin.accounts.new",
        request_method="GET",
        renderer="app:templates/admin/new_account.pt",
    )
    def new_account_get(self) -> dict[str, Any]:
        return NewAccountViewModel(self.request).to_dict()

    @view_config(
        route_name="admin.accounts.new",
        request_method="POST",
        renderer="app:templates/admin/new_account.pt",
    )
    def new_account_post(self) -> Any:
        vm = NewAccountViewModel.from_request(self.request)
        if not vm.validate():
            self.request.response.status = 400
            return vm.to_dict()
        try:
            account = self.request.account_admin.invite(
                vm.email, vm.is_admin, actor=self.admin, ip=self.client_ip
            )
        except EmailTaken as exc:
            vm.error = str(exc)
            self.request.response.status = 400
            return vm.to_dict()
        self.flash(f"Invitation sent to {account.email}.")
        return see_other(self.request.route_path("admin.account", id=account.id))

    @view_config(
        route_name="admin.account", request_method="GET", renderer="app:templates/admin/account.pt"
    )
    def account_detail(self) -> dict[str, Any]:
        account = self._account()
        events = self.audit.for_account(account.id, page=page_number(self.request))
        return AccountDetailViewModel(self.request, account, events).to_dict()

    @view_config(route_name="admin.account.action", request_method="POST")
    def account_action(self) -> Response:
        account = self._account()
        action = self.request.matchdict["action"]
        if action not in ACTIONS:
            raise HTTPNotFound()
        admin_service = self.request.account_admin
        try:
            if action == "disable":
                admin_service.disable(account, actor=self.admin)
                self.flash(f"{account.email} is disabled and signed out everywhere.")
            elif action == "enable":
                admin_service.enable(account, actor=self.admin)
                self.flash(f"{account.email} can sign in again.")
            elif action == "send_reset":
                admin_service.send_reset(account, actor=self.admin, ip=self.client_ip)
                self.flash(f"A link to choose a password was sent to {account.email}.")
            else:
                admin_service.resend_invitation(account, actor=self.admin, ip=self.client_ip)
                self.flash(f"The invitation was sent again to {account.email}.")
        except AdminActionRefused as exc:
            self.flash(str(exc), queue="error")
        return see_other(self.request.route_path("admin.account", id=account.id))

    def _account(self) -> Account:
        account = self.accounts.find_account_by_id(int(self.request.matchdict["id"]))
        if account is None:
            raise HTTPNotFound()
        return account
