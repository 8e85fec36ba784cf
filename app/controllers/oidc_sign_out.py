"""Signing out at an application's request (RP-initiated logout): with a hint that
names this browser's session, at once; otherwise after the person confirms."""

from __future__ import annotations

from typing import Any

from authlib.common.urls import add_params_to_uri
from pyramid.csrf import check_csrf_token
from pyramid.response import Response
from pyramid.security import forget
from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other
from app.controllers.oidc_documents import ERROR_TEMPLATE, error_page, let_forms_reach
from app.services.oidc.protocol import (
    ID_TOKEN_TYPE,
    Provider,
)
from app.translation import _


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


def _audience(claims: dict[str, Any]) -> str | None:
    audiences = _audiences(claims)
    return audiences[0] if len(audiences) == 1 else None


class OidcSignOutController(ControllerBase):
    @property
    def provider(self) -> Provider:
        return self.services.oidc_provider

    # -- signing out (RP-initiated logout) --------------------------------------------

    @view_config(route_name="oidc.logout", request_method="GET", renderer=ERROR_TEMPLATE)
    def end_session(self) -> Any:
        return self._end_session(confirmed=False)

    # An application may POST its sign-out request (RP-Initiated Logout 1.0, 2), from its
    # own site, without this site's CSRF token: such a POST is a request, like a GET;
    # only the confirmation form, which carries the token, confirms.
    @view_config(
        route_name="oidc.logout", request_method="POST", renderer=ERROR_TEMPLATE, require_csrf=False
    )
    def end_session_posted(self) -> Any:
        confirmed = check_csrf_token(self.request, raises=False)
        return self._end_session(confirmed=bool(confirmed))

    def _end_session(self, confirmed: bool) -> Any:
        request = self.request
        params = request.GET if request.method == "GET" else request.POST
        if any(not isinstance(value, str) for value in params.values()):
            # A file uploaded where the protocol has text.
            return error_page(self.request, _("The application's sign-out request is not valid."))
        hint = params.get("id_token_hint")
        claims = self.provider.verify(hint, typ=ID_TOKEN_TYPE) if hint else None
        if hint and claims is None:
            return error_page(self.request, _("The application's sign-out request is not valid."))
        client_id = params.get("client_id") or (_audience(claims) if claims else None)
        client = self.services.oidc_clients.find(client_id) if client_id else None
        if client_id and client is None:
            return error_page(self.request, _("The application's sign-out request is not valid."))
        if claims and client is not None and client.client_id not in _audiences(claims):
            return error_page(self.request, _("The application's sign-out request is not valid."))
        back_to = params.get("post_logout_redirect_uri")
        if back_to and (client is None or back_to not in client.post_logout_redirect_uris):
            return error_page(self.request, _("The address to return to is not registered."))
        current = request.login_session
        same_session = (
            claims is not None and current is not None and claims.get("sid") == current.sid
        )
        if current is not None and not (confirmed or same_session):
            request.override_renderer = "app:templates/oidc/sign_out.pt"
            let_forms_reach(request, back_to)
            return {
                "client_name": client.name if client else None,
                "fields": {
                    k: v
                    for k, v in params.items()
                    if k in ("id_token_hint", "post_logout_redirect_uri", "state", "client_id")
                },
            }
        headers = forget(request) if current is not None else []
        request.session.invalidate()
        if back_to:
            state = params.get("state")
            location = add_params_to_uri(back_to, [("state", state)]) if state else back_to
            response = Response(status=302, location=location, headerlist=[])
            response.headers.extend(headers)
            response.headers["Cache-Control"] = "no-store"
            return response
        self.flash(_("You are signed out."))
        return see_other(request, request.page_path("account.signin"), headers)
