"""An issuer's ID token is believed only when its signature (an asymmetric algorithm the
issuer announces, by one of its published keys), issuer, audience, times and nonce check
out; its discovery document only when it is its own. Against an issuer served by
httpx2's MockTransport."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from app.services.kernel.errors import UpstreamAnswerInvalid, UpstreamUnavailable
from app.services.upstream.oidc_issuers import OidcIssuer
from app.settings.providers import UpstreamProviderSettings

ISSUER = "https://issuer.example"
CLIENT_ID = "client-1"
SECRET = "client-secret-of-at-least-some-length"
NONCE = "nonce-1"


def settings() -> UpstreamProviderSettings:
    return UpstreamProviderSettings(
        name="idp",
        kind="oidc",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        label="The IdP",
    )


class FakeIssuer:
    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"kid": "k1"})
        self.published = [self.key]
        self.metadata: dict[str, Any] = {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks",
            "id_token_signing_alg_values_supported": ["ES256"],
        }
        self.requests: list[str] = []
        self.down = False

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request.url.path)
        if self.down:
            return httpx2.Response(503)
        if request.url.path == "/.well-known/openid-configuration":
            return httpx2.Response(200, json=self.metadata)
        if request.url.path == "/jwks":
            keys = [key.as_dict(private=False) for key in self.published]
            return httpx2.Response(200, json={"keys": keys})
        return httpx2.Response(404)

    def token(self, key: Any = None, alg: str = "ES256", **changes: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "subject-1",
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "nonce": NONCE,
            "email": "a@example.com",
            "email_verified": True,
        }
        claims.update(changes)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode({"alg": alg, "kid": "k1"}, claims, key or self.key, algorithms=[alg])


@pytest.fixture
def fake() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture
def issuer(fake: FakeIssuer) -> OidcIssuer:
    http = httpx2.Client(transport=httpx2.MockTransport(fake.handle))
    return OidcIssuer(settings(), http)


def test_a_good_token_gives_its_claims(issuer, fake):
    claims = issuer.id_token_claims(fake.token(), NONCE)
    assert claims["sub"] == "subject-1" and claims["email"] == "a@example.com"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://other.example"},
        {"aud": "another-client"},
        {"aud": [CLIENT_ID, "another-client"]},  # several audiences and no azp
        {"exp": int(time.time()) - 3600},
        {"nonce": "another-nonce"},
        {"nonce": None},
        {"sub": None},
        {"sub": "x" * 300},
        {"iat": None},
    ],
    ids=lambda changes: "-".join(changes),
)
def test_a_token_with_a_wrong_claim_is_refused(issuer, fake, changes):
    with pytest.raises(UpstreamAnswerInvalid):
        issuer.id_token_claims(fake.token(**changes), NONCE)


def test_several_audiences_are_accepted_when_we_are_the_authorized_party(issuer, fake):
    token = fake.token(aud=[CLIENT_ID, "other"], azp=CLIENT_ID)
    assert issuer.id_token_claims(token, NONCE)["azp"] == CLIENT_ID


def test_unsigned_and_hmac_tokens_are_refused(issuer, fake):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    body = fake.token().split(".")[1]
    with pytest.raises(UpstreamAnswerInvalid):
        issuer.id_token_claims(f"{header.decode()}.{body}.", NONCE)
    hmac_key = OctKey.import_key(SECRET.encode())
    with pytest.raises(UpstreamAnswerInvalid):
        issuer.id_token_claims(fake.token(key=hmac_key, alg="HS256"), NONCE)
    with pytest.raises(UpstreamAnswerInvalid):
        issuer.id_token_claims("not-a-jwt", NONCE)


def test_a_token_signed_by_a_key_the_issuer_does_not_publish_is_refused(issuer, fake):
    stranger = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    with pytest.raises(UpstreamAnswerInvalid):
        issuer.id_token_claims(fake.token(key=stranger), NONCE)


def test_a_new_key_is_fetched_once_a_minute_at_most(fake):
    now = [1_000_000.0]
    http = httpx2.Client(transport=httpx2.MockTransport(fake.handle))
    issuer = OidcIssuer(settings(), http, now=lambda: now[0])
    issuer.keys("k1")
    rotated = ECKey.generate_key("P-256", parameters={"kid": "k2"})
    fake.published = [fake.key, rotated]
    issuer.keys("k2")  # too soon: the keys held are used
    assert fake.requests.count("/jwks") == 1
    now[0] += 61
    assert any(key.kid == "k2" for key in issuer.keys("k2"))
    issuer.keys("k2")
    assert fake.requests.count("/jwks") == 2


def test_a_discovery_document_of_another_issuer_is_not_used(issuer, fake):
    fake.metadata["issuer"] = "https://evil.example"
    with pytest.raises(UpstreamUnavailable):
        issuer.metadata()


def test_published_private_keys_make_the_issuer_unusable(issuer, fake):
    original = fake.handle

    def leaky(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/jwks":
            return httpx2.Response(200, json={"keys": [fake.key.as_dict(private=True)]})
        return original(request)

    fake.handle = leaky  # type: ignore[method-assign]
    issuer.http = httpx2.Client(transport=httpx2.MockTransport(leaky))
    with pytest.raises(UpstreamUnavailable):
        issuer.keys("k1")


def test_an_issuer_that_is_down_is_unavailable(issuer, fake):
    fake.down = True
    with pytest.raises(UpstreamUnavailable):
        issuer.metadata()


def test_discovery_is_kept_for_an_hour(fake):
    now = [1_000_000.0]
    http = httpx2.Client(transport=httpx2.MockTransport(fake.handle))
    issuer = OidcIssuer(settings(), http, now=lambda: now[0])
    issuer.metadata()
    now[0] += 3599
    issuer.metadata()
    assert fake.requests.count("/.well-known/openid-configuration") == 1
    now[0] += 2
    issuer.metadata()
    assert fake.requests.count("/.well-known/openid-configuration") == 2


# The code exchange and userinfo


class TokenEndpoint:
    """The fake issuer's token and userinfo endpoints: what the next exchange answers."""

    def __init__(self, fake: FakeIssuer) -> None:
        self.fake = fake
        self.answer: tuple[int, Any] = (200, {})
        self.userinfo: dict[str, Any] = {}
        self.forms: list[dict[str, list[str]]] = []
        fake.metadata["userinfo_endpoint"] = f"{ISSUER}/userinfo"

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        from urllib.parse import parse_qs

        if request.url.path == "/token":
            self.forms.append(parse_qs(request.content.decode()))
            status, body = self.answer
            if isinstance(body, str):
                return httpx2.Response(status, text=body)
            return httpx2.Response(status, json=body)
        if request.url.path == "/userinfo":
            return httpx2.Response(200, json=self.userinfo)
        return self.fake.handle(request)


def exchange(fake: FakeIssuer, endpoint: TokenEndpoint, purpose: str = "sign_in"):
    from app.services.upstream.journeys import OutgoingRequest

    transport = httpx2.MockTransport(endpoint.handle)
    issuer = OidcIssuer(settings(), httpx2.Client(transport=transport), transport=transport)
    outgoing = OutgoingRequest(
        provider="idp",
        purpose=purpose,
        state="s",
        nonce=NONCE,
        code_verifier="v" * 64,
        started_at=0.0,
    )
    return issuer.answer("the-code", outgoing, "https://app.example/callback")


def test_the_code_is_exchanged_with_the_verifier_and_the_token_read(fake):
    endpoint = TokenEndpoint(fake)
    endpoint.answer = (
        200,
        {"access_token": "at", "token_type": "Bearer", "id_token": fake.token(amr=["pwd", "mfa"])},
    )
    answer = exchange(fake, endpoint)
    assert (answer.subject, answer.email, answer.email_verified) == (
        "subject-1",
        "a@example.com",
        True,
    )
    assert answer.amr == ("pwd", "mfa")
    [form] = endpoint.forms
    assert form["code"] == ["the-code"] and form["code_verifier"] == ["v" * 64]
    assert form["redirect_uri"] == ["https://app.example/callback"]


def test_an_address_left_out_of_the_id_token_is_read_from_userinfo_of_the_same_subject(fake):
    endpoint = TokenEndpoint(fake)
    token = fake.token(email=None, email_verified=None)
    endpoint.answer = (200, {"access_token": "at", "token_type": "Bearer", "id_token": token})
    endpoint.userinfo = {"sub": "subject-1", "email": "b@example.com", "email_verified": True}
    answer = exchange(fake, endpoint)
    assert (answer.email, answer.email_verified) == ("b@example.com", True)
    endpoint.userinfo = {"sub": "someone-else", "email": "c@example.com", "email_verified": True}
    with pytest.raises(UpstreamAnswerInvalid):
        exchange(fake, endpoint)


@pytest.mark.parametrize(
    ("answer", "refusal"),
    [
        ((400, {"error": "invalid_grant"}), UpstreamAnswerInvalid),
        ((200, {"access_token": "at", "token_type": "Bearer"}), UpstreamAnswerInvalid),
        (
            (200, {"access_token": "at", "token_type": "Bearer", "id_token": 7}),
            UpstreamAnswerInvalid,
        ),
        ((500, "<html>oops</html>"), UpstreamUnavailable),
        ((200, "not json"), UpstreamUnavailable),
        ((200, ["a", "list"]), UpstreamUnavailable),
    ],
    ids=["error", "no id token", "id token not a string", "server error", "not json", "a list"],
)
def test_a_token_endpoint_that_does_not_answer_as_it_should_is_a_refusal(fake, answer, refusal):
    endpoint = TokenEndpoint(fake)
    endpoint.answer = answer
    with pytest.raises(refusal):
        exchange(fake, endpoint)


def test_endpoints_that_are_not_web_addresses_are_not_used(issuer, fake):
    fake.metadata["authorization_endpoint"] = "javascript:alert(1)"
    with pytest.raises(UpstreamUnavailable):
        issuer.metadata()
    fake.metadata["authorization_endpoint"] = "http://evil.example/authorize"
    with pytest.raises(UpstreamUnavailable):
        issuer.metadata()


def tokens(fake: FakeIssuer, **changes: Any) -> tuple[int, Any]:
    return 200, {"access_token": "at", "token_type": "Bearer", "id_token": fake.token(**changes)}


def test_a_re_authentication_needs_a_sign_in_at_the_issuer_just_now(fake):
    endpoint = TokenEndpoint(fake)
    endpoint.answer = tokens(fake, auth_time=int(time.time()) - 10)
    assert exchange(fake, endpoint, purpose="reauthenticate").subject == "subject-1"
    for auth_time in (int(time.time()) - 3600, None, "recently", True):
        endpoint.answer = tokens(fake, auth_time=auth_time)
        with pytest.raises(UpstreamAnswerInvalid):
            exchange(fake, endpoint, purpose="reauthenticate")
    # A sign-in does not ask when the issuer's own sign-in was.
    endpoint.answer = tokens(fake, auth_time=int(time.time()) - 3600)
    assert exchange(fake, endpoint).subject == "subject-1"


def test_a_nonce_in_a_list_is_refused(issuer, fake):
    with pytest.raises(UpstreamAnswerInvalid):
        issuer.id_token_claims(fake.token(nonce=[NONCE]), NONCE)


def test_the_address_and_its_verification_come_from_the_same_place(fake):
    endpoint = TokenEndpoint(fake)
    endpoint.answer = tokens(fake, email=None, email_verified=True)
    endpoint.userinfo = {"sub": "subject-1", "email": "someone@example.com"}
    answer = exchange(fake, endpoint)
    assert (answer.email, answer.email_verified) == ("someone@example.com", False)


@pytest.mark.parametrize(
    "body",
    [
        '{"access_token": "at", "token_type": "Bearer", "expires_in": 1e400}',
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["a number too large", "nested too deep"],
)
def test_a_token_answer_that_breaks_the_parser_is_a_refusal(fake, body):
    endpoint = TokenEndpoint(fake)
    endpoint.answer = (200, body)
    with pytest.raises((UpstreamUnavailable, UpstreamAnswerInvalid)):
        exchange(fake, endpoint)


def test_discovery_lists_of_the_wrong_type_fall_back_to_the_defaults(issuer, fake):
    fake.metadata["token_endpoint_auth_methods_supported"] = 5
    fake.metadata["id_token_signing_alg_values_supported"] = [{"alg": "none"}, "ES256"]
    assert issuer.id_token_claims(fake.token(), NONCE)["sub"] == "subject-1"
    outgoing_client = issuer._client("https://app.example/callback")
    assert outgoing_client.token_endpoint_auth_method == "client_secret_basic"
