"""The protocol's names, and our records as Authlib asks about them: a client, a code,
a refresh token, an access token presented back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    TokenMixin,
)

from app.models import OidcClient, OidcCode, OidcRefreshToken
from app.services.oidc.clients import secret_matches
from app.services.oidc.grants import (
    OidcGrants,
    Subject,
    scope_set,
    scope_text,
)

SCOPES = ("openid", "email", "profile", "offline_access")
SIGNING_ALGORITHM = "RS256"
ID_TOKEN_TYPE = "JWT"  # noqa: S105 - the JWT typ of an ID token
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - the JWT typ of RFC 9068
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# Authlib's names for the endpoints the server registers.
REVOCATION = "revocation"
INTROSPECTION = "introspection"


@dataclass
class ProtocolResponse:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))

    def json(self) -> dict[str, Any]:
        if isinstance(self.body, dict):
            return self.body
        return json.loads(self.body) if self.body else {}


class ClientRecord(ClientMixin):
    """A registered client as Authlib asks about it."""

    def __init__(self, row: OidcClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        # OpenID Connect requires redirect_uri in every request: there is no default.
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return scope_text(scope_set(scope) & set(SCOPES))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exactly as registered: no prefix, no pattern, no normalising.
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class CodeRecord(AuthorizationCodeMixin):
    def __init__(self, row: OidcCode, subject: Subject | None) -> None:
        self.row = row
        self.subject = subject

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int | None:
        return self.subject.auth_time if self.subject else None

    def get_acr(self) -> str | None:
        return self.subject.method.acr if self.subject else None

    def get_amr(self) -> list[str] | None:
        return self.subject.method.amr if self.subject else None


class RefreshRecord(TokenMixin):
    def __init__(self, row: OidcRefreshToken, grants: OidcGrants) -> None:
        self.row = row
        self.grants = grants

    def check_client(self, client: ClientRecord) -> bool:
        return client.row.id == self.row.client_pk

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.created_at).total_seconds())

    def is_expired(self) -> bool:
        return not self.grants.is_usable(self.row)

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def get_user(self) -> None:
        return None

    def get_client(self) -> ClientRecord:
        return ClientRecord(self.row.client)


@dataclass
class AccessTokenRecord:
    """A JWT access token presented to introspection, its signature checked."""

    claims: dict[str, Any]
    active: bool

    def check_client(self, client: ClientRecord) -> bool:
        return self.claims.get("client_id") == client.get_client_id()

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return False
