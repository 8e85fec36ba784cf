"""The authorization endpoint's rules: exact redirect URIs, PKCE, prompt, max_age, step-up
to a second factor, consent, and errors that never go to an address nobody registered
(docs/security.md 61, 62, 65, 66)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.models import OidcCode, OidcConsent
from app.services.kernel import audit as events
from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    code_at,
    create_account,
    db,
    recorded_events,
    set_up_totp,
    sign_in,
)
from tests.functional.oidc_flows import (
    REDIRECT_URI,
    Pkce,
    authorize_url,
    callback_params,
    decode,
    exchange,
    register_client,
    sign_in_and_authorize,
)
from tests.support import form_by_action

ALICE = "alice@example.com"


def codes_issued(wsgi_app) -> int:
    with db(wsgi_app) as session:
        return session.scalar(select(func.count()).select_from(OidcCode))


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "no-such-client"},
        {"client_id": None},
        {"redirect_uri": "https://evil.example.test/callback"},
        {"redirect_uri": REDIRECT_URI + "/"},
        {"redirect_uri": REDIRECT_URI + "?extra=1"},
        {"redirect_uri": "https://SHOP.example.test/callback"},
        {"redirect_uri": None},
    ],
)
def test_an_unknown_client_or_redirect_uri_gets_a_page_never_a_redirect(wsgi_app, client, change):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    response = client.get(authorize_url(shop, Pkce.new(), **change), status=400)
    assert "Location" not in response.headers
    refusal = response.html.find(id="oidc-error").text.strip()
    assert refusal == "The application's sign-in request is not valid."
    assert codes_issued(wsgi_app) == 0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"nonce": "n" * 300}, "invalid_request"),
        ({"nonce": "n" * 300, "scope": "email"}, "invalid_request"),
    ],
)
def test_a_bad_request_of_a_known_client_goes_back_with_the_error(wsgi_app, client, change, error):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    response = client.get(authorize_url(shop, Pkce.new(), state="s1", **change), status=302)
    back = callback_params(response)
    assert back["error"] == error
    assert back["state"] == "s1" and back["iss"] == BASE_URL
    assert "code" not in back
    assert codes_issued(wsgi_app) == 0


def test_an_oversized_request_gets_a_page(wsgi_app, client):
    shop = register_client(wsgi_app)
    client.get(authorize_url(shop, Pkce.new(), state="x" * 3000), status=400)


def test_prompt_none_without_a_session_answers_login_required(wsgi_app, client):
    shop = register_client(wsgi_app)
    back = callback_params(client.get(authorize_url(shop, Pkce.new(), prompt="none"), status=302))
    assert back["error"] == "login_required"


def test_without_a_session_the_person_signs_in_and_comes_back(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    pkce = Pkce.new()
    response = client.get(authorize_url(shop, pkce), status=303)
    assert urlsplit(response.headers["Location"]).path == "/account/signin"
    back = sign_in_and_authorize(client, shop, ALICE, STRONG_PASSWORD, pkce)
    assert back["code"]


def test_prompt_login_asks_again_once_then_gives_the_code(wsgi_app, client, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    pkce = Pkce.new()
    clock.advance(minutes=5)
    first = client.get(authorize_url(shop, pkce, prompt="login"), status=303)
    came_from = parse_qs(urlsplit(first.headers["Location"]).query)["came_from"][0]
    assert "prompt=login" not in came_from
    page = client.get(first.headers["Location"])
    form = form_by_action(page, "/account/signin")
    form["email"], form["password"] = ALICE, STRONG_PASSWORD
    back_here = form.submit(status=303).headers["Location"]
    back = callback_params(client.get(back_here, status=302))
    tokens = exchange(new_client(wsgi_app), shop, back["code"], pkce.verifier).json
    assert decode(client, tokens["id_token"])["auth_time"] == int(clock.now().timestamp())


def test_max_age_exceeded_asks_to_sign_in_again(wsgi_app, client, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    clock.advance(minutes=10)
    client.get(authorize_url(shop, Pkce.new(), max_age="600"), status=302)
    clock.advance(seconds=1)
    response = client.get(authorize_url(shop, Pkce.new(), max_age="600"), status=303)
    assert urlsplit(response.headers["Location"]).path == "/account/signin"


def test_acr_mfa_steps_up_to_the_second_factor(wsgi_app, client, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    secret, _codes = set_up_totp(client, clock)
    shop = register_client(wsgi_app)
    pkce = Pkce.new()
    # The session was started with the password alone: it does not meet acr=mfa.
    to_signin = client.get(authorize_url(shop, pkce, acr_values="mfa"), status=303)
    page = client.get(to_signin.headers["Location"])
    form = form_by_action(page, "/account/signin")
    form["email"], form["password"] = ALICE, STRONG_PASSWORD
    second = client.get(form.submit(status=303).headers["Location"])
    form = form_by_action(second, "/account/signin/two_factor")
    clock.advance(seconds=30)
    form["code"] = code_at(secret, clock)
    back_here = form.submit(status=303).headers["Location"]
    back = callback_params(client.get(back_here, status=302))
    tokens = exchange(new_client(wsgi_app), shop, back["code"], pkce.verifier).json
    id_token = decode(client, tokens["id_token"])
    assert id_token["acr"] == "mfa"
    assert set(id_token["amr"]) == {"pwd", "otp", "mfa"}


def test_acr_mfa_for_an_account_without_a_second_factor_is_unmet(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    back = callback_params(
        client.get(authorize_url(shop, Pkce.new(), acr_values="mfa"), status=302)
    )
    assert back["error"] == "unmet_authentication_requirements"


def test_a_third_party_client_asks_once_for_its_scopes(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    forum = register_client(wsgi_app, first_party=False, name="The forum")
    page = client.get(authorize_url(forum, Pkce.new()), status=200)
    assert "The forum" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    allow = page.html.find(id="consent-allow")
    assert allow is not None
    # Without the CSRF token, nothing is allowed.
    client.post(
        urlsplit(page.request.url).path + "?" + page.request.query_string,
        {"decision": "allow"},
        status=400,
    )
    form = page.forms["consent-form"]
    back = callback_params(form.submit("decision", value="allow", status=302))
    assert back["code"]
    # Remembered: the next time goes straight back with a code.
    assert callback_params(client.get(authorize_url(forum, Pkce.new()), status=302))["code"]
    # prompt=consent asks again.
    client.get(authorize_url(forum, Pkce.new(), prompt="consent"), status=200)
    # More scopes than allowed: asked again.
    client.get(
        authorize_url(forum, Pkce.new(), scope="openid email profile offline_access"), status=200
    )


def test_refusing_consent_goes_back_with_access_denied(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    forum = register_client(wsgi_app, first_party=False, name="The forum")
    page = client.get(authorize_url(forum, Pkce.new(), state="s2"), status=200)
    back = callback_params(page.forms["consent-form"].submit("decision", value="deny", status=302))
    assert back == {
        "error": "access_denied",
        "error_description": "The person did not allow it.",
        "state": "s2",
        "iss": BASE_URL,
    }
    with db(wsgi_app) as session:
        assert session.scalar(select(func.count()).select_from(OidcConsent)) == 0
    assert codes_issued(wsgi_app) == 0


def test_prompt_none_where_consent_is_needed_answers_consent_required(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    forum = register_client(wsgi_app, first_party=False)
    back = callback_params(client.get(authorize_url(forum, Pkce.new(), prompt="none"), status=302))
    assert back["error"] == "consent_required"


def test_the_consent_page_names_only_what_the_application_asks_for(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    forum = register_client(wsgi_app, first_party=False, name="The forum")

    def asked_for(scope: str) -> list[str]:
        page = client.get(authorize_url(forum, Pkce.new(), scope=scope), status=200)
        return [li.text.strip() for li in page.html.find(id="consent-scopes").find_all("li")]

    identifier = "Who you are here (an identifier that never changes)"
    assert asked_for("openid email") == [identifier, "Your email address"]
    assert asked_for("openid profile offline_access") == [
        identifier,
        "Your profile",
        "To stay signed in while you are away, until you sign out",
    ]


def test_what_a_person_allows_adds_up_and_each_allowing_is_recorded(wsgi_app, client):
    alice_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    forum = register_client(wsgi_app, first_party=False, name="The forum")

    def allow(scope: str) -> None:
        page = client.get(authorize_url(forum, Pkce.new(), scope=scope), status=200)
        form = page.forms["consent-form"]
        assert callback_params(form.submit("decision", value="allow", status=302))["code"]

    allow("openid email")
    allow("openid profile")
    # What was allowed the first time is still allowed: both together need no new page.
    back = client.get(authorize_url(forum, Pkce.new(), scope="openid email profile"), status=302)
    assert callback_params(back)["code"]
    given = recorded_events(wsgi_app, events.OIDC_CONSENT_GIVEN)
    assert [(e.kind, e.account_id, e.details) for e in given] == [
        (events.OIDC_CONSENT_GIVEN, alice_id, {"client_id": forum.client_id, "scopes": scope})
        for scope in ("email openid", "openid profile")
    ]


def form_action(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part for part in policy.split(";") if "form-action" in part).strip()


def test_the_sign_in_page_of_an_authorization_lets_its_form_reach_the_client(wsgi_app, client):
    """Browsers hold the redirects after a POST to form-action: the sign-in page that
    leads back to a client names that client's registered origin, and no other."""
    shop = register_client(wsgi_app)
    to_signin = client.get(authorize_url(shop, Pkce.new()), status=303)
    page = client.get(to_signin.headers["Location"])
    assert form_action(page) == "form-action 'self' https://shop.example.test"
    forged = "/account/signin?came_from=" + authorize_url(
        shop, Pkce.new(), redirect_uri="https://evil.example.test/cb"
    ).replace("&", "%26").replace("?", "%3F")
    assert form_action(client.get(forged)) == "form-action 'self'"
    assert form_action(client.get("/account/signin")) == "form-action 'self'"


def test_the_consent_page_lets_its_form_reach_the_client(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    forum = register_client(wsgi_app, first_party=False)
    page = client.get(authorize_url(forum, Pkce.new()), status=200)
    assert form_action(page) == "form-action 'self' https://shop.example.test"


def test_max_age_zero_asks_once_however_long_the_way_back_takes(wsgi_app, client, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    pkce = Pkce.new()
    clock.advance(seconds=1)
    to_signin = client.get(authorize_url(shop, pkce, max_age="0"), status=303)
    form = form_by_action(client.get(to_signin.headers["Location"]), "/account/signin")
    form["email"], form["password"] = ALICE, STRONG_PASSWORD
    back_here = form.submit(status=303).headers["Location"]
    clock.advance(seconds=2)
    back = callback_params(client.get(back_here, status=302))
    tokens = exchange(new_client(wsgi_app), shop, back["code"], pkce.verifier).json
    assert "auth_time" in decode(client, tokens["id_token"])
    # A request that was not sent to sign in just now is asked again.
    client.get(authorize_url(shop, Pkce.new(), max_age="0"), status=303)


@pytest.mark.parametrize("mark", ["0", "0.00", "99999999999.x", "1.2.3"])
def test_a_made_up_sign_in_mark_does_not_pass_prompt_login(wsgi_app, client, clock, mark):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    clock.advance(hours=3)
    for extra in ({"prompt": "login"}, {"max_age": "60"}):
        response = client.get(authorize_url(shop, Pkce.new(), login_after=mark, **extra))
        assert response.status_int == 303, extra


def test_a_sign_in_mark_is_good_only_for_its_own_client(wsgi_app, client, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    forum = register_client(wsgi_app, name="The forum")
    clock.advance(hours=3)
    to_signin = client.get(authorize_url(forum, Pkce.new(), prompt="login"), status=303)
    came_from = parse_qs(urlsplit(to_signin.headers["Location"]).query)["came_from"][0]
    mark = parse_qs(urlsplit(came_from).query)["login_after"][0]
    sign_in(client, ALICE, STRONG_PASSWORD)
    # Signed in since the mark was made, but the mark was the forum's.
    client.get(authorize_url(shop, Pkce.new(), prompt="login", login_after=mark), status=303)
    client.get(authorize_url(forum, Pkce.new(), prompt="login", login_after=mark), status=302)


def test_the_factors_of_a_reauthentication_are_what_the_tokens_then_tell(wsgi_app, client, clock):
    """A session re-authenticated with the password and a code stands for two factors
    (acr_values=mfa is met without signing in again); with the password alone, for one."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    secret, _codes = set_up_totp(client, clock)
    shop = register_client(wsgi_app)
    client.get(authorize_url(shop, Pkce.new(), acr_values="mfa"), status=303)

    def reauthenticate(code: str | None) -> None:
        page = client.get("/account/reauthenticate?came_from=/account")
        form = form_by_action(page, "/account/reauthenticate")
        form["password"] = STRONG_PASSWORD
        if code is not None:
            form["code"] = code
        form.submit(status=303)

    clock.advance(seconds=30)
    reauthenticate(code_at(secret, clock))
    pkce = Pkce.new()
    back = callback_params(client.get(authorize_url(shop, pkce, acr_values="mfa"), status=302))
    tokens = exchange(new_client(wsgi_app), shop, back["code"], pkce.verifier).json
    assert decode(client, tokens["id_token"])["acr"] == "mfa"
