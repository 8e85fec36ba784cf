"""The provider as a certified relying party sees it: panva's openid-client (an OpenID
Certified library, tests/oidc_rp) discovers the provider, signs a person in with the
authorization code flow and PKCE, validates the ID token, reads userinfo and refreshes,
against the app served by pserve at http://localhost. The test plays the browser in
between, and checks the discovery document and the tokens against the rules of OpenID
Connect Core and Discovery that a certified provider follows."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import STRONG_PASSWORD
from tests.functional.flows import create_account
from tests.functional.oidc_flows import register_client
from tests.support import UNLIMITED_RATES, free_port
from tests.support.processes import serve, stop, wait_for_http, write_config

RP_DIR = Path(__file__).resolve().parents[1] / "oidc_rp"
RP_SCRIPT = RP_DIR / "rp.mjs"
ALICE = "alice@example.com"
MAX_AGE = 600
# Discovery 1.0 section 3: what every provider's metadata holds.
REQUIRED_METADATA = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
)
# Core 1.0 section 2: the claims of every ID token.
REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat")


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        _missing("node not found (Debian package nodejs); the certified-client test needs it")
    if not (RP_DIR / "node_modules" / "openid-client" / "package.json").exists():
        _missing("openid-client is not installed: npm ci --prefix tests/oidc_rp")
    return executable


@dataclass
class Provider:
    issuer: str
    client_id: str
    secret: str
    redirect_uri: str


@pytest.fixture
def provider(node, make_app, app_settings, tmp_path) -> Iterator[Provider]:
    port = free_port()
    settings = {
        **app_settings,
        **UNLIMITED_RATES,
        "app.base_url": f"http://localhost:{port}",
    }
    setup = make_app(settings, use_fake_clock=False)
    create_account(setup, ALICE, STRONG_PASSWORD)
    client = register_client(setup, backchannel=None, name="A certified relying party")
    assert client.secret is not None
    server = serve(write_config(tmp_path, settings), port, threads=4)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        yield Provider(
            settings["app.base_url"], client.client_id, client.secret, client.redirect_uri
        )
    finally:
        stop(server)
        # Shown by pytest when the test fails: the server's warnings and tracebacks.
        print(server.stdout.read() if server.stdout else "")


def run_rp(node: str, provider: Provider, phase: str, *arguments: str) -> dict[str, Any]:
    command = [
        node,
        str(RP_SCRIPT),
        phase,
        provider.issuer,
        provider.client_id,
        provider.secret,
        provider.redirect_uri,
        str(MAX_AGE),
        *arguments,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=RP_DIR)
    assert done.returncode == 0, f"openid-client refused ({phase}): {done.stderr}"
    return json.loads(done.stdout)


def sign_in_until_redirected_back(provider: Provider, url: str) -> str:
    """The browser: opens the authorization URL, signs in on the form it is sent to,
    and follows the provider's redirects until the one to the client, which it returns
    without following."""
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        response = browser.get(url)
        assert response.status_code == 303, response.text
        for _ in range(10):
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(provider.redirect_uri):
                assert response.status_code == 302
                return location
            response = browser.get(location)
            if response.status_code == 200:
                response = _submit_sign_in(browser, response)
            assert response.is_redirect, (response.status_code, response.text)
    raise AssertionError("the provider never sent the browser back to the client")


def _submit_sign_in(browser: httpx.Client, page: httpx.Response) -> httpx.Response:
    form = BeautifulSoup(page.text, "html.parser").find("form", attrs={"action": "/account/signin"})
    assert form is not None, f"no sign-in form at {page.url}"
    fields = {
        field["name"]: field.get("value", "")
        for field in form.find_all("input")
        if field.get("name") and field.get("type") != "submit"
    }
    fields.update(email=ALICE, password=STRONG_PASSWORD)
    return browser.post(urljoin(str(page.url), "/account/signin"), data=fields)


def b64url_left_half_sha256(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def verified(token: str, keys: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A token's header and claims, its signature checked against the published keys."""
    decoded = jwt.decode(token, KeySet.import_key_set(keys), algorithms=["RS256", "ES256"])
    return dict(decoded.header), dict(decoded.claims)


def check_id_token(
    token: str, keys: dict[str, Any], issuer: str, client_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    header, claims = verified(token, keys)
    assert header["alg"] == "RS256"
    published = {key["kid"]: key for key in keys["keys"]}
    assert header.get("kid") in published, (header, sorted(published))
    assert published[header["kid"]]["alg"] == header["alg"]
    missing = [name for name in REQUIRED_CLAIMS if name not in claims]
    assert missing == []
    assert claims["iss"] == issuer
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert client_id in audience
    if len(audience) > 1:
        assert claims["azp"] == client_id
    sub = claims["sub"]
    assert isinstance(sub, str) and 0 < len(sub) <= 255 and sub.isascii()
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
    assert claims["exp"] > claims["iat"]
    now = time.time()
    assert claims["iat"] <= now + 5 and claims["exp"] > now
    return header, claims


def test_openid_client_accepts_every_answer_of_the_provider(node, provider):
    started = run_rp(node, provider, "start")
    authorization = urlsplit(started["url"])
    assert started["url"].startswith(provider.issuer + "/oidc/authorize?")
    assert parse_qs(authorization.query)["code_challenge_method"] == ["S256"]

    callback = sign_in_until_redirected_back(provider, started["url"])
    back = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert back["state"] == started["state"] and back["iss"] == provider.issuer

    got = run_rp(
        node,
        provider,
        "finish",
        callback,
        started["verifier"],
        started["state"],
        started["nonce"],
    )
    tokens, refreshed = got["tokens"], got["refreshed"]
    assert got["supports_pkce"] is True
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["refresh_token"] and tokens["id_token"]
    claims = tokens["claims"]
    assert claims["nonce"] == started["nonce"]
    assert claims["email"] == ALICE
    assert got["userinfo"]["sub"] == claims["sub"]
    assert got["userinfo"]["email"] == ALICE
    assert refreshed["access_token"] and refreshed["access_token"] != tokens["access_token"]
    if refreshed["claims"] is not None:
        assert refreshed["claims"]["sub"] == claims["sub"]

    # The same answers, against OpenID Connect Core and Discovery.
    with httpx.Client(base_url=provider.issuer, timeout=30) as http:
        discovery = http.get("/.well-known/openid-configuration").json()
        keys = http.get("/oidc/jwks").json()
    assert [name for name in REQUIRED_METADATA if name not in discovery] == []
    assert discovery["issuer"] == provider.issuer
    assert got["server_metadata"]["issuer"] == discovery["issuer"]
    assert "code" in discovery["response_types_supported"]
    assert {"public", "pairwise"} & set(discovery["subject_types_supported"])
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert discovery["jwks_uri"] == provider.issuer + "/oidc/jwks"

    _, id_claims = check_id_token(tokens["id_token"], keys, discovery["issuer"], provider.client_id)
    assert id_claims["nonce"] == started["nonce"]
    assert isinstance(id_claims["auth_time"], int)
    assert id_claims["auth_time"] <= id_claims["iat"]
    assert time.time() - id_claims["auth_time"] <= MAX_AGE
    assert id_claims["at_hash"] == b64url_left_half_sha256(tokens["access_token"])

    access_header, access_claims = verified(tokens["access_token"], keys)
    assert access_header.get("kid") in {key["kid"] for key in keys["keys"]}
    assert access_claims["iss"] == discovery["issuer"]
    assert access_claims["sub"] == id_claims["sub"]

    _, renewed = verified(refreshed["access_token"], keys)
    assert (renewed["iss"], renewed["sub"]) == (discovery["issuer"], id_claims["sub"])

    if refreshed["id_token"] is not None:
        # Core 12.2: the refreshed ID token is about the same person, for the same
        # client, from the same issuer, and keeps the time of the original sign-in.
        _, again = check_id_token(
            refreshed["id_token"], keys, discovery["issuer"], provider.client_id
        )
        assert (again["iss"], again["sub"], again["aud"]) == (
            id_claims["iss"],
            id_claims["sub"],
            id_claims["aud"],
        )
        assert again["auth_time"] == id_claims["auth_time"]
        if "at_hash" in again:
            assert again["at_hash"] == b64url_left_half_sha256(refreshed["access_token"])
