"""The grants and endpoints Authlib runs, on our records: the authorization code with
PKCE (S256 only) and ID tokens, the refresh token, revocation and introspection."""

from __future__ import annotations

from typing import Any, Protocol

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
)
from authlib.oauth2.rfc6749 import grants as oauth2_grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core.grants import OpenIDCode

from app.services.oidc.grants import (
    ID_TOKEN_LIFETIME,
    MAX_NONCE_LENGTH,
    OidcGrants,
    Subject,
    scope_set,
    scope_text,
)
from app.services.oidc.records import (
    ID_TOKEN_TYPE,
    SCOPES,
    SIGNING_ALGORITHM,
    TOKEN_AUTH_METHODS,
    AccessTokenRecord,
    ClientRecord,
    CodeRecord,
    RefreshRecord,
)


class ProviderParts(Protocol):
    """What the grants ask of the provider (protocol.Provider) that runs them."""

    grants: OidcGrants
    issuer: str

    def now(self) -> int: ...

    def signing_key(self) -> Any: ...

    def user_info(self, subject: Subject, scope: str) -> dict[str, Any]: ...

    def read_access_token(self, token: object) -> AccessTokenRecord | None: ...


class CodeGrant(oauth2_grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)
    server: ProviderParts

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        # Made in create_authorization_response below, which stores the code itself.
        raise NotImplementedError

    def validate_authorization_request(self) -> str:
        """Authlib's checks, then the nonce's length (it is stored with the code, with
        or without the openid scope)."""
        redirect_uri: str = super().validate_authorization_request()
        nonce = self.request.payload.data.get("nonce")
        if nonce is not None and len(nonce) > MAX_NONCE_LENGTH:
            raise InvalidRequestError("The nonce is too long.", redirect_uri=redirect_uri)
        return redirect_uri

    def generate_authorization_code(self) -> str:
        request = self.request
        subject: Subject = request.user
        data = request.payload.data
        return self.server.grants.issue_code(
            request.client.row,
            subject,
            redirect_uri=request.payload.redirect_uri,
            scope=scope_text(scope_set(request.payload.scope) & set(SCOPES)),
            nonce=data.get("nonce"),
            code_challenge=data["code_challenge"],
        )

    def create_authorization_response(
        self, redirect_uri: str, grant_user: Any
    ) -> tuple[int, str, list[tuple[str, str]]]:
        if not grant_user:
            return super().create_authorization_response(redirect_uri, grant_user)
        self.request.user = grant_user
        code = self.generate_authorization_code()
        params = [("code", code)]
        if self.request.payload.state:
            params.append(("state", self.request.payload.state))
        return 302, "", [("Location", add_params_to_uri(redirect_uri, params))]

    def query_authorization_code(self, code: str, client: ClientRecord) -> CodeRecord | None:
        row = self.server.grants.find_code(code, client.row)
        if row is None:
            return None
        return CodeRecord(row, self.server.grants.live_subject(row.login_session))

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        # Spent in authenticate_user: nothing left to do.
        return None

    def authenticate_user(self, authorization_code: CodeRecord) -> Subject | None:
        """Called once the redirect URI and the PKCE verifier have passed: the code is
        spent here, so that a wrong verifier (someone holding a stolen code) cannot use
        it up for its client."""
        if authorization_code.subject is None:
            return None
        if not self.server.grants.spend_code(authorization_code.row, self.request.client.row):
            raise InvalidGrantError("Invalid 'code' in request.")
        return authorization_code.subject


class PkceS256(CodeChallenge):
    """PKCE for every client, and only S256 (docs/security.md 61)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256.",
                redirect_uri=redirect_uri,
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "Only code_challenge_method=S256 is supported.", redirect_uri=redirect_uri
            )
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: CodeGrant, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: CodeRecord) -> str:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: CodeRecord) -> str:
        return "S256"


class IdTokens(OpenIDCode):
    """ID tokens that tell the truth about the sign-in (docs/security.md 65)."""

    def __init__(self, provider: ProviderParts) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False

    def resolve_client_private_key(self, client: ClientRecord) -> Any:
        return self.provider.signing_key()

    def get_client_algorithm(self, client: ClientRecord) -> str:
        return SIGNING_ALGORITHM

    def get_encode_header(self, client: ClientRecord) -> dict[str, str]:
        return {
            "alg": SIGNING_ALGORITHM,
            "kid": self.provider.signing_key().kid,
            "typ": ID_TOKEN_TYPE,
        }

    def get_compatible_claims(self, request: OAuth2Request) -> dict[str, Any]:
        now = self.provider.now()
        subject: Subject = request.user
        return {
            "iss": self.provider.issuer,
            "aud": [request.client.get_client_id()],
            "iat": now,
            "exp": now + int(ID_TOKEN_LIFETIME.total_seconds()),
            "auth_time": subject.auth_time,
            "sid": subject.sid,
        }

    def generate_user_info(self, user: Subject, scope: str) -> dict[str, Any]:
        return self.provider.user_info(user, scope)


class RefreshGrant(oauth2_grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: ProviderParts

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshRecord | None:
        row = self.server.grants.find_refresh_token(refresh_token)
        return None if row is None else RefreshRecord(row, self.server.grants)

    def authenticate_user(self, refresh_token: RefreshRecord) -> Subject:
        # Spent here, after the client was checked: one conditional UPDATE; a token
        # used before revokes its family.
        subject = self.server.grants.spend_refresh_token(refresh_token.row)
        if subject is None:
            raise InvalidGrantError("The refresh token is no longer valid.")
        return subject

    def revoke_old_credential(self, refresh_token: RefreshRecord) -> None:
        # Spent in authenticate_user.
        return None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)
    server: ProviderParts

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        row = self.server.grants.find_refresh_token(token_string)
        if row is not None:
            return RefreshRecord(row, self.server.grants)
        # An access token is a signed JWT, good for minutes: it cannot be called back,
        # and RFC 7009 lets the answer be 200 all the same.
        return None

    def revoke_token(self, token: RefreshRecord, request: OAuth2Request) -> None:
        self.server.grants.revoke_family(token.row.family)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    server: ProviderParts

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        row = self.server.grants.find_refresh_token(token_string)
        if row is not None:
            return RefreshRecord(row, self.server.grants)
        return self.server.read_access_token(token_string)

    def check_permission(self, token: Any, client: ClientRecord, request: OAuth2Request) -> bool:
        # A client learns only about its own tokens.
        return bool(token.check_client(client))

    def introspect_token(self, token: Any) -> dict[str, Any]:
        if isinstance(token, AccessTokenRecord):
            claims = token.claims
            keep = ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "acr", "auth_time")
            return {"active": True, "token_type": "Bearer"} | {
                k: claims[k] for k in keep if k in claims
            }
        row = token.row
        subject = self.server.grants.live_subject(row.login_session, idle_counts=False)
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": row.scope,
            "client_id": row.client.client_id,
            "sub": subject.get_user_id() if subject else None,
            "exp": int(row.expires_at.timestamp()),
            "iat": int(row.created_at.timestamp()),
            "iss": self.server.issuer,
        }
