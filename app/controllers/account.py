"""Register, sign in, sign out, and the account page."""

from __future__ import annotations

import contextlib
from typing import Any

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPMethodNotAllowed, HTTPNotFound
from pyramid.response import Response
from pyramid.security import forget, remember
from pyramid.view import view_config, view_defaults

from app.models import Account
from app.security import PERMISSION_SIGNED_IN
from app.services import audit as events
from app.services.accounts import EmailTaken
from app.services.email_addresses import normalize_email
from app.services.passwords import PasswordRejected
from app.services.rate_limits import RateLimited
from app.viewmodels.account import SIGN_IN_FAILED, RegisterViewModel, SignInViewModel

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
        try:
            self.rate_limiter.hit("register_per_ip", self.client_ip or "")
        except RateLimited as exc:
            return self.too_many(exc)
        vm = RegisterViewModel.from_request(self.request)
        if not vm.validate():
            self.request.response.status = 400
            return vm.to_dict()
        try:
            account = self.accounts.create_account(vm.email, vm.password)
        except (EmailTaken, PasswordRejected) as exc:
            vm.error = str(exc)
            self.request.response.status = 400
            return vm.to_dict()
        self.audit.record(events.REGISTERED, account.id)
        self.flash("Welcome! Your account is ready.")
        return self._sign_in(account, "/account")

    def _require_registration_open(self) -> None:
        if not self.request.registry["app_settings"].allow_registration:
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
            self.request.response.status = 400
            return vm.to_dict()
        # Keyed by the address as typed (normalised), whether or not it has an account,
        # so that being limited says nothing about which addresses exist. The account's
        # attempt is counted before the password is checked, so that a burst of parallel
        # guesses cannot all slip past the limit; a successful sign-in clears it.
        email_key = normalize_email(vm.email)
        ip_key = self.client_ip or ""
        try:
            self.rate_limiter.check("signin_per_ip", ip_key)
            self.rate_limiter.hit("signin_per_account", email_key)
        except RateLimited as exc:
            account = self.accounts.find_account_by_email(vm.email)
            self.audit.record(events.SIGN_IN_BLOCKED, account.id if account else None)
            return self.too_many(exc)
        account = self.accounts.get_authenticated_account(vm.email, vm.password)
        if account is None or not self.accounts.record_sign_in(account, self.client_ip):
            # This failure is answered as usual; the next attempt from here may get 429.
            with contextlib.suppress(RateLimited):
                self.rate_limiter.hit("signin_per_ip", ip_key)
            vm.error = SIGN_IN_FAILED
            self.request.response.status = 400
            return vm.to_dict()
        self.rate_limiter.clear("signin_per_account", email_key)
        return self._start_session(account, vm.came_from)

    def _sign_in(self, account: Account, destination: str) -> Response:
        self.accounts.record_sign_in(account, self.client_ip)
        return self._start_session(account, destination)

    def _start_session(self, account: Account, destination: str) -> Response:
        # A fresh CSRF token too: nothing an attacker saw before sign-in stays valid.
        new_csrf_token(self.request)
        headers = remember(self.request, account.id, account=account)
        return see_other(destination, headers)

    @view_config(route_name="account.logout", request_method="POST")
    def logout_post(self) -> Response:
        identity = self.request.identity
        if identity is not None:
            self.audit.record(events.SIGN_OUT, identity.id)
        headers = forget(self.request)
        self.request.session.invalidate()
        return see_other(self.request.page_path("home"), headers)

    @view_config(route_name="account.logout", request_method="GET")
    def logout_get(self) -> HTTPMethodNotAllowed:
        # Signing out changes state, so it takes a POST with the CSRF token.
        return HTTPMethodNotAllowed(
            "Sign out with the button on the page.", headers={"Allow": "POST"}
        )
