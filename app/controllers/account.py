"""Sign in, sign out, and the account page."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPMethodNotAllowed
from pyramid.response import Response
from pyramid.security import forget
from pyramid.view import view_config, view_defaults

from app.controllers.base import ControllerBase, see_other
from app.controllers.oidc_documents import let_forms_reach_the_client_of
from app.controllers.signin_steps import answer_step
from app.i18n import translated
from app.security import PERMISSION_SIGNED_IN
from app.services.kernel import audit as events
from app.services.kernel.errors import RateLimited, SignInFailed
from app.services.signin.stages import SignedIn
from app.translation import _
from app.viewmodels.account import PREFILL_KEY, SignInViewModel
from app.viewmodels.events import event_row


@view_defaults(renderer="app:templates/account/index.pt")
class AccountController(ControllerBase):
    @view_config(route_name="account", request_method="GET", permission=PERMISSION_SIGNED_IN)
    def index(self) -> dict[str, Any]:
        """The account at a glance: each card says the state of one part (sign-in
        methods, devices, activity, connected applications) and leads to its page."""
        account = self.request.identity
        services = self.services
        two_factor = services.two_factor
        on = two_factor.has_second_factor(account)
        recent = services.audit.for_account(account.id, per_page=3).items
        return {
            "account": account,
            "two_factor_on": on,
            "has_totp": two_factor.has_totp(account),
            "recovery_codes_left": two_factor.recovery_codes_left(account.id) if on else 0,
            "passkeys": len(services.passkeys.for_account(account.id)),
            "devices": len(services.login_sessions.list_active(account.id)),
            "apps": len(services.oidc_consents.connected_apps(account.id)),
            "recent_events": [event_row(event, self.request.formats) for event in recent],
        }

    @view_config(
        route_name="account.signin",
        request_method="GET",
        renderer="app:templates/account/signin.pt",
    )
    def signin_get(self) -> dict[str, Any]:
        vm = SignInViewModel(self.request)
        let_forms_reach_the_client_of(self.request, vm.came_from)
        return vm.to_dict()

    @view_config(
        route_name="account.signin",
        request_method="POST",
        renderer="app:templates/account/signin.pt",
    )
    def signin_post(self) -> Any:
        vm = SignInViewModel.from_request(self.request)
        let_forms_reach_the_client_of(self.request, vm.came_from)
        if not vm.validate():
            return self.form_error(vm)
        try:
            step = self.services.signin.with_password(
                vm.email,
                vm.password,
                came_from=vm.came_from,
                remember=vm.remember_me,
                replacing=self.request.login_session,
            )
        except RateLimited as exc:
            return self.too_many(exc)
        except SignInFailed as exc:
            return self.form_error(vm, exc)
        if isinstance(step, SignedIn):
            self.request.pending_codes.drop(self.request.session, PREFILL_KEY)
        return answer_step(self.request, step)

    @view_config(route_name="account.logout", request_method="POST")
    def logout_post(self) -> Response:
        identity = self.request.identity
        if identity is not None:
            self.services.audit.record(events.SIGN_OUT, identity.id)
        headers = forget(self.request)
        self.request.session.invalidate()
        self.flash(_("You are signed out."))
        return see_other(self.request, self.request.page_path("account.signin"), headers)

    @view_config(route_name="account.logout", request_method="GET")
    def logout_get(self) -> HTTPMethodNotAllowed:
        # Signing out changes state, so it takes a POST with the CSRF token.
        return HTTPMethodNotAllowed(
            translated(self.request, _("Sign out with the button on the page.")),
            headers={"Allow": "POST"},
        )
