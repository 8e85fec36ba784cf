"""The token, revocation, introspection and userinfo endpoints, behind their rate
limits (docs/security.md 67)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from pyramid.httpexceptions import HTTPMethodNotAllowed
from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase
from app.controllers.oidc_documents import json_response, to_response
from app.services.kernel.errors import RateLimited
from app.services.oidc.protocol import (
    INTROSPECTION,
    REVOCATION,
    Provider,
)
from app.web.oauth_requests import token_request
from app.web.request import AppRequest


def _client_id_of(request: AppRequest) -> str | None:
    """The client a token-endpoint call names (its Basic credentials or its form), for
    the per-client limit; not yet checked."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return unquote(decoded.partition(":")[0])[:64] or None
    value = request.POST.get("client_id")
    return value[:64] if isinstance(value, str) and value else None


class OidcTokensController(ControllerBase):
    @property
    def provider(self) -> Provider:
        return self.services.oidc_provider

    # -- tokens -----------------------------------------------------------------------

    def _limit_token_calls(self) -> Response | None:
        """The token endpoints' rate limits, before any client is looked up."""
        try:
            self.services.oidc_clients.count_token_call(_client_id_of(self.request))
        except RateLimited as exc:
            return json_response(
                {"error": "slow_down", "error_description": "Too many requests."},
                429,
                [("Retry-After", str(exc.retry_after)), ("Cache-Control", "no-store")],
            )
        return None

    @view_config(route_name="oidc.token", request_method="POST", require_csrf=False)
    def token(self) -> Response:
        limited = self._limit_token_calls()
        if limited is not None:
            return limited
        return to_response(self.provider.create_token_response(token_request(self.request)))

    @view_config(route_name="oidc.revoke", request_method="POST", require_csrf=False)
    def revoke(self) -> Response:
        limited = self._limit_token_calls()
        if limited is not None:
            return limited
        return to_response(
            self.provider.create_endpoint_response(REVOCATION, token_request(self.request))
        )

    @view_config(route_name="oidc.introspect", request_method="POST", require_csrf=False)
    def introspect(self) -> Response:
        limited = self._limit_token_calls()
        if limited is not None:
            return limited
        return to_response(
            self.provider.create_endpoint_response(INTROSPECTION, token_request(self.request))
        )

    @view_config(route_name="oidc.token", request_method="GET")
    @view_config(route_name="oidc.revoke", request_method="GET")
    @view_config(route_name="oidc.introspect", request_method="GET")
    def token_get(self) -> HTTPMethodNotAllowed:
        return HTTPMethodNotAllowed(headers={"Allow": "POST"})

    # -- userinfo ---------------------------------------------------------------------

    @view_config(route_name="oidc.userinfo", request_method=("GET", "POST"), require_csrf=False)
    def userinfo(self) -> Response:
        header = self.request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        record = None
        if scheme.lower() == "bearer" and token.strip():
            record = self.provider.read_access_token(token.strip())
        if record is None or not record.active:
            response = json_response(
                {"error": "invalid_token", "error_description": "The access token is not valid."},
                401,
            )
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        subject = self.services.oidc_grants.session_live_by_sid(record.claims.get("sid"))
        if subject is None or subject.get_user_id() != record.claims.get("sub"):
            response = json_response({"error": "invalid_token"}, 401)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        info = self.provider.user_info(subject, str(record.claims.get("scope", "")))
        response = json_response(info)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
