"""Administrators: the account list, invitations, and actions on one account."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from app.controllers.base import ControllerBase, see_other
from app.models import Account
from app.security import PERMISSION_ADMIN, PERMISSION_ADMIN_ACTION
from app.services.kernel.errors import AdminActionRefused, EmailTaken, InvalidEmail
from app.translation import _
from app.viewmodels.admin import (
    AccountDetailViewModel,
    AccountListViewModel,
    AccountSearch,
    NewAccountViewModel,
    account_row,
)
from app.viewmodels.pages import page_number

ACTION = "admin.account.action"


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
        search = AccountSearch.from_request(self.request)
        admin = self.services.admin
        search = dataclasses.replace(search, query=admin.clean_query(search.query))
        result = admin.list_accounts(
            search.query, search.page, status=search.status or None, sort=search.sort
        )
        vm = AccountListViewModel(self.request, result, search)
        if vm.past_the_end:
            self.request.response.status = 404
        return vm.to_dict()

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
        permission=PERMISSION_ADMIN_ACTION,
    )
    def new_account_post(self) -> Any:
        vm = NewAccountViewModel.from_request(self.request)
        if not vm.validate():
            return self.form_error(vm)
        try:
            account = self.services.admin.invite(vm.email, vm.is_admin, actor=self.admin)
        except (EmailTaken, InvalidEmail) as exc:
            return self.form_error(vm, exc)
        self.flash(_("Invitation sent to ${email}.", mapping={"email": account.email}))
        return see_other(self.request, self.request.route_path("admin.account", id=account.id))

    @view_config(
        route_name="admin.account", request_method="GET", renderer="app:templates/admin/account.pt"
    )
    def account_detail(self) -> dict[str, Any]:
        account = self._account()
        events = self.services.audit.for_account(account.id, page=page_number(self.request))
        two_factor = self.services.two_factor.has_second_factor(account)
        actor_ids = {e.actor_id for e in events.items if e.actor_id is not None}
        actors = self.services.admin.emails_by_id(actor_ids)
        return AccountDetailViewModel(self.request, account, events, two_factor, actors).to_dict()

    # One view per action; any other {action} matches none of them and is a 404.

    @view_config(
        route_name=ACTION,
        match_param="action=disable",
        request_method="GET",
        renderer="app:templates/admin/confirm_disable.pt",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def disable_confirm(self) -> Any:
        """Disabling signs the owner out everywhere: it is confirmed on a page of its own."""
        account = self._account()
        if account.is_disabled:
            return self._back_to(account)
        return {
            "row": account_row(account),
            "is_self": account.id == self.admin.id,
            "sessions": len(self.services.login_sessions.list_active(account.id)),
        }

    @view_config(
        route_name=ACTION,
        match_param="action=disable",
        request_method="POST",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def disable(self) -> Response:
        account = self._account()
        with self._refusals_flashed():
            self.services.admin.disable(account, actor=self.admin)
            self.flash(
                _(
                    "${email} is disabled and signed out everywhere.",
                    mapping={"email": account.email},
                )
            )
        return self._back_to(account)

    @view_config(
        route_name=ACTION,
        match_param="action=enable",
        request_method="POST",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def enable(self) -> Response:
        account = self._account()
        self.services.admin.enable(account, actor=self.admin)
        self.flash(_("${email} can sign in again.", mapping={"email": account.email}))
        return self._back_to(account)

    @view_config(
        route_name=ACTION,
        match_param="action=send_reset",
        request_method="POST",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def send_reset(self) -> Response:
        account = self._account()
        with self._refusals_flashed():
            self.services.admin.send_reset(account, actor=self.admin)
            self.flash(
                _(
                    "A link to choose a password was sent to ${email}.",
                    mapping={"email": account.email},
                )
            )
        return self._back_to(account)

    @view_config(
        route_name=ACTION,
        match_param="action=send_invitation",
        request_method="POST",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def send_invitation(self) -> Response:
        account = self._account()
        with self._refusals_flashed():
            self.services.admin.resend_invitation(account, actor=self.admin)
            self.flash(
                _("The invitation was sent again to ${email}.", mapping={"email": account.email})
            )
        return self._back_to(account)

    @view_config(
        route_name=ACTION,
        match_param="action=remove_two_factor",
        request_method="GET",
        renderer="app:templates/admin/confirm_remove_two_factor.pt",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def remove_two_factor_confirm(self) -> Any:
        """What will go is said on a page of its own before it goes."""
        account = self._account()
        if not self.services.two_factor.has_second_factor(account):
            return self._back_to(account)
        return {
            "row": account_row(account),
            "is_self": account.id == self.admin.id,
            "factors": self.services.admin.second_factors(account),
        }

    @view_config(
        route_name=ACTION,
        match_param="action=remove_two_factor",
        request_method="POST",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def remove_two_factor(self) -> Response:
        """For someone who lost the phone and the recovery codes: the owner is told."""
        account = self._account()
        with self._refusals_flashed():
            self.services.admin.remove_two_factor(account, actor=self.admin)
            self.flash(
                _(
                    "Two-factor sign-in is off for ${email}, who has been told.",
                    mapping={"email": account.email},
                )
            )
        return self._back_to(account)

    @view_config(
        route_name=ACTION,
        match_param="action=role",
        request_method="POST",
        permission=PERMISSION_ADMIN_ACTION,
        renderer="app:templates/errors/error.pt",
    )
    def role(self) -> Response | dict[str, Any]:
        """role=admin makes the account an administrator, role=user takes it back; the
        last active administrator keeps it, and the owner is told."""
        account = self._account()
        role = self.request.POST.get("role")
        if role not in ("admin", "user"):
            self.request.response.status = 400
            return {"title": _("Unknown role"), "message": _("The role is admin or user.")}
        with self._refusals_flashed():
            if self.services.admin.set_role(account, role == "admin", actor=self.admin):
                message = (
                    _("${email} is now an administrator.", mapping={"email": account.email})
                    if role == "admin"
                    else _(
                        "${email} is no longer an administrator.", mapping={"email": account.email}
                    )
                )
                self.flash(message)
        return self._back_to(account)

    @view_config(
        route_name=ACTION,
        match_param="action=delete",
        request_method="GET",
        renderer="app:templates/admin/confirm_delete.pt",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def delete_confirm(self) -> Any:
        """Deleting erases at once: it is confirmed on a page of its own."""
        account = self._account()
        return {"row": account_row(account), "is_self": account.id == self.admin.id}

    @view_config(
        route_name=ACTION,
        match_param="action=delete",
        request_method="POST",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def delete(self) -> Response:
        """The account is erased now (docs/security.md 71), and its owner told. An
        administrator's own account is deleted from its account page, not here."""
        account = self._account()
        if account.id == self.admin.id:
            self.flash(_("Delete your own account from your account page."), queue="error")
            return self._back_to(account)
        email = account.email
        self.services.account_deletion.erase(account.id, by=self.admin)
        self.flash(_("${email} is deleted, and has been told.", mapping={"email": email}))
        return see_other(self.request, self.request.page_path("admin.accounts"))

    def _account(self) -> Account:
        account = self.services.accounts.find_account_by_id(int(self.request.matchdict["id"]))
        if account is None:
            raise HTTPNotFound()
        return account

    def _back_to(self, account: Account) -> Response:
        return see_other(self.request, self.request.route_path("admin.account", id=account.id))

    @contextlib.contextmanager
    def _refusals_flashed(self) -> Iterator[None]:
        """An AdminActionRefused inside the block becomes an error message on the page."""
        try:
            yield
        except AdminActionRefused as exc:
            self.flash(exc.message, queue="error")
