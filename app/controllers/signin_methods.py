"""/account/signin_methods: every way into the account in one list (the password,
passkeys, accounts at other providers), linking another provider and unlinking one;
and re-authentication with a linked provider, for accounts that sign in that way.

Linking and unlinking change who can sign in: both need a recent sign-in, and the last
way in is never unlinked (docs/security.md 76). The provider's answer for a link or a
re-authentication comes back to app/controllers/upstream_sign_in.py's callback, which
hands it to finish_link() or finish_reauthentication() here."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other
from app.models import Account
from app.security import PERMISSION_RECENTLY_SIGNED_IN, PERMISSION_SIGNED_IN
from app.services.kernel.errors import (
    InvalidSecondFactorCode,
    RateLimited,
    UpstreamRefused,
    UpstreamRequestUnknown,
)
from app.services.upstream.journeys import OutgoingRequest, Purpose, UpstreamAnswer
from app.services.upstream.round_trips import Upstream
from app.translation import _
from app.viewmodels.base import safe_redirect_path
from app.viewmodels.upstream import UpstreamCodeViewModel
from app.web.request import AppRequest
from app.web.upstream_journeys import REAUTH_KEY, leave_for

METHODS_TEMPLATE = "app:templates/account/signin_methods.pt"
CODE_TEMPLATE = "app:templates/account/upstream_code.pt"


class SignInMethodsController(ControllerBase):
    def upstream(self) -> Upstream:
        found = self.services.upstream_round_trips.provider(self.request.matchdict["name"])
        if found is None:
            raise HTTPNotFound()
        return found

    def depart(self, upstream: Upstream, purpose: Purpose, came_from: str) -> Response:
        account: Account = self.request.identity
        try:
            departure = self.services.upstream_round_trips.depart(
                upstream, purpose, came_from, account_id=account.id
            )
        except UpstreamRefused as exc:
            self.flash(exc.message, queue="error")
            return see_other(self.request, came_from)
        return leave_for(self.request, departure.url, departure.sealed_request)

    @view_config(
        route_name="account.signin_methods",
        request_method="GET",
        renderer=METHODS_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def index(self) -> dict[str, Any]:
        account: Account = self.request.identity
        links = self.services.upstream_links.links_of(account)
        linked = {link.provider for link in links}
        providers = self.request.app_settings.upstream_providers
        return {
            "account": account,
            "passkeys": self.services.passkeys.for_account(account.id),
            "links": links,
            "labels": self.services.upstream_links.labels,
            "can_link": [provider for provider in providers if provider.name not in linked],
        }

    @view_config(
        route_name="account.signin_methods.link",
        request_method="POST",
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def link(self) -> Response:
        return self.depart(
            self.upstream(), Purpose.LINK, self.request.page_path("account.signin_methods")
        )

    @view_config(
        route_name="account.signin_methods.unlink",
        request_method="POST",
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def unlink(self) -> Response:
        links = self.services.upstream_links
        try:
            links.unlink(self.request.identity, int(self.request.matchdict["id"]))
        except UpstreamRefused as exc:
            self.flash(exc.message, queue="error")
        else:
            self.flash(_("It no longer signs in to your account."))
        return see_other(self.request, self.request.page_path("account.signin_methods"))

    @view_config(
        route_name="account.signin_methods.password",
        request_method="POST",
        permission=PERMISSION_SIGNED_IN,
    )
    def password(self) -> Response:
        """An account with no password gets one through the emailed reset link, which
        proves the mailbox as choosing a forgotten password does."""
        account: Account = self.request.identity
        try:
            self.services.accounts.request_password_reset(account.email)
        except RateLimited as exc:
            self.flash(exc.message, queue="error")
        else:
            self.flash(_("We emailed you a link to choose a password."))
        return see_other(self.request, self.request.page_path("account.signin_methods"))

    # Re-authentication with a linked provider

    @view_config(
        route_name="account.reauthenticate.upstream",
        request_method="POST",
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate(self) -> Response:
        came_from = safe_redirect_path(self.request.POST.get("came_from"))
        return self.depart(self.upstream(), Purpose.REAUTHENTICATE, came_from)

    @view_config(
        route_name="account.reauthenticate.upstream_code",
        request_method="GET",
        renderer=CODE_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def code_get(self) -> dict[str, Any] | Response:
        answer = self.kept_proof()
        if answer is None:
            return see_other(self.request, self.request.page_path("account.reauthenticate"))
        return UpstreamCodeViewModel(self.request, answer.came_from).to_dict()

    @view_config(
        route_name="account.reauthenticate.upstream_code",
        request_method="POST",
        renderer=CODE_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def code_post(self) -> dict[str, Any] | Response:
        answer = self.kept_proof()
        if answer is None:
            return see_other(self.request, self.request.page_path("account.reauthenticate"))
        vm = UpstreamCodeViewModel.posted(self.request, answer.came_from)
        if not vm.validate():
            return self.form_error(vm)
        try:
            method = self.services.authentication.reauthenticate_with_upstream(
                self.request.identity, answer.provider, vm.code
            )
        except RateLimited as exc:
            return self.too_many(exc)
        except InvalidSecondFactorCode as exc:
            return self.form_error(vm, exc)
        del self.request.session[REAUTH_KEY]
        self.services.login_sessions.mark_authenticated(self.request.login_session, method.label)
        return see_other(self.request, answer.came_from)

    def kept_proof(self) -> UpstreamAnswer | None:
        """The linked provider's fresh answer this browser keeps while the code is asked:
        only for the signed-in account it is linked to (the session cookie that keeps it
        is not the one that says who is signed in), and only if that account has a second
        factor to give (without one, the answer alone counted when it came)."""
        answer = self.services.upstream_round_trips.kept(self.request.session.get(REAUTH_KEY))
        if answer is None or answer.provider != self.request.matchdict["name"]:
            return None
        account: Account = self.request.identity
        owner = self.services.upstream_links.linked_account(answer)
        if owner is None or owner.id != account.id:
            return None
        if not self.services.two_factor.has_second_factor(account):
            return None
        return answer


def finish_link(request: AppRequest, outgoing: OutgoingRequest, answer: UpstreamAnswer) -> Response:
    """The provider answered a link started from the sign-in methods page: linked to the
    signed-in account that asked (UpstreamRefused if it is linked to another one)."""
    account = _account_that_asked(request, outgoing)
    links = request.services.upstream_links
    links.link(account, answer)
    message = _(
        "Signing in with ${provider} is now linked to your account.",
        mapping={"provider": links.label(answer.provider)},
    )
    ControllerBase(request).flash(message)
    return see_other(request, request.page_path("account.signin_methods"))


def finish_reauthentication(
    request: AppRequest, outgoing: OutgoingRequest, answer: UpstreamAnswer
) -> Response:
    """The provider answered a re-authentication: it counts if the answer is for the
    account that asked (linked to it); an account with a second factor gives its code
    next, on a page of its own."""
    account = _account_that_asked(request, outgoing)
    services = request.services
    owner = services.upstream_links.linked_account(answer)
    if owner is None or owner.id != account.id:
        raise UpstreamRequestUnknown(services.upstream_links.label(answer.provider))
    if services.two_factor.has_second_factor(account):
        if not services.two_factor.takes_codes(account):
            # Passkeys only: one of them confirms it alone, on the usual page.
            ControllerBase(request).flash(
                _("Confirm with your passkey: it is your second factor."), queue="error"
            )
            return see_other(request, request.page_path("account.reauthenticate"))
        request.session[REAUTH_KEY] = services.upstream_round_trips.keep(answer)
        return see_other(
            request,
            request.route_path("account.reauthenticate.upstream_code", name=answer.provider),
        )
    method = services.authentication.reauthenticate_with_upstream(account, answer.provider)
    services.login_sessions.mark_authenticated(request.login_session, method.label)
    return see_other(request, outgoing.came_from)


def _account_that_asked(request: AppRequest, outgoing: OutgoingRequest) -> Account:
    account: Account | None = request.identity
    if account is None or outgoing.account_id != account.id:
        raise UpstreamRequestUnknown(request.services.upstream_links.label(outgoing.provider))
    return account
