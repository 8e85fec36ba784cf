"""Register, sign in, sign out, and the account page."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPMethodNotAllowed, HTTPNotFound
from pyramid.response import Response
from pyramid.security import forget, remember
from pyramid.view import view_config, view_defaults

from app.models import Account
from app.security import PERMISSION_SIGNED_IN
from app.services import audit as events
from app.services.errors import (
    EmailTaken,
    InvalidEmail,
    PasswordRejected,
    RateLimited,
    SignInFailed,
)
from app.viewmodels.account import RegisterViewModel, SignInViewModel

from .base import ControllerBase, see_other


@view_defaults(renderer="app:templates/account/index.pt")
class AccountController(ControllerBase):
    @view_config(route_name="account", request_method="GET", permission=PERMISSION_SIGNED_IN)
    def index(self) -> dict[str, Any]:
        return {"account": self.request.identity}

    # Register

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
        self._require_registration_open()
        vm = RegisterViewModel.from_request(self.request)
        if not vm.validate():
            return self.form_error(vm)
        try:
            account = self.services.accounts.register(vm.email, vm.password)
        except RateLimited as exc:
            return self.too_many(exc)
        except (EmailTaken, InvalidEmail, PasswordRejected) as exc:
            return self.form_error(vm, exc)
        self.services.authentication.record_sign_in(account)
        self.flash("Welcome! Your account is ready.")
        return self._start_session(account, self.request.page_path("account"))

    def _require_registration_open(self) -> None:
        if not self.request.app_settings.allow_registration:
            raise HTTPNotFound("Registration is closed; accounts are created by invitation.")

    # Sign in and out

    @view_config(
        route_name="account.signin",
        request_method="GET",
        renderer="app:templates/account/signin.pt",
    )
    def signin_get(self) -> dict[str, Any]:
        return SignInViewModel(self.request).to_dict()

    @view_config(
        route_name="account.signin",
        request_method="POST",
        renderer="app:templates/account/signin.pt",
    )
    def signin_post(self) -> Any:
        vm = SignInViewModel.from_request(self.request)
        if not vm.validate():
            return self.form_error(vm)
        try:
            account = self.services.authentication.sign_in(vm.email, vm.password)
        except RateLimited as exc:
            return self.too_many(exc)
        except SignInFailed as exc:
            return self.form_error(vm, exc)
        return self._start_session(account, vm.came_from)

    def _start_session(self, account: Account, destination: str) -> Response:
        # A fresh CSRF token too: nothing an attacker saw before sign-in stays valid.
        new_csrf_token(self.request)
        headers = remember(self.request, account.id, account=account)
        return see_other(self.request, destination, headers)

    @view_config(route_name="account.logout", request_method="POST")
    def logout_post(self) -> Response:
        identity = self.request.identity
        if identity is not None:
            self.services.audit.record(events.SIGN_OUT, identity.id)
        headers = forget(self.request)
        self.request.session.invalidate()
        return see_other(self.request, self.request.page_path("home"), headers)

    @view_config(route_name="account.logout", request_method="GET")
    def logout_get(self) -> HTTPMethodNotAllowed:
        # Signing out changes state, so it takes a POST with the CSRF token.
        return HTTPMethodNotAllowed(
            "Sign out with the button on the page.", headers={"Allow": "POST"}
        )
