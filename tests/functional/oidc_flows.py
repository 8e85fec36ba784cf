"""A relying party's steps against the provider, through the real app, for the
functional tests: register a client, send the person to authorize, take the code to
the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import webtest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import BASE_URL
from tests.functional.flows import services
from tests.support import form_by_action

REDIRECT_URI = "https://shop.example.test/callback"
BACKCHANNEL_URI = "https://shop.example.test/backchannel-logout"
POST_LOGOUT_URI = "https://shop.example.test/signed-out"


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    secret: str | None
    redirect_uri: str = REDIRECT_URI

    def basic_auth(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register_client(
    wsgi_app: Any,
    *,
    public: bool = False,
    first_party: bool = True,
    backchannel: str | None = BACKCHANNEL_URI,
    name: str = "The shop",
) -> RegisteredClient:
    with wsgi_app.registry["dbsession_factory"]() as session, session.begin():
        made = services(wsgi_app, session).oidc_clients.register(
            name,
            [REDIRECT_URI],
            public=public,
            first_party=first_party,
            backchannel_logout_uri=backchannel,
            post_logout_redirect_uris=[POST_LOGOUT_URI],
        )
        return RegisteredClient(made.client.client_id, made.secret)


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        return cls(verifier, challenge.rstrip(b"=").decode())


def authorize_url(client: RegisteredClient, pkce: Pkce, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": "openid email offline_access",
        "state": "state-" + secrets.token_hex(4),
        "nonce": "nonce-" + secrets.token_hex(4),
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    return "/oidc/authorize?" + urlencode(params)


def callback_params(response: webtest.TestResponse) -> dict[str, str]:
    """The parameters of the redirect back to the client."""
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(
    browser: webtest.TestApp,
    client: RegisteredClient,
    code: str,
    verifier: str,
    status: int = 200,
    **extra: str,
) -> Any:
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
    }
    body.update(extra)
    headers = client.basic_auth() if client.secret else {}
    if not client.secret:
        body["client_id"] = client.client_id
    return browser.post("/oidc/token", body, headers=headers, status=status)


def refresh(
    browser: webtest.TestApp, client: RegisteredClient, token: str, status: int = 200
) -> Any:
    body = {"grant_type": "refresh_token", "refresh_token": token}
    headers = client.basic_auth() if client.secret else {}
    if not client.secret:
        body["client_id"] = client.client_id
    return browser.post("/oidc/token", body, headers=headers, status=status)


def jwks(browser: webtest.TestApp) -> KeySet:
    return KeySet.import_key_set(browser.get("/oidc/jwks").json)


def decode(browser: webtest.TestApp, token: str) -> dict[str, Any]:
    """A token's claims, its signature checked against the published keys."""
    decoded = jwt.decode(token, jwks(browser), algorithms=["RS256", "ES256"])
    assert decoded.claims["iss"] == BASE_URL
    return dict(decoded.claims) | {"_header": dict(decoded.header)}


def sign_in_and_authorize(
    browser: webtest.TestApp,
    client: RegisteredClient,
    email: str,
    password: str,
    pkce: Pkce,
    **extra: str,
) -> dict[str, str]:
    """The person follows the client's link, signs in when asked, and comes back with
    a code: the callback's parameters."""
    response = browser.get(authorize_url(client, pkce, **extra))
    if response.status_int == 303 and "/account/signin" in response.headers["Location"]:
        page = browser.get(response.headers["Location"])
        form = form_by_action(page, "/account/signin")
        form["email"] = email
        form["password"] = password
        response = form.submit(status=303)
        response = browser.get(response.headers["Location"])
    assert response.status_int == 302, response
    return callback_params(response)
