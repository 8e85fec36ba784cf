"""Talking to an OpenID Connect issuer as its client (Google, Microsoft, Apple, GitLab,
Keycloak, another instance of this app): discovery, the authorization request with
state, nonce and PKCE, the code exchange through Authlib's client, and the ID token
checked with joserfc against the issuer's published keys."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.services.kernel.errors import UpstreamAnswerInvalid, UpstreamUnavailable
from app.services.upstream.journeys import OutgoingRequest, Purpose, UpstreamAnswer
from app.settings.providers import UpstreamProviderSettings, is_loopback_url

# Signatures an ID token may carry: asymmetric ones only (never "none", never HMAC
# with the client secret as the key).
SIGNATURE_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# How long a discovery document is used before it is fetched again, and how soon keys
# may be fetched again for a token signed by a key not seen yet (a rotation).
METADATA_LIFETIME = 3600.0
KEYS_REFETCH_AFTER = 60.0
# Seconds of disagreement between clocks tolerated on exp and iat.
LEEWAY = 60
# How long before its answer the issuer's own sign-in may be, for a re-authentication.
REAUTHENTICATION_FRESHNESS = 300
TIMEOUT = httpx2.Timeout(5.0)
SCOPES = "openid email profile"
# What a call to the provider may fail with besides a refusal: the network, an address
# httpx cannot use, an answer that is not the JSON expected.
# (OverflowError: a number too large for a float; RecursionError: JSON nested too deep.)
HTTP_FAILURES = (
    httpx2.HTTPError,
    httpx2.InvalidURL,
    ValueError,
    TypeError,
    AttributeError,
    OverflowError,
    RecursionError,
)


def strings(value: object) -> list[str]:
    """The strings of a list in a discovery document (nothing, if it is no list)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def is_web_address(value: object) -> bool:
    """An https address, or plain http on this machine (as the issuer may be)."""
    if not isinstance(value, str):
        return False
    return value.startswith("https://") or (value.startswith("http://") and is_loopback_url(value))


class OidcIssuer:
    """One configured issuer, kept for the life of the process: its discovery document
    and keys are fetched when first needed and kept (METADATA_LIFETIME)."""

    # It can be asked to sign the person in again, and says when it did (auth_time).
    can_reauthenticate = True

    def __init__(
        self,
        settings: UpstreamProviderSettings,
        http: httpx2.Client,
        now: Callable[[], float] = time.time,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        # How the code exchange reaches the provider (None: the network; tests' fakes).
        self.transport = transport
        self.now = now
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    # Discovery and keys

    def _get_json(self, url: str) -> Any:
        try:
            response = self.http.get(url, timeout=TIMEOUT)
            response.raise_for_status()
            return response.json()
        except HTTP_FAILURES as exc:
            raise UpstreamUnavailable(self.settings.label) from exc

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is not None and self.now() - self._metadata_at < METADATA_LIFETIME:
                return self._metadata
        # The issuer as configured is compared exactly (some end in "/"); the document
        # lies below it.
        base = self.settings.issuer.rstrip("/")
        found = self._get_json(f"{base}/.well-known/openid-configuration")
        # OpenID Connect Discovery 4.3: the document is the issuer's own, or is not used.
        if (
            not isinstance(found, dict)
            or found.get("issuer") != self.settings.issuer
            or not all(
                is_web_address(found.get(name))
                for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            )
        ):
            raise UpstreamUnavailable(self.settings.label)
        with self._lock:
            self._metadata, self._metadata_at = found, self.now()
        return found

    def keys(self, kid: str | None) -> KeySet:
        """The issuer's public keys; fetched again for a key id not seen yet, at most
        once a minute (a token signed with a made-up key id costs no request)."""
        with self._lock:
            keys, fetched_at = self._keys, self._keys_at
        if keys is not None and (
            _has_key(keys, kid) or self.now() - fetched_at < KEYS_REFETCH_AFTER
        ):
            return keys
        found = self._get_json(self.metadata()["jwks_uri"])
        try:
            keys = KeySet.import_key_set(found)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise UpstreamUnavailable(self.settings.label) from exc
        if any(key.is_private for key in keys):
            raise UpstreamUnavailable(self.settings.label)
        with self._lock:
            self._keys, self._keys_at = keys, self.now()
        return keys

    # The round trip

    def _client(self, redirect_uri: str) -> OAuth2Client:
        methods = strings(self.metadata().get("token_endpoint_auth_methods_supported")) or [
            "client_secret_basic"
        ]
        return OAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=SCOPES,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=(
                "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
            ),
            timeout=TIMEOUT,
            transport=self.transport,
        )

    def authorization_url(
        self, outgoing: OutgoingRequest, redirect_uri: str, prompt: str | None = None
    ) -> str:
        metadata = self.metadata()
        extra = {"prompt": prompt, "max_age": "0"} if prompt else {}
        with self._client(redirect_uri) as client:
            url, _state = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=outgoing.state,
                code_verifier=outgoing.code_verifier,
                nonce=outgoing.nonce,
                **extra,
            )
        return str(url)

    def answer(self, code: str, outgoing: OutgoingRequest, redirect_uri: str) -> UpstreamAnswer:
        metadata = self.metadata()
        with self._client(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=outgoing.code_verifier,
                )
            except AuthlibBaseError as exc:
                raise UpstreamAnswerInvalid(self.settings.label) from exc
            except HTTP_FAILURES as exc:
                raise UpstreamUnavailable(self.settings.label) from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise UpstreamAnswerInvalid(self.settings.label)
        claims = self.id_token_claims(id_token, outgoing.nonce)
        if outgoing.purpose == Purpose.REAUTHENTICATE:
            self._check_fresh(claims)
        if "email" not in claims and isinstance(token.get("access_token"), str):
            # The address and whether it is verified come from the same place.
            claims = {**claims, **self.userinfo(str(token["access_token"]), claims["sub"])}
        email = claims.get("email")
        amr = claims.get("amr")
        return UpstreamAnswer(
            provider=self.settings.name,
            subject=claims["sub"],
            email=email if isinstance(email, str) else None,
            email_verified=claims.get("email_verified") is True,
            amr=tuple(m for m in amr if isinstance(m, str)) if isinstance(amr, list) else (),
            started_at=outgoing.started_at,
            came_from=outgoing.came_from,
        )

    def _check_fresh(self, claims: dict[str, Any]) -> None:
        """A re-authentication counts only if the issuer signed the person in just now
        (asked with prompt=login and max_age=0), not from a session it already had."""
        auth_time = claims.get("auth_time")
        if (
            isinstance(auth_time, bool)
            or not isinstance(auth_time, int | float)
            or self.now() - auth_time > REAUTHENTICATION_FRESHNESS + LEEWAY
        ):
            raise UpstreamAnswerInvalid(self.settings.label)

    def id_token_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature (by the issuer's key, with an
        asymmetric algorithm the issuer announces), issuer, audience, times and nonce
        check out; UpstreamAnswerInvalid if anything does not."""
        announced = strings(self.metadata().get("id_token_signing_alg_values_supported")) or [
            "RS256"
        ]
        algorithms = [alg for alg in announced if alg in SIGNATURE_ALGORITHMS]
        try:
            kid = jws.extract_compact(id_token.encode()).headers().get("kid")
            decoded = jwt.decode(id_token, self.keys(kid), algorithms=algorithms)
            claims = dict(decoded.claims)
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY,
                now=lambda: int(self.now()),
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except (JoseError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise UpstreamAnswerInvalid(self.settings.label) from exc
        # Several audiences: the token was issued to us only if we are its authorized party.
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise UpstreamAnswerInvalid(self.settings.label)
        if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
            raise UpstreamAnswerInvalid(self.settings.label)
        if not isinstance(claims["nonce"], str):
            raise UpstreamAnswerInvalid(self.settings.label)
        return claims

    def userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        """The userinfo endpoint's claims, for issuers whose ID token leaves the address
        out; ignored unless they are about the ID token's subject."""
        url = self.metadata().get("userinfo_endpoint")
        if not isinstance(url, str) or not is_web_address(url):
            return {}
        try:
            response = self.http.get(
                url, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
            )
            response.raise_for_status()
            found = response.json()
        except HTTP_FAILURES as exc:
            raise UpstreamUnavailable(self.settings.label) from exc
        if not isinstance(found, dict) or found.get("sub") != subject:
            raise UpstreamAnswerInvalid(self.settings.label)
        return {"email": found.get("email"), "email_verified": found.get("email_verified")}


def _has_key(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys)
