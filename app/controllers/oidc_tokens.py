"""The token, revocation, introspection and userinfo endpoints, behind their rate
limits (docs/security.md 67)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import unquote

from authlib.oauth2 import OAuth2Request
from pyramid.httpexceptions import HTTPMethodNotAllowed
from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase
from app.controllers.oidc_documents import json_response, to_response
from app.services.kernel.errors import RateLimited
from app.services.oidc.protocol import (
    INTROSPECTION,
    REVOCATION,
    ProtocolResponse,
    Provider,
)
from app.web.oauth_requests import token_request
from app.web.request import AppRequest


class MalformedCredentials(Exception):
    """Basic credentials that are not base64 of UTF-8 text."""


def _claimed_client(request: AppRequest) -> str | None:
    """The client a token-endpoint call names (its Basic credentials, or the form's first
    client_id, as Authlib reads it), for the per-client limit; not yet checked."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeError, ValueError):
            raise MalformedCredentials from None
        if ":" not in decoded:
            raise MalformedCredentials
        return unquote(decoded.partition(":")[0])[:64] or None
    values = [v for v in request.POST.getall("client_id") if isinstance(v, str)]
    return values[0][:64] if values and values[0] else None


class OidcTokensController(ControllerBase):
    @property
    def provider(self) -> Provider:
        return self.services.oidc_provider

    # -- tokens -----------------------------------------------------------------------

    def _answer(self, endpoint: Callable[[OAuth2Request], ProtocolResponse]) -> Response:
        """The token endpoints' common way: malformed credentials refused, the rate
        limits checked before any client is looked up, then Authlib's answer."""
        try:
            claimed = _claimed_client(self.request)
        except MalformedCredentials:
            response = json_response(
                {"error": "invalid_client", "error_description": "Malformed credentials."},
                401,
                [("Cache-Control", "no-store")],
            )
            response.headers["WWW-Authenticate"] = 'Basic realm="oidc"'
            return response
        clients = self.services.oidc_clients
        try:
            clients.count_token_call(claimed)
        except RateLimited as exc:
            return json_response(
                {"error": "slow_down", "error_description": "Too many requests."},
                429,
                [("Retry-After", str(exc.retry_after)), ("Cache-Control", "no-store")],
            )
        provider = self.provider
        answer = endpoint(token_request(self.request))
        if provider.authenticated_client_id is not None:
            clients.count_client_call(provider.authenticated_client_id)
        return to_response(answer)

    @view_config(route_name="oidc.token", request_method="POST", require_csrf=False)
    def token(self) -> Response:
        return self._answer(self.provider.create_token_response)

    @view_config(route_name="oidc.revoke", request_method="POST", require_csrf=False)
    def revoke(self) -> Response:
        return self._answer(lambda r: self.provider.create_endpoint_response(REVOCATION, r))

    @view_config(route_name="oidc.introspect", request_method="POST", require_csrf=False)
    def introspect(self) -> Response:
        return self._answer(lambda r: self.provider.create_endpoint_response(INTROSPECTION, r))

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
