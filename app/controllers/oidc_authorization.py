"""The authorization endpoint: who is signed in here, signing in (again, or with a
second factor) when the request asks, the consent page, and the code sent back
(docs/security.md 62, 65, 66)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other
from app.controllers.oidc_documents import ERROR_TEMPLATE, error_page, let_forms_reach, to_response
from app.services.oidc.grants import Subject, scope_set
from app.services.oidc.protocol import (
    SCOPES,
    Provider,
)
from app.translation import _
from app.web.oauth_requests import authorization_request

# An authorization request longer than this is refused with a page: it could not come
# back through the sign-in page's came_from, and no client needs more.
MAX_AUTHORIZATION_QUERY = 1800
# What the authorization endpoint adds to its own URL when it sends the person to sign
# in for prompt=login or max_age: when, signed for the client and redirect URI
# (Provider.sign_in_requested); a sign-in at or after that time meets them.
LOGIN_AFTER = "login_after"
MFA = "mfa"


def _integer(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    return int(value)


class OidcAuthorizationController(ControllerBase):
    @property
    def provider(self) -> Provider:
        return self.services.oidc_provider

    # -- authorization ----------------------------------------------------------------

    @view_config(route_name="oidc.authorize", request_method="GET", renderer=ERROR_TEMPLATE)
    def authorize(self) -> Any:
        return self._authorize(decision=None)

    @view_config(route_name="oidc.authorize", request_method="POST", renderer=ERROR_TEMPLATE)
    def authorize_decision(self) -> Any:
        # The consent page's answer, with the CSRF token (checked for every POST).
        decision = self.request.POST.get("decision")
        return self._authorize(decision="allow" if decision == "allow" else "deny")

    def _authorize(self, decision: str | None) -> Any:
        request = self.request
        if len(request.query_string) > MAX_AUTHORIZATION_QUERY:
            return error_page(self.request, _("The request from the application is too long."))
        provider = self.provider
        consents = self.services.oidc_consents
        subject = self.services.oidc_grants.live_subject(request.login_session)
        oauth_request = authorization_request(request)
        try:
            grant = provider.get_consent_grant(oauth_request, end_user=subject)
        except OAuth2Error as error:
            return self._authorization_error(error)
        params = oauth_request.payload.data
        redirect_uri = params["redirect_uri"]
        state = params.get("state")
        prompts = set(params.get("prompt", "").split())
        wants_mfa = MFA in params.get("acr_values", "").split()

        def refuse(error: str, description: str) -> Response:
            return self._authorization_error(
                OAuth2Error(description, error=error, state=state, redirect_uri=redirect_uri)
            )

        if (
            subject is not None
            and wants_mfa
            and not subject.method.is_multi_factor
            and not self.services.two_factor.has_second_factor(subject.account)
        ):
            return refuse(
                "unmet_authentication_requirements",
                "The account has no second factor to sign in with.",
            )
        if subject is None or self._must_sign_in(subject, params, prompts, wants_mfa):
            if "none" in prompts:
                return refuse("login_required", "The person must sign in.")
            return self._go_sign_in()
        client = grant.client.row
        scopes = scope_set(params.get("scope")) & set(SCOPES)
        if decision == "deny":
            return refuse("access_denied", "The person did not allow it.")
        if decision == "allow":
            consents.give_consent(subject.account.id, client, frozenset(scopes))
        elif not client.first_party and (
            "consent" in prompts or not consents.has_consent(subject.account.id, client, scopes)
        ):
            if "none" in prompts:
                return refuse("consent_required", "The person must allow it first.")
            return self._consent_page(client, scopes)
        consents.note_use(subject.account.id, client, scopes)
        answer = provider.create_authorization_response(oauth_request, subject, grant)
        return to_response(answer)

    def _must_sign_in(
        self, subject: Subject, params: dict[str, str], prompts: set[str], wants_mfa: bool
    ) -> bool:
        """Whether the person must sign in (again) first: prompt=login, a sign-in older
        than max_age, or a second factor asked for and not given (docs/security.md 65).
        A sign-in made since this request sent the person to sign in (login_after)
        meets prompt=login and max_age, however long the way back took."""
        signed_in_at = subject.auth_time
        now = int(self.services.clock.now().timestamp())
        login_after = self.provider.signed_in_since_request(
            params.get(LOGIN_AFTER), params["client_id"], params["redirect_uri"]
        )
        fresh = login_after is not None and signed_in_at >= login_after
        if "login" in prompts and not fresh:
            return True
        max_age = _integer(params.get("max_age"))
        if max_age is not None and now - signed_in_at > max_age and not fresh:
            return True
        return wants_mfa and not subject.method.is_multi_factor

    def _go_sign_in(self) -> Response:
        """To the sign-in page, which comes back here once the person has signed in.
        prompt=login becomes "signed in after now" (login_after), and so does max_age,
        so that coming back does not ask again."""
        request = self.request
        query = [(k, v) for k, v in request.GET.items() if k not in (LOGIN_AFTER, "prompt")]
        asked = request.GET.get("prompt", "").split()
        others = [p for p in asked if p != "login"]
        if others:
            query.append(("prompt", " ".join(others)))
        if "login" in asked or "max_age" in request.GET:
            mark = self.provider.sign_in_requested(
                request.GET["client_id"], request.GET["redirect_uri"]
            )
            query.append((LOGIN_AFTER, mark))
        came_from = request.route_path("oidc.authorize") + "?" + urlencode(query)
        signin = request.route_path("account.signin") + "?" + urlencode({"came_from": came_from})
        return see_other(request, signin)

    def _consent_page(self, client: Any, scopes: frozenset[str]) -> dict[str, Any]:
        self.request.override_renderer = "app:templates/oidc/consent.pt"
        let_forms_reach(self.request, self.request.GET.get("redirect_uri"))
        self.request.response.headers["Cache-Control"] = "no-store"
        return {
            "client_name": client.name,
            "scopes": [s for s in SCOPES if s in scopes and s != "openid"],
            "action": self.request.path_qs,
            "account": self.request.identity,
        }

    def _authorization_error(self, error: OAuth2Error) -> Any:
        """Back to the client with the error when its redirect URI is known good;
        otherwise a page here: never a redirect to an address nobody registered."""
        if error.redirect_uri:
            params = [("error", error.error)]
            if error.description:
                params.append(("error_description", error.description))
            if error.state:
                params.append(("state", error.state))
            params.append(("iss", self.provider.issuer))
            response = Response(status=302, location=add_params_to_uri(error.redirect_uri, params))
            response.headers["Cache-Control"] = "no-store"
            return response
        return error_page(self.request, _("The application's sign-in request is not valid."))
