"""The second step of a sign-in, and re-authentication before sensitive changes."""

from __future__ import annotations

from typing import Any

from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other
from app.controllers.oidc_documents import let_forms_reach_the_client_of
from app.controllers.signin_steps import drop_pending, read_pending, signed_in
from app.models import Account
from app.security import PERMISSION_SIGNED_IN
from app.services.kernel.errors import (
    InvalidSecondFactorCode,
    RateLimited,
    SignInExpired,
    SignInFailed,
    WrongCurrentPassword,
)
from app.services.signin.stages import PendingSignIn
from app.viewmodels.two_factor import ReauthenticateViewModel, SecondFactorViewModel

SECOND_FACTOR_TEMPLATE = "app:templates/account/signin_two_factor.pt"
REAUTHENTICATE_TEMPLATE = "app:templates/account/reauthenticate.pt"


class SecondFactorController(ControllerBase):
    def _form(self, pending: PendingSignIn, posted: bool) -> SecondFactorViewModel:
        let_forms_reach_the_client_of(self.request, pending.came_from)
        if posted:
            return SecondFactorViewModel.from_request(
                self.request, pending.use_code, pending.use_passkey
            )
        return SecondFactorViewModel(self.request, pending.use_code, pending.use_passkey)

    def _start_again(self, message: str) -> Any:
        drop_pending(self.request)
        self.flash(message, queue="error")
        return see_other(self.request, self.request.page_path("account.signin"))

    @view_config(
        route_name="account.signin.two_factor",
        request_method="GET",
        renderer=SECOND_FACTOR_TEMPLATE,
    )
    def second_factor_get(self) -> Any:
        pending = read_pending(self.request)
        if pending is None:
            return self._start_again(SignInExpired.message)
        return self._form(pending, posted=False).to_dict()

    @view_config(
        route_name="account.signin.two_factor",
        request_method="POST",
        renderer=SECOND_FACTOR_TEMPLATE,
    )
    def second_factor_post(self) -> Any:
        pending = read_pending(self.request)
        if pending is None:
            return self._start_again(SignInExpired.message)
        vm = self._form(pending, posted=True)
        if not vm.validate():
            return self.form_error(vm)
        try:
            result = self.services.signin.with_code(
                pending, vm.code, replacing=self.request.login_session
            )
        except RateLimited as exc:
            return self.too_many(exc)
        except InvalidSecondFactorCode as exc:
            return self.form_error(vm, exc)
        except SignInFailed as exc:
            return self._start_again(exc.message)
        return signed_in(self.request, result)

    # Re-authentication

    def _reauthenticate_form(self, account: Account) -> ReauthenticateViewModel:
        two_factor = self.services.two_factor
        use_code = two_factor.takes_codes(account)
        use_passkey = self.services.passkeys.has_passkeys(account)
        # has_second_factor(): an authenticator app, or passkeys (already looked up).
        needs_code = two_factor.has_totp(account) or use_passkey
        vm = ReauthenticateViewModel(self.request, account.email, needs_code, use_code, use_passkey)
        self._offer_providers(vm, account)
        return vm

    def _offer_providers(self, vm: ReauthenticateViewModel, account: Account) -> None:
        """The providers linked to the account: confirming with one is a way too."""
        links = self.services.upstream_links
        round_trips = self.services.upstream_round_trips
        vm.upstream_links = [
            link
            for link in links.links_of(account)
            if (upstream := round_trips.provider(link.provider)) and upstream.can_reauthenticate
        ]
        vm.upstream_labels = links.labels

    @view_config(
        route_name="account.reauthenticate",
        request_method="GET",
        renderer=REAUTHENTICATE_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate_get(self) -> dict[str, Any]:
        return self._reauthenticate_form(self.request.identity).to_dict()

    @view_config(
        route_name="account.reauthenticate",
        request_method="POST",
        renderer=REAUTHENTICATE_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate_post(self) -> Any:
        account = self.request.identity
        blank = self._reauthenticate_form(account)
        vm = ReauthenticateViewModel.from_request(
            self.request, account.email, blank.needs_code, blank.use_code, blank.use_passkey
        )
        self._offer_providers(vm, account)
        if not vm.validate():
            return self.form_error(vm)
        try:
            method = self.services.authentication.reauthenticate(account, vm.password, vm.code)
        except RateLimited as exc:
            return self.too_many(exc)
        except (WrongCurrentPassword, InvalidSecondFactorCode) as exc:
            return self.form_error(vm, exc)
        self.services.login_sessions.mark_authenticated(self.request.login_session, method.label)
        return see_other(self.request, vm.came_from)
