"""The identity provider's public documents: discovery and the signing keys; and the
JSON answers every provider endpoint gives."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase
from app.services.oidc.protocol import (
    SCOPES,
    SIGNING_ALGORITHM,
    TOKEN_AUTH_METHODS,
    ProtocolResponse,
)
from app.services.oidc.signing_keys import JWKS_MAX_AGE
from app.web.headers import FORM_TARGETS
from app.web.request import AppRequest


def discovery_document(request: AppRequest) -> dict[str, Any]:
    """The provider's metadata (OpenID Connect Discovery 1.0), the same for every
    request: made once per process."""
    cached = request.registry.get("oidc_discovery")
    if cached is not None:
        return cached
    issuer = request.app_settings.base_url
    origin = request.app_settings.origin

    def url(route: str) -> str:
        return origin + request.route_path(route)

    document = {
        "issuer": issuer,
        "authorization_endpoint": url("oidc.authorize"),
        "token_endpoint": url("oidc.token"),
        "userinfo_endpoint": url("oidc.userinfo"),
        "jwks_uri": url("oidc.jwks"),
        "revocation_endpoint": url("oidc.revoke"),
        "introspection_endpoint": url("oidc.introspect"),
        "end_session_endpoint": url("oidc.logout"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
        "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "sid",
            "email",
            "email_verified",
            "name",
        ],
        "acr_values_supported": ["mfa", "pwd"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
    request.registry["oidc_discovery"] = document
    return document


ERROR_TEMPLATE = "app:templates/oidc/error.pt"


# A host (and port) as it may stand in a Content-Security-Policy source.
ORIGIN_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def let_forms_reach(request: AppRequest, uri: str | None) -> None:
    """This page's forms may end, through redirects, at `uri`'s origin (headers.py)."""
    if not uri:
        return
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and ORIGIN_HOST.fullmatch(parts.netloc):
        request.environ.setdefault(FORM_TARGETS, set()).add(f"{parts.scheme}://{parts.netloc}")


def let_forms_reach_the_client_of(request: AppRequest, came_from: str | None) -> None:
    """When a sign-in page will go on to an authorization request (its came_from), its
    forms may end at that request's redirect URI, if the client registered it."""
    if not came_from:
        return
    parts = urlsplit(came_from)
    if parts.path != request.route_path("oidc.authorize"):
        return
    query = parse_qs(parts.query)
    client = request.services.oidc_clients.find((query.get("client_id") or [""])[0])
    redirect_uri = (query.get("redirect_uri") or [""])[0]
    if client is not None and redirect_uri in client.redirect_uris:
        let_forms_reach(request, redirect_uri)


def error_page(request: AppRequest, message: str) -> dict[str, Any]:
    """A 400 page here, for a request that cannot be answered at the client's address
    (unknown client, unregistered redirect URI): never a redirect."""
    request.response.status = 400
    request.override_renderer = ERROR_TEMPLATE
    return {"message": message}


def json_response(
    body: Any, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    response = Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )
    for name, value in headers or []:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def to_response(answer: ProtocolResponse) -> Response:
    if answer.status in (301, 302, 303) and answer.location:
        response = Response(status=302, location=answer.location)
        response.headers["Cache-Control"] = "no-store"
        return response
    return json_response(answer.json(), answer.status, answer.headers)


class OidcDocumentsController(ControllerBase):
    # -- documents --------------------------------------------------------------------

    @view_config(route_name="oidc.discovery", request_method="GET")
    def discovery(self) -> Response:
        response = json_response(discovery_document(self.request))
        response.headers["Cache-Control"] = "public, max-age=3600"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    @view_config(route_name="oidc.jwks", request_method="GET")
    def jwks(self) -> Response:
        keys = self.services.signing_keys.snapshot().public
        response = json_response({"keys": keys})
        response.headers["Cache-Control"] = f"public, max-age={int(JWKS_MAX_AGE.total_seconds())}"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
