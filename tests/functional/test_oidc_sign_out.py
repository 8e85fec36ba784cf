"""Signing out at an application's request (RP-initiated logout): what each refused
request is told, the confirmation page and what its form carries, and where the person
ends up, with the browser's sign-in cookie gone."""

from __future__ import annotations

import pytest

from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, is_signed_in, sign_in
from tests.functional.oidc_flows import (
    POST_LOGOUT_URI,
    Pkce,
    exchange,
    register_client,
    sign_in_and_authorize,
)
from tests.support import form_by_action

ALICE = "alice@example.com"
NOT_VALID = "The application's sign-out request is not valid."
NOT_REGISTERED = "The address to return to is not registered."


@pytest.fixture
def alice(wsgi_app):
    return create_account(wsgi_app, ALICE, STRONG_PASSWORD)


def tokens_for(wsgi_app, browser, shop) -> dict:
    """Alice signs in at the shop through the provider: the shop's tokens."""
    pkce = Pkce.new()
    back = sign_in_and_authorize(browser, shop, ALICE, STRONG_PASSWORD, pkce)
    return exchange(new_client(wsgi_app), shop, back["code"], pkce.verifier).json


def refusal(page) -> str:
    return page.html.find(id="oidc-error").text.strip()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"id_token_hint": "not.a.jwt"}, NOT_VALID),
        ({"client_id": "unknown"}, NOT_VALID),
        (
            {"client_id": "{shop}", "post_logout_redirect_uri": "https://evil.example.test/"},
            NOT_REGISTERED,
        ),
        ({"post_logout_redirect_uri": POST_LOGOUT_URI}, NOT_REGISTERED),
    ],
)
def test_a_refused_sign_out_request_says_why(wsgi_app, client, alice, params, message):
    sign_in(client, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    params = {name: value.format(shop=shop.client_id) for name, value in params.items()}

    page = client.get("/oidc/logout", params, status=400)

    assert refusal(page) == message
    assert is_signed_in(client)


def test_a_hint_for_one_application_sent_with_another_applications_id_is_refused(
    wsgi_app, client, alice
):
    shop = register_client(wsgi_app)
    forum = register_client(wsgi_app, name="The forum")
    tokens = tokens_for(wsgi_app, client, shop)

    page = client.get(
        "/oidc/logout",
        {
            "id_token_hint": tokens["id_token"],
            "client_id": forum.client_id,
            "post_logout_redirect_uri": POST_LOGOUT_URI,
        },
        status=400,
    )

    assert refusal(page) == NOT_VALID
    assert is_signed_in(client)


def test_a_hint_of_an_earlier_session_asks_first_and_the_form_carries_the_request_through(
    wsgi_app, client, alice
):
    shop = register_client(wsgi_app)
    earlier = tokens_for(wsgi_app, client, shop)
    token = form_by_action(client.get("/account"), "/account/logout")["csrf_token"].value
    client.post("/account/logout", {"csrf_token": token}, status=303)
    sign_in(client, ALICE, STRONG_PASSWORD)

    page = client.get(
        "/oidc/logout",
        {
            "id_token_hint": earlier["id_token"],
            "post_logout_redirect_uri": POST_LOGOUT_URI,
            "state": "bye",
        },
        status=200,
    )

    asks = [p.text.strip() for p in page.html.select(".card p")]
    assert "The shop asks to sign you out here." in asks
    # The browser may follow the confirmation's redirect to the application's origin.
    policy = page.headers["Content-Security-Policy"]
    assert "form-action 'self' https://shop.example.test;" in policy
    assert is_signed_in(client)

    done = form_by_action(page, "/oidc/logout").submit(status=302)

    assert done.headers["Location"] == POST_LOGOUT_URI + "?state=bye"
    assert "auth" not in client.cookies
    assert not is_signed_in(client)


def test_a_confirmed_sign_out_with_nowhere_to_return_to_ends_on_the_sign_in_page(
    wsgi_app, client, alice
):
    sign_in(client, ALICE, STRONG_PASSWORD)
    page = client.get("/oidc/logout", status=200)
    assert page.html.find(id="sign-out-confirm") is not None
    assert is_signed_in(client)

    done = form_by_action(page, "/oidc/logout").submit(status=303)

    assert done.headers["Location"] == BASE_URL + "/account/signin"
    assert "auth" not in client.cookies
    signed_out = done.follow(status=200)
    notices = [p.text.strip() for p in signed_out.html.select(".notice-success p")]
    assert notices == ["You are signed out."]
    assert not is_signed_in(client)
