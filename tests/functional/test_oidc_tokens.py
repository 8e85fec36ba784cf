"""The token, revocation, introspection and end-session endpoints: single-use codes bound
to their client, redirect URI and PKCE verifier; rotating refresh tokens whose reuse
revokes the family; and bad input answered with the protocol's errors, never a 500
(docs/security.md 61, 63, 67)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest

from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, is_signed_in, sign_in
from tests.functional.oidc_flows import (
    POST_LOGOUT_URI,
    Pkce,
    authorize_url,
    callback_params,
    decode,
    exchange,
    refresh,
    register_client,
    sign_in_and_authorize,
)

ALICE = "alice@example.com"


@pytest.fixture
def alice(wsgi_app):
    return create_account(wsgi_app, ALICE, STRONG_PASSWORD)


def code_for(wsgi_app, client, shop, pkce=None, **extra):
    pkce = pkce or Pkce.new()
    back = sign_in_and_authorize(client, shop, ALICE, STRONG_PASSWORD, pkce, **extra)
    return back["code"], pkce


def test_a_code_works_once_and_its_replay_revokes_what_it_gave(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, code, pkce.verifier).json
    again = exchange(rp, shop, code, pkce.verifier, status=400).json
    assert again["error"] == "invalid_grant"
    assert refresh(rp, shop, tokens["refresh_token"], status=400).json["error"] == "invalid_grant"


def test_a_code_lives_sixty_seconds(wsgi_app, client, alice, clock):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    clock.advance(seconds=61)
    assert exchange(new_client(wsgi_app), shop, code, pkce.verifier, status=400).json == {
        "error": "invalid_grant",
        "error_description": "Invalid 'code' in request.",
    }


@pytest.mark.parametrize(
    ("verifier", "error"),
    [("wrong" * 10, "invalid_grant"), ("", "invalid_request"), ("short", "invalid_request")],
)
def test_a_code_needs_its_own_pkce_verifier(wsgi_app, client, alice, verifier, error):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    assert exchange(rp, shop, code, verifier, status=400).json["error"] == error
    # Whoever holds a stolen code without its verifier cannot use it up.
    exchange(rp, shop, code, pkce.verifier, status=200)


def test_a_code_is_bound_to_its_redirect_uri(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    answer = exchange(
        new_client(wsgi_app),
        shop,
        code,
        pkce.verifier,
        status=400,
        redirect_uri="https://shop.example.test/other",
    ).json
    assert answer["error"] == "invalid_grant"
    exchange(new_client(wsgi_app), shop, code, pkce.verifier, status=200)


def test_another_clients_code_is_refused_and_stays_its_owners(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    forum = register_client(wsgi_app, name="The forum")
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    assert exchange(rp, forum, code, pkce.verifier, status=400).json["error"] == "invalid_grant"
    exchange(rp, shop, code, pkce.verifier, status=200)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic bm90OmNvcnJlY3Q="},
        {"Authorization": "Basic %%%"},
        {"Authorization": "Bearer nothing"},
    ],
)
def test_a_confidential_client_must_prove_its_secret(wsgi_app, client, alice, headers):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": shop.redirect_uri,
        "code_verifier": pkce.verifier,
        "client_id": shop.client_id,
    }
    answer = new_client(wsgi_app).post("/oidc/token", body, headers=headers, status=(400, 401))
    assert answer.json["error"] == "invalid_client"


@pytest.mark.parametrize(
    "header",
    [
        "Basic \xa0",
        "Basic %%%",
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + base64.b64encode(b"no-colon").decode(),
        # Base64 with a character outside its alphabet, not skipped over.
        "Basic c2hv*cDpzZWNyZXQ=",
    ],
)
@pytest.mark.parametrize("path", ["/oidc/token", "/oidc/revoke", "/oidc/introspect"])
def test_malformed_basic_credentials_get_invalid_client(wsgi_app, header, path):
    answer = new_client(wsgi_app).post(
        path,
        {"grant_type": "refresh_token", "token": "x"},
        headers={"Authorization": header},
        status=401,
    )
    assert answer.json == {
        "error": "invalid_client",
        "error_description": "Malformed credentials.",
    }


def test_a_public_client_uses_pkce_alone(wsgi_app, client, alice):
    app = register_client(wsgi_app, public=True, name="The phone app")
    assert app.secret is None
    code, pkce = code_for(wsgi_app, client, app)
    tokens = exchange(new_client(wsgi_app), app, code, pkce.verifier).json
    assert tokens["id_token"] and tokens["refresh_token"]


def test_without_offline_access_there_is_no_refresh_token(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop, scope="openid email")
    tokens = exchange(new_client(wsgi_app), shop, code, pkce.verifier).json
    assert "refresh_token" not in tokens and tokens["scope"] == "email openid"


def test_a_reused_refresh_token_revokes_its_whole_family(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    first = exchange(rp, shop, code, pkce.verifier).json["refresh_token"]
    second = refresh(rp, shop, first).json["refresh_token"]
    assert refresh(rp, shop, first, status=400).json["error"] == "invalid_grant"
    # The copy in other hands was used: the rightful holder's newer token ends too.
    assert refresh(rp, shop, second, status=400).json["error"] == "invalid_grant"


def test_another_clients_refresh_token_is_refused_and_not_spent(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    forum = register_client(wsgi_app, name="The forum")
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    token = exchange(rp, shop, code, pkce.verifier).json["refresh_token"]
    assert refresh(rp, forum, token, status=400).json["error"] == "invalid_grant"
    refresh(rp, shop, token, status=200)


def test_revoking_a_refresh_token_ends_its_family(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, code, pkce.verifier).json
    rp.post("/oidc/revoke", {"token": tokens["refresh_token"]}, headers=shop.basic_auth())
    refresh(rp, shop, tokens["refresh_token"], status=400)
    # Unknown tokens and access tokens answer 200 too (RFC 7009 2.2).
    rp.post("/oidc/revoke", {"token": "made-up"}, headers=shop.basic_auth(), status=200)
    rp.post("/oidc/revoke", {"token": tokens["access_token"]}, headers=shop.basic_auth())


def test_introspection_tells_a_client_about_its_own_live_tokens_only(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    forum = register_client(wsgi_app, name="The forum")
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, code, pkce.verifier).json

    def introspect(who, token):
        return rp.post("/oidc/introspect", {"token": token}, headers=who.basic_auth()).json

    access = introspect(shop, tokens["access_token"])
    assert access["active"] is True and access["client_id"] == shop.client_id
    assert introspect(shop, tokens["refresh_token"])["active"] is True
    assert introspect(forum, tokens["access_token"]) == {"active": False}
    assert introspect(shop, "not-a-token") == {"active": False}
    # Signing out ends the session, and so every token issued from it.
    client.post("/account/logout", {"csrf_token": csrf(client)}, status=303)
    assert introspect(shop, tokens["access_token"]) == {"active": False}
    assert introspect(shop, tokens["refresh_token"]) == {"active": False}


def test_introspection_describes_each_token_and_keeps_its_other_claims_to_itself(
    wsgi_app, client, alice, clock
):
    """RFC 7662 2.2: the access token's own claims, less its id, session and methods;
    the refresh token's scope, subject and lifetime. An application's refresh token
    outlives the browser's idle session, and introspection says whose it still is."""
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    issued = int(clock.now().timestamp())
    tokens = exchange(rp, shop, code, pkce.verifier).json
    claims = decode(rp, tokens["access_token"])

    def introspect(token):
        return rp.post("/oidc/introspect", {"token": token}, headers=shop.basic_auth()).json

    assert introspect(tokens["access_token"]) == {
        "active": True,
        "token_type": "Bearer",
        "scope": "email offline_access openid",
        "client_id": shop.client_id,
        "sub": claims["sub"],
        "exp": issued + 15 * 60,
        "iat": issued,
        "iss": BASE_URL,
        "aud": shop.client_id,
        "acr": claims["acr"],
        "auth_time": claims["auth_time"],
    }
    assert claims["acr"] and claims["auth_time"]
    refresh_token = {
        "active": True,
        "token_type": "refresh_token",
        "scope": "email offline_access openid",
        "client_id": shop.client_id,
        "sub": claims["sub"],
        "exp": issued + 30 * 24 * 3600,
        "iat": issued,
        "iss": BASE_URL,
    }
    assert introspect(tokens["refresh_token"]) == refresh_token
    clock.advance(hours=25)
    assert client.get("/account").status_int == 303  # the browser's session idled out
    assert introspect(tokens["refresh_token"]) == refresh_token


def test_a_public_client_cannot_introspect(wsgi_app):
    app = register_client(wsgi_app, public=True)
    answer = new_client(wsgi_app).post(
        "/oidc/introspect", {"token": "x", "client_id": app.client_id}, status=(400, 401)
    )
    assert answer.json["error"] == "invalid_client"


@pytest.mark.parametrize(
    "body",
    [
        {"grant_type": "password", "username": ALICE, "password": STRONG_PASSWORD},
        {"grant_type": "client_credentials"},
        {"grant_type": "authorization_code"},
        {"grant_type": "authorization_code", "code": "x" * 5000},
        {"grant_type": "refresh_token"},
        {"grant_type": "refresh_token", "refresh_token": "\x00"},
        {},
    ],
)
def test_bad_token_requests_get_the_protocols_error(wsgi_app, body):
    shop = register_client(wsgi_app)
    answer = new_client(wsgi_app).post(
        "/oidc/token", body, headers=shop.basic_auth(), status=(400, 401)
    )
    assert answer.json["error"] in {
        "unsupported_grant_type",
        "invalid_request",
        "invalid_grant",
        "unauthorized_client",
    }
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_body_that_is_not_utf8_is_refused_cleanly(wsgi_app):
    shop = register_client(wsgi_app)
    answer = new_client(wsgi_app).post(
        "/oidc/token",
        b"grant_type=refresh_token&refresh_token=%FF%FE",
        headers=shop.basic_auth(),
        content_type="application/x-www-form-urlencoded",
        status="4*",
    )
    assert answer.status_int < 500


def test_a_json_body_at_the_token_endpoint_is_refused_cleanly(wsgi_app):
    shop = register_client(wsgi_app)
    answer = new_client(wsgi_app).post_json(
        "/oidc/token", {"grant_type": "refresh_token"}, headers=shop.basic_auth(), status="4*"
    )
    assert answer.status_int < 500


def test_the_token_endpoint_takes_only_post(wsgi_app):
    new_client(wsgi_app).get("/oidc/token", status=405)


def csrf(client) -> str:
    return client.get("/account").html.find("input", {"name": "csrf_token"})["value"]


def test_rp_initiated_logout_with_the_sessions_hint_signs_out_and_goes_back(
    wsgi_app, client, alice
):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    tokens = exchange(new_client(wsgi_app), shop, code, pkce.verifier).json
    response = client.get(
        "/oidc/logout",
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": POST_LOGOUT_URI,
            "state": "bye",
        },
        status=302,
    )
    assert response.headers["Location"] == POST_LOGOUT_URI + "?state=bye"
    assert not is_signed_in(client)
    refresh(new_client(wsgi_app), shop, tokens["refresh_token"], status=400)


@pytest.mark.parametrize(
    "params",
    [
        {"post_logout_redirect_uri": "https://evil.example.test/"},
        {"id_token_hint": "not.a.jwt"},
        {"id_token_hint": "e30.e30."},
        {"client_id": "unknown", "post_logout_redirect_uri": POST_LOGOUT_URI},
    ],
)
def test_a_bad_sign_out_request_gets_a_page_and_keeps_the_session(wsgi_app, client, alice, params):
    sign_in(client, ALICE, STRONG_PASSWORD)
    register_client(wsgi_app)
    response = client.get("/oidc/logout", params, status=400)
    assert "Location" not in response.headers
    assert is_signed_in(client)


def test_a_sign_out_request_without_a_hint_asks_first(wsgi_app, client, alice):
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    page = client.get(
        "/oidc/logout",
        {"client_id": shop.client_id, "post_logout_redirect_uri": POST_LOGOUT_URI},
        status=200,
    )
    assert is_signed_in(client)
    form = next(f for f in page.forms.values() if f.action == "/oidc/logout")
    assert form.submit(status=302).headers["Location"] == POST_LOGOUT_URI
    assert not is_signed_in(client)


def test_an_authorization_after_sign_out_needs_a_new_sign_in(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    code_for(wsgi_app, client, shop)
    client.post("/account/logout", {"csrf_token": csrf(client)}, status=303)
    response = client.get(authorize_url(shop, Pkce.new(), prompt="none"), status=302)
    assert callback_params(response)["error"] == "login_required"


def forged(claims: dict, alg: str, key: bytes = b"") -> str:
    """A JWT with the given algorithm: `none` (no signature), or HMAC keyed with `key`
    (the classic confusion: the provider's public key used as an HMAC secret)."""

    def part(value: dict) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part({'alg': alg, 'typ': 'at+jwt'})}.{part(claims)}"
    if alg == "none":
        return signing_input + "."
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_none_and_hmac_tokens_are_never_accepted(wsgi_app, client, alice, alg):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, code, pkce.verifier).json
    claims = decode(rp, tokens["access_token"])
    claims.pop("_header")
    public = json.dumps(rp.get("/oidc/jwks").json["keys"][0]).encode()
    token = forged(claims, alg, public)
    rp.get("/oidc/userinfo", headers={"Authorization": f"Bearer {token}"}, status=401)
    assert rp.post("/oidc/introspect", {"token": token}, headers=shop.basic_auth()).json == {
        "active": False
    }
    client.get("/oidc/logout", {"id_token_hint": token}, status=400)
    assert is_signed_in(client)


def test_the_token_endpoint_is_rate_limited_per_client_and_per_address(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "ratelimit.oidc_token_per_client": "3/minute"})
    shop = register_client(wsgi_app)
    rp = new_client(wsgi_app)
    body = {"grant_type": "refresh_token", "refresh_token": "made-up"}
    for _ in range(3):
        rp.post("/oidc/token", body, headers=shop.basic_auth(), status=400)
    limited = rp.post("/oidc/token", body, headers=shop.basic_auth(), status=429)
    assert limited.json["error"] == "slow_down" and int(limited.headers["Retry-After"]) > 0
    # Someone who only names a client cannot use up its allowance.
    victim = register_client(wsgi_app, name="The victim")
    attacker = new_client(wsgi_app, ip="203.0.113.9")
    for _ in range(5):
        attacker.post("/oidc/token", {**body, "client_id": victim.client_id}, status=(400, 401))
    rp.post("/oidc/token", body, headers=victim.basic_auth(), status=400)
    # Another client from the same address is not held back by this client's limit.
    forum = register_client(wsgi_app, name="The forum")
    rp.post("/oidc/token", body, headers=forum.basic_auth(), status=400)

    per_address = make_app({**app_settings, "ratelimit.oidc_token_per_ip": "2/minute"})
    shop = register_client(per_address)
    forum = register_client(per_address, name="The forum")
    rp = new_client(per_address)
    rp.post("/oidc/token", body, headers=shop.basic_auth(), status=400)
    rp.post("/oidc/token", body, headers=forum.basic_auth(), status=400)
    rp.post("/oidc/token", body, headers=forum.basic_auth(), status=429)


def test_a_client_over_its_limit_is_refused_however_it_names_itself(make_app, app_settings):
    """The limit is checked before any lookup by the client a call names: a public
    client by the form's client_id, a confidential one by its Basic credentials, even
    with a colon in what follows its id."""
    wsgi_app = make_app({**app_settings, "ratelimit.oidc_token_per_client": "2/minute"})
    phone = register_client(wsgi_app, public=True, name="The phone app")
    rp = new_client(wsgi_app)
    body = {"grant_type": "refresh_token", "refresh_token": "made-up", "client_id": phone.client_id}
    for _ in range(2):
        rp.post("/oidc/token", body, status=400)
    assert rp.post("/oidc/token", body, status=429).json["error"] == "slow_down"

    shop = register_client(wsgi_app)
    refresh = {"grant_type": "refresh_token", "refresh_token": "made-up"}
    for _ in range(2):
        rp.post("/oidc/token", refresh, headers=shop.basic_auth(), status=400)
    colon = base64.b64encode(f"{shop.client_id}:wrong:secret".encode()).decode()
    limited = rp.post(
        "/oidc/token", refresh, headers={"Authorization": f"Basic {colon}"}, status=429
    )
    assert limited.json["error"] == "slow_down"


def test_a_sign_out_posted_by_an_application_asks_first(wsgi_app, client, alice):
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    page = client.post(
        "/oidc/logout",
        {"client_id": shop.client_id, "post_logout_redirect_uri": POST_LOGOUT_URI},
        status=200,
    )
    assert page.html.find(id="sign-out-confirm") is not None
    assert is_signed_in(client)


def test_an_access_token_is_no_id_token_hint(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    tokens = exchange(new_client(wsgi_app), shop, code, pkce.verifier).json
    client.get("/oidc/logout", {"id_token_hint": tokens["access_token"]}, status=400)
    assert is_signed_in(client)


def test_an_id_token_is_no_access_token(wsgi_app, client, alice):
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, code, pkce.verifier).json
    bearer = {"Authorization": "Bearer " + tokens["id_token"]}
    assert rp.get("/oidc/userinfo", headers=bearer, status=401).json["error"] == "invalid_token"
    rp.get("/oidc/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})


def test_an_access_token_is_taken_until_the_second_its_fifteen_minutes_end(
    wsgi_app, client, alice, clock
):
    """RFC 7519 4.1.4: not on or after its `exp`, however live its session still is."""
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, code, pkce.verifier).json
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    clock.advance(minutes=15, seconds=-1)
    rp.get("/oidc/userinfo", headers=bearer, status=200)
    clock.advance(seconds=1)
    assert rp.get("/oidc/userinfo", headers=bearer, status=401).json["error"] == "invalid_token"
    # Its refresh token still gets a new one: the session lives on.
    renewed = refresh(rp, shop, tokens["refresh_token"]).json["access_token"]
    rp.get("/oidc/userinfo", headers={"Authorization": "Bearer " + renewed}, status=200)


def test_an_access_token_carries_the_claims_of_rfc_9068(wsgi_app, client, alice, clock):
    """What the shop's APIs read from it: who, for which application, how and when the
    person signed in, and a unique 128-bit jti to tell a replay by."""
    signed_in_at = int(clock.now().timestamp())
    shop = register_client(wsgi_app)
    code, pkce = code_for(wsgi_app, client, shop)
    clock.advance(seconds=5)
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, code, pkce.verifier).json
    id_token = decode(rp, tokens["id_token"])

    claims = decode(rp, tokens["access_token"])
    header = claims.pop("_header")
    jti = claims.pop("jti")
    now = int(clock.now().timestamp())
    assert header == {"alg": "RS256", "typ": "at+jwt", "kid": id_token["_header"]["kid"]}
    assert claims == {
        "iss": BASE_URL,
        "sub": id_token["sub"],
        "aud": shop.client_id,
        "client_id": shop.client_id,
        "iat": now,
        "exp": now + 900,
        "scope": "email offline_access openid",
        "auth_time": signed_in_at,
        "acr": "pwd",
        "amr": ["pwd"],
        "sid": id_token["sid"],
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", jti)
