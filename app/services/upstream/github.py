"""Talking to GitHub (or GitHub Enterprise) as an OAuth app: it is no OpenID Connect
issuer, so the person is whoever its API says the token belongs to (`/user`), and
the address is the primary one of `/user/emails`, which carries a verified flag."""

from __future__ import annotations

from typing import Any

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import OAuth2Client

from app.services.kernel.errors import UpstreamAnswerInvalid, UpstreamUnavailable
from app.services.upstream.journeys import OutgoingRequest, UpstreamAnswer
from app.services.upstream.oidc_issuers import HTTP_FAILURES
from app.settings.providers import UpstreamProviderSettings

TIMEOUT = httpx2.Timeout(5.0)
SCOPES = "read:user user:email"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHub:
    # GitHub cannot be asked to sign the person in again, nor says when it last did:
    # it never re-authenticates anyone here.
    can_reauthenticate = False

    def __init__(
        self,
        settings: UpstreamProviderSettings,
        http: httpx2.Client,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        # How the code exchange reaches GitHub (None: the network; tests' fakes).
        self.transport = transport

    def _client(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=SCOPES,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method's name)
            timeout=TIMEOUT,
            transport=self.transport,
        )

    def authorization_url(
        self, outgoing: OutgoingRequest, redirect_uri: str, prompt: str | None = None
    ) -> str:
        # GitHub has no way to ask for the password again: `prompt` is not passed on.
        with self._client(redirect_uri) as client:
            url, _state = client.create_authorization_url(
                f"{self.settings.issuer.rstrip('/')}/login/oauth/authorize",
                state=outgoing.state,
                code_verifier=outgoing.code_verifier,
                allow_signup="false",
            )
        return str(url)

    def answer(self, code: str, outgoing: OutgoingRequest, redirect_uri: str) -> UpstreamAnswer:
        label = self.settings.label
        with self._client(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    f"{self.settings.issuer.rstrip('/')}/login/oauth/access_token",
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=outgoing.code_verifier,
                    headers={"Accept": "application/json"},
                )
            except AuthlibBaseError as exc:
                raise UpstreamAnswerInvalid(label) from exc
            except HTTP_FAILURES as exc:
                raise UpstreamUnavailable(label) from exc
        access_token = token.get("access_token")
        if not isinstance(access_token, str):
            raise UpstreamAnswerInvalid(label)
        user = self._api(access_token, "/user")
        emails = self._api(access_token, "/user/emails")
        subject = user.get("id") if isinstance(user, dict) else None
        if (
            isinstance(subject, bool)
            or not isinstance(subject, int | str)
            or not 0 < len(str(subject)) <= 255
        ):
            raise UpstreamAnswerInvalid(label)
        primary = next(
            (
                entry
                for entry in (emails if isinstance(emails, list) else [])
                if isinstance(entry, dict) and entry.get("primary") is True
            ),
            {},
        )
        email = primary.get("email")
        return UpstreamAnswer(
            provider=self.settings.name,
            subject=str(subject),
            email=email if isinstance(email, str) else None,
            email_verified=primary.get("verified") is True,
            started_at=outgoing.started_at,
            came_from=outgoing.came_from,
        )

    def _api(self, access_token: str, path: str) -> Any:
        try:
            response = self.http.get(
                self.settings.api_url + path,
                headers={**API_HEADERS, "Authorization": f"Bearer {access_token}"},
                timeout=TIMEOUT,
            )
            response.raise_for_status()
            return response.json()
        except HTTP_FAILURES as exc:
            raise UpstreamUnavailable(self.settings.label) from exc
