"""The round trip to another provider: the person leaves with a request this browser
keeps sealed (state, nonce, PKCE verifier), and comes back with an answer that is
checked against it before the provider is asked who they are.

The checks that cost nothing come first: the request is this browser's, for this
provider, not too old, the state matches, the provider did not report an error; then
the per-address sign-in limit; only then the code is exchanged and the ID token's
signature checked."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
from cryptography.fernet import Fernet

from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.errors import (
    UpstreamAnswerInvalid,
    UpstreamDenied,
    UpstreamRefused,
    UpstreamRequestUnknown,
)
from app.services.upstream.github import GitHub
from app.services.upstream.journeys import OutgoingRequest, Purpose, UpstreamAnswer, seal, unseal
from app.services.upstream.oidc_issuers import OidcIssuer
from app.settings.limits import SIGNIN_PER_IP
from app.settings.providers import GITHUB, UpstreamProviderSettings


class Upstream(Protocol):
    settings: UpstreamProviderSettings
    can_reauthenticate: bool

    def authorization_url(
        self, outgoing: OutgoingRequest, redirect_uri: str, prompt: str | None = None
    ) -> str: ...

    def answer(self, code: str, outgoing: OutgoingRequest, redirect_uri: str) -> UpstreamAnswer: ...


class UpstreamProviders:
    """The configured providers, kept for the life of the process (with what each has
    learnt of its provider: discovery, keys), and the one HTTP client they share."""

    def __init__(
        self,
        providers: tuple[UpstreamProviderSettings, ...],
        base_url: str,
        cipher: Fernet,
        http: httpx2.Client | None = None,
    ) -> None:
        self.base_url = base_url
        self.cipher = cipher
        self.by_name: dict[str, Upstream] = {}
        if not providers:
            # No HTTP client (nor its TLS context) for a site that offers no provider.
            return
        client = http or httpx2.Client(follow_redirects=False)
        for settings in providers:
            self.by_name[settings.name] = (
                GitHub(settings, client)
                if settings.kind == GITHUB
                else OidcIssuer(settings, client)
            )

    @property
    def labels(self) -> dict[str, str]:
        return {name: upstream.settings.label for name, upstream in self.by_name.items()}

    def redirect_uri(self, name: str) -> str:
        """Where the provider sends the person back, as registered there."""
        return f"{self.base_url}/account/signin/with/{name}/callback"


@dataclass(frozen=True)
class Departure:
    """Where to send the person, and what this browser keeps until they are back."""

    url: str
    sealed_request: str


class UpstreamRoundTrips(ContextService):
    def __init__(self, context: ServiceContext, providers: UpstreamProviders) -> None:
        super().__init__(context)
        self.providers = providers

    def provider(self, name: str) -> Upstream | None:
        return self.providers.by_name.get(name)

    def depart(
        self,
        upstream: Upstream,
        purpose: Purpose,
        came_from: str = "/account",
        account_id: int | None = None,
    ) -> Departure:
        """A new request to the provider (UpstreamUnavailable if its discovery document
        cannot be had). A re-authentication asks the provider to ask again."""
        name = upstream.settings.name
        if purpose is Purpose.REAUTHENTICATE and not upstream.can_reauthenticate:
            raise UpstreamRefused(upstream.settings.label)
        outgoing = OutgoingRequest(
            provider=name,
            purpose=purpose.value,
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            started_at=self.clock.now().timestamp(),
            came_from=came_from,
            account_id=account_id,
        )
        prompt = "login" if purpose is Purpose.REAUTHENTICATE else None
        url = upstream.authorization_url(outgoing, self.providers.redirect_uri(name), prompt)
        return Departure(url=url, sealed_request=seal(self.providers.cipher, outgoing))

    def arrive(
        self, upstream: Upstream, params: Mapping[str, Any], sealed_request: Any
    ) -> tuple[OutgoingRequest, UpstreamAnswer]:
        """The request this browser made, and who the provider says the person is.
        Raises UpstreamRequestUnknown, UpstreamDenied, UpstreamAnswerInvalid,
        UpstreamUnavailable or RateLimited; the request is spent either way (the face
        forgets it)."""
        settings = upstream.settings
        outgoing = unseal(self.providers.cipher, OutgoingRequest, sealed_request, self.clock.now())
        state = params.get("state")
        if (
            outgoing is None
            or outgoing.provider != settings.name
            or not isinstance(state, str)
            or not hmac.compare_digest(state.encode(), outgoing.state.encode())
        ):
            raise UpstreamRequestUnknown(settings.label)
        if params.get("error") is not None:
            raise UpstreamDenied(settings.label)
        # RFC 9207: an issuer that names itself in the answer names itself, not another.
        issuer = params.get("iss")
        code = params.get("code")
        if (issuer is not None and issuer != settings.issuer) or not isinstance(code, str):
            raise UpstreamAnswerInvalid(settings.label)
        if not code or len(code) > 2048:
            raise UpstreamAnswerInvalid(settings.label)
        self.rate_limiter.hit(SIGNIN_PER_IP, self.context.address_key)
        answer = upstream.answer(code, outgoing, self.providers.redirect_uri(settings.name))
        return outgoing, answer

    # What waits in the browser after the answer (a confirmation, a proof)

    def keep(self, answer: UpstreamAnswer) -> str:
        return seal(self.providers.cipher, answer)

    def kept(self, sealed_answer: Any) -> UpstreamAnswer | None:
        return unseal(self.providers.cipher, UpstreamAnswer, sealed_answer, self.clock.now())
