"""Signing in with another provider (app/services/upstream/): the button's POST sends
the person there, and the callback signs in the account linked to who they are there.
Someone new, whose address the provider verified, confirms on a page before an account
is made; an address that has an account here is linked only once that account's owner
proves it (its password or a passkey, then its second factor): never by the address
alone (docs/security.md 74)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other
from app.controllers.signin_methods import finish_link, finish_reauthentication
from app.controllers.signin_steps import answer_step
from app.services.kernel.errors import (
    AccountDisabled,
    DomainError,
    EmailTaken,
    RateLimited,
    UpstreamRefused,
    UpstreamRegistrationClosed,
    UpstreamRequestUnknown,
)
from app.services.upstream.journeys import Purpose, UpstreamAnswer
from app.services.upstream.round_trips import Upstream
from app.translation import _
from app.viewmodels.account import SignInViewModel
from app.viewmodels.upstream import LinkProofViewModel
from app.web.upstream_journeys import ANSWER_KEY, LINK_KEY, REQUEST_KEY, arm_link, leave_for

REFUSED_TEMPLATE = "app:templates/account/upstream_refused.pt"
NEW_ACCOUNT_TEMPLATE = "app:templates/account/upstream_new_account.pt"
LINK_TEMPLATE = "app:templates/account/upstream_link.pt"


class UpstreamSignInController(ControllerBase):
    @property
    def upstream(self) -> Upstream:
        found = self.services.upstream_round_trips.provider(self.request.matchdict["name"])
        if found is None:
            raise HTTPNotFound()
        return found

    @property
    def label(self) -> str:
        return self.upstream.settings.label

    def refused(self, error: DomainError, status: int = 400) -> dict[str, Any]:
        """The page that says what went wrong, and leads back to the sign-in page."""
        self.request.response.status = status
        self.request.override_renderer = REFUSED_TEMPLATE
        return {"provider": self.label, "error": error.message}

    # Leaving

    @view_config(
        route_name="account.signin.upstream", request_method="POST", renderer=REFUSED_TEMPLATE
    )
    def depart(self) -> Response | dict[str, Any]:
        came_from = SignInViewModel.from_request(self.request).came_from
        try:
            departure = self.services.upstream_round_trips.depart(
                self.upstream, Purpose.SIGN_IN, came_from
            )
        except UpstreamRefused as exc:
            return self.refused(exc)
        return leave_for(self.request, departure.url, departure.sealed_request)

    # Coming back

    @view_config(
        route_name="account.signin.upstream_callback",
        request_method="GET",
        renderer=REFUSED_TEMPLATE,
    )
    def arrive(self) -> Response | dict[str, Any]:
        # The request is spent whatever comes of it: an answer is read once.
        sealed = self.request.session.pop(REQUEST_KEY, None)
        try:
            outgoing, answer = self.services.upstream_round_trips.arrive(
                self.upstream, self.request.GET, sealed
            )
            if outgoing.purpose == Purpose.LINK:
                return finish_link(self.request, outgoing, answer)
            if outgoing.purpose == Purpose.REAUTHENTICATE:
                return finish_reauthentication(self.request, outgoing, answer)
            account = self.services.upstream_links.linked_account(answer)
            if account is not None:
                return self.sign_in(account, answer)
            # Not linked: the address the provider verified (or a refusal) decides.
            existing = self.services.upstream_links.account_with_address(answer)
            if existing is None and not self.request.app_settings.allow_registration:
                raise UpstreamRegistrationClosed(self.label)
        except RateLimited as exc:
            return self.too_many(exc)
        except UpstreamRefused as exc:
            return self.refused(exc)
        if existing is not None:
            arm_link(self.request, self.services.upstream_round_trips.keep(answer))
            return see_other(self.request, self.path("account.signin.upstream_link"))
        self.request.session[ANSWER_KEY] = self.services.upstream_round_trips.keep(answer)
        return see_other(self.request, self.path("account.signin.upstream_new"))

    def sign_in(self, account: Any, answer: UpstreamAnswer) -> Response | dict[str, Any]:
        trusted = self.upstream.settings.trust_amr and "mfa" in answer.amr
        try:
            step = self.services.signin.with_upstream(
                account, trusted, answer.came_from, replacing=self.request.login_session
            )
        except AccountDisabled as exc:
            return self.refused(exc, status=403)
        return answer_step(self.request, step)

    def path(self, route: str) -> str:
        return self.request.route_path(route, name=self.upstream.settings.name)

    # Someone new

    def kept_answer(self, key: str = ANSWER_KEY) -> UpstreamAnswer | None:
        answer = self.services.upstream_round_trips.kept(self.request.session.get(key))
        if answer is None or answer.provider != self.upstream.settings.name:
            return None
        return answer

    @view_config(
        route_name="account.signin.upstream_new",
        request_method="GET",
        renderer=NEW_ACCOUNT_TEMPLATE,
    )
    def new_account_get(self) -> dict[str, Any]:
        answer = self.kept_answer()
        if answer is None:
            return self.refused(UpstreamRequestUnknown(self.label))
        return {"provider": self.label, "email": answer.verified_email}

    @view_config(
        route_name="account.signin.upstream_new",
        request_method="POST",
        renderer=NEW_ACCOUNT_TEMPLATE,
    )
    def new_account_post(self) -> Response | dict[str, Any]:
        answer = self.kept_answer()
        if answer is None:
            return self.refused(UpstreamRequestUnknown(self.label))
        try:
            account = self.services.upstream_links.create_account(answer)
        except EmailTaken:
            # Made meanwhile (by a registration, or another tab): its owner proves it.
            arm_link(self.request, self.request.session.pop(ANSWER_KEY))
            return see_other(self.request, self.path("account.signin.upstream_link"))
        except UpstreamRefused as exc:
            return self.refused(exc)
        del self.request.session[ANSWER_KEY]
        self.flash(_("Your account is ready."))
        return self.sign_in(account, answer)

    # An address that has an account here: its owner proves it, then it is linked

    @view_config(
        route_name="account.signin.upstream_link",
        request_method="GET",
        renderer=LINK_TEMPLATE,
    )
    def link_get(self) -> dict[str, Any]:
        answer = self.kept_answer(LINK_KEY)
        if answer is None:
            return self.refused(UpstreamRequestUnknown(self.label))
        return LinkProofViewModel(self.request, answer, self.label).to_dict()

    @view_config(
        route_name="account.signin.upstream_link",
        request_method="POST",
        renderer=LINK_TEMPLATE,
    )
    def link_post(self) -> Response | dict[str, Any]:
        answer = self.kept_answer(LINK_KEY)
        if answer is None:
            return self.refused(UpstreamRequestUnknown(self.label))
        vm = LinkProofViewModel.posted(self.request, answer, self.label)
        if not vm.validate():
            return self.form_error(vm)
        try:
            step = self.services.signin.with_password(
                vm.email,
                vm.password,
                came_from=answer.came_from,
                replacing=self.request.login_session,
            )
        except RateLimited as exc:
            return self.too_many(exc)
        except DomainError as exc:
            return self.form_error(vm, exc)
        # The link is made when the account is signed in (after its second step, if any).
        return answer_step(self.request, step)
