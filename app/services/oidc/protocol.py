"""OpenID Connect spoken by Authlib's authorization server, on our records.

Authlib parses and checks each request (the client's authentication, the redirect URI,
PKCE, scopes, the grant's rules) and words the protocol's errors; this module gives it
the clients, codes, refresh tokens and keys, and makes the tokens: RFC 9068 access
tokens and ID tokens that tell how the person signed in (docs/security.md 61-65).

Nothing here knows the web framework: a request is an OAuth2Request built by the
caller, and a response is a ProtocolResponse it turns into its own."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import (
    InvalidRequestError,
)
from authlib.oauth2.rfc6749.requests import JsonRequest
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc9207 import IssuerParameter
from joserfc import jwt
from joserfc.errors import JoseError

from app.services.kernel.clock import Clock
from app.services.oidc.clients import OidcClientService
from app.services.oidc.grant_types import (
    CodeGrant,
    IdTokens,
    Introspection,
    PkceS256,
    RefreshGrant,
    Revocation,
)
from app.services.oidc.grants import (
    ACCESS_TOKEN_LIFETIME,
    MAX_SCOPE_LENGTH,
    OidcGrants,
    Subject,
    scope_set,
)
from app.services.oidc.records import (
    ACCESS_TOKEN_TYPE,
    ID_TOKEN_TYPE,
    INTROSPECTION,
    REVOCATION,
    SCOPES,
    SIGNING_ALGORITHM,
    TOKEN_AUTH_METHODS,
    AccessTokenRecord,
    ClientRecord,
    ProtocolResponse,
)
from app.services.oidc.signing_keys import SigningKeys

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "ID_TOKEN_TYPE",
    "INTROSPECTION",
    "REVOCATION",
    "SCOPES",
    "SIGNING_ALGORITHM",
    "TOKEN_AUTH_METHODS",
    "ProtocolResponse",
    "Provider",
]

# How long a sign-in request's mark is honoured: the time to sign in and come back.
SIGN_IN_REQUEST_LIFETIME = 600


class Provider(AuthorizationServer):
    """Authlib's authorization server on this app's records, for one unit of work."""

    def __init__(
        self,
        clients: OidcClientService,
        grants: OidcGrants,
        keys: SigningKeys,
        issuer: str,
        clock: Clock,
        sign_in_request_key: bytes = b"",
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.clients = clients
        self.grants = grants
        self.keys = keys
        self.issuer = issuer
        self.clock = clock
        self.sign_in_request_key = sign_in_request_key
        self.authenticated_client_id: str | None = None
        self.register_grant(CodeGrant, [PkceS256(required=True), IdTokens(self)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=self.make_access_token,
                refresh_token_generator=None,
                expires_generator=lambda client, grant_type: int(
                    ACCESS_TOKEN_LIFETIME.total_seconds()
                ),
            ),
        )
        issuer_parameter = IssuerParameter()
        issuer_parameter.get_issuer = lambda: self.issuer
        self.register_extension(issuer_parameter)

    # -- what Authlib asks of its server ----------------------------------------------

    def authenticate_client(
        self, request: OAuth2Request, methods: Any, endpoint: str = "token"
    ) -> Any:
        """Authlib's client authentication, noting which client proved who it is (the
        per-client limit counts only those)."""
        client = super().authenticate_client(request, methods, endpoint)
        self.authenticated_client_id = client.get_client_id()
        return client

    def query_client(self, client_id: str) -> ClientRecord | None:
        row = self.clients.find(client_id)
        return None if row is None else ClientRecord(row)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """A refresh token is issued only with the offline_access scope; it starts a
        family from a code, or continues the family of the token it replaces."""
        token.pop("refresh_token", None)
        if "offline_access" not in scope_set(token.get("scope")):
            return
        parent = request.refresh_token.row if request.refresh_token else None
        code = request.authorization_code.row if request.authorization_code else None
        token["refresh_token"] = self.grants.issue_refresh_token(
            request.client.row, request.user, token["scope"], parent=parent, code=code
        )

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def create_json_request(self, request: JsonRequest) -> JsonRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> ProtocolResponse:
        return ProtocolResponse(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def validate_requested_scope(self, scope: str) -> None:
        if scope and len(scope) > MAX_SCOPE_LENGTH:
            raise InvalidRequestError("The scope is too long.")
        super().validate_requested_scope(scope)

    # -- sign-in requests --------------------------------------------------------------

    def sign_in_requested(self, client_id: str, redirect_uri: str) -> str:
        """A mark for the authorization URL the person is sent to sign in from: when,
        signed for this client and redirect URI, so that nobody can make one up to pass
        prompt=login or max_age without signing in."""
        now = self.now()
        return f"{now}.{self._sign_in_mac(now, client_id, redirect_uri)}"

    def signed_in_since_request(
        self, mark: object, client_id: str, redirect_uri: str
    ) -> int | None:
        """The time a mark made by sign_in_requested names, if it is genuine, for this
        client and redirect URI, and at most SIGN_IN_REQUEST_LIFETIME old."""
        if not isinstance(mark, str) or len(mark) > 100:
            return None
        when, _dot, mac = mark.partition(".")
        if not when.isascii() or not when.isdigit() or len(when) > 12:
            return None
        expected = self._sign_in_mac(int(when), client_id, redirect_uri)
        if not hmac.compare_digest(mac, expected):
            return None
        age = self.now() - int(when)
        return int(when) if 0 <= age <= SIGN_IN_REQUEST_LIFETIME else None

    def _sign_in_mac(self, when: int, client_id: str, redirect_uri: str) -> str:
        message = f"{when}|{client_id}|{redirect_uri}".encode("utf-8", "surrogatepass")
        return hmac.new(self.sign_in_request_key, message, hashlib.sha256).hexdigest()[:32]

    # -- tokens -----------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def signing_key(self) -> Any:
        return self.keys.snapshot().signing[SIGNING_ALGORITHM]

    def user_info(self, subject: Subject, scope: str) -> dict[str, Any]:
        scopes = scope_set(scope)
        info: dict[str, Any] = {"sub": subject.get_user_id()}
        if "email" in scopes:
            info["email"] = subject.account.email
            info["email_verified"] = subject.account.email_verified_at is not None
        if "profile" in scopes and subject.account.display_name:
            # The name its owner gave, as text: an application must escape it as any.
            info["name"] = subject.account.display_name
        return info

    def make_access_token(
        self, client: ClientRecord, grant_type: str, user: Subject, scope: str
    ) -> str:
        """An RFC 9068 access token: a JWT the shop's own APIs verify with the JWKS."""
        now = self.now()
        method = user.method
        claims = {
            "iss": self.issuer,
            "sub": user.get_user_id(),
            "aud": client.get_client_id(),
            "client_id": client.get_client_id(),
            "iat": now,
            "exp": now + int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
            "auth_time": user.auth_time,
            "acr": method.acr,
            "amr": method.amr,
            "sid": user.sid,
        }
        key = self.signing_key()
        header = {"alg": SIGNING_ALGORITHM, "typ": ACCESS_TOKEN_TYPE, "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[SIGNING_ALGORITHM])

    def verify(self, token: object, typ: str | None = None) -> dict[str, Any] | None:
        """The claims of a JWT this provider signed (signature, issuer, and `typ` if
        given; expiry is the caller's to judge), or None. Only the published keys'
        own algorithms are accepted: never `none`, never HMAC (docs/security.md 64)."""
        if not isinstance(token, str) or not token or len(token) > 8000:
            return None
        try:
            decoded = jwt.decode(
                token, self.keys.snapshot().verifying, algorithms=["RS256", "ES256"]
            )
        except (JoseError, ValueError, TypeError):
            return None
        if typ is not None and decoded.header.get("typ") != typ:
            return None
        claims = dict(decoded.claims)
        if claims.get("iss") != self.issuer:
            return None
        return claims

    def read_access_token(self, token: object) -> AccessTokenRecord | None:
        claims = self.verify(token, typ=ACCESS_TOKEN_TYPE)
        if claims is None:
            return None
        exp = claims.get("exp")
        active = isinstance(exp, int) and exp > self.now()
        if active:
            active = self.grants.session_live_by_sid(claims.get("sid")) is not None
        return AccessTokenRecord(claims, active)
