"""The identity provider through the real app: a relying party signs a person in with
the authorization code flow and PKCE, refreshes, reads userinfo, and signs out."""

from __future__ import annotations

from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account
from tests.functional.oidc_flows import (
    Pkce,
    decode,
    exchange,
    refresh,
    register_client,
    sign_in_and_authorize,
)

ALICE = "alice@example.com"


def test_discovery_names_every_endpoint_and_what_the_contract_promises(client):
    """The whole document, to the letter: a client library configures itself from it
    (what it may ask for, which claims it will get, how it authenticates), so a renamed
    key or value misleads every client."""
    response = client.get("/.well-known/openid-configuration")
    assert response.json == {
        "issuer": BASE_URL,
        "authorization_endpoint": BASE_URL + "/oidc/authorize",
        "token_endpoint": BASE_URL + "/oidc/token",
        "userinfo_endpoint": BASE_URL + "/oidc/userinfo",
        "jwks_uri": BASE_URL + "/oidc/jwks",
        "revocation_endpoint": BASE_URL + "/oidc/revoke",
        "introspection_endpoint": BASE_URL + "/oidc/introspect",
        "end_session_endpoint": BASE_URL + "/oidc/logout",
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        # A public client has no secret to introspect with.
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
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_jwks_publishes_public_keys_only(client):
    response = client.get("/oidc/jwks")
    assert "max-age=" in response.headers["Cache-Control"]
    keys = response.json["keys"]
    assert {key["alg"] for key in keys} == {"RS256", "ES256"}
    for key in keys:
        assert key["kid"] and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_a_confidential_client_signs_a_person_in_and_refreshes(wsgi_app, client):
    account_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    pkce = Pkce.new()
    back = sign_in_and_authorize(client, shop, ALICE, STRONG_PASSWORD, pkce, state="xyz")
    assert back["state"] == "xyz"
    assert back["iss"] == BASE_URL
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, back["code"], pkce.verifier).json
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] <= 900
    id_token = decode(rp, tokens["id_token"])
    assert id_token["aud"] == [shop.client_id]
    assert id_token["email"] == ALICE and id_token["email_verified"] is True
    assert id_token["acr"] == "pwd" and id_token["amr"] == ["pwd"]
    assert len(id_token["sub"]) >= 16 and id_token["sub"] != str(account_id)
    assert id_token["sid"] and id_token["auth_time"] <= id_token["iat"]
    assert id_token["at_hash"]
    access = decode(rp, tokens["access_token"])
    assert access["_header"]["typ"] == "at+jwt"
    assert access["sub"] == id_token["sub"] and access["client_id"] == shop.client_id
    assert access["exp"] - access["iat"] <= 900

    info = rp.get(
        "/oidc/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}
    ).json
    assert info == {"sub": id_token["sub"], "email": ALICE, "email_verified": True}

    renewed = refresh(rp, shop, tokens["refresh_token"]).json
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert decode(rp, renewed["access_token"])["sub"] == id_token["sub"]


def test_a_sign_out_request_with_a_file_where_text_belongs_is_refused_not_a_500(client):
    """RP-initiated logout reads its parameters as text: a multipart POST that uploads
    id_token_hint (or any parameter) as a file gets the 400 page."""
    for name in ("id_token_hint", "client_id", "post_logout_redirect_uri", "state"):
        refused = client.post(
            "/oidc/logout", upload_files=[(name, "hint.txt", b"eyJhbGciOi")], status=400
        )
        assert "sign-out request is not valid" in refused.text
