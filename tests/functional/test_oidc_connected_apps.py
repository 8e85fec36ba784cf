"""The applications an account signed in to through the provider, on its Connected
applications page: the last used first, and disconnecting one ends that application's
tokens of this account, and nothing else (docs/security.md 66)."""

from __future__ import annotations

from app.services.kernel import audit as events
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, recorded_events
from tests.functional.oidc_flows import (
    Pkce,
    exchange,
    refresh,
    register_client,
    sign_in_and_authorize,
)
from tests.support import form_by_action

ALICE = "alice@example.com"
BOB = "bob@example.com"


def signed_in_at(wsgi_app, browser, app, email: str = ALICE) -> dict[str, str]:
    """The person in `browser` signs in at `app` through the provider: the app's tokens."""
    pkce = Pkce.new()
    back = sign_in_and_authorize(browser, app, email, STRONG_PASSWORD, pkce)
    return exchange(new_client(wsgi_app), app, back["code"], pkce.verifier).json


def listed(browser) -> list[str]:
    table = browser.get("/account/apps").html.find(id="connected-apps")
    if table is None:
        return []
    return [row.find("td").text.strip() for row in table.find("tbody").find_all("tr")]


def test_the_last_used_application_comes_first_and_one_is_disconnected_alone(
    wsgi_app, client, clock
):
    alice_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app, name="The shop")
    forum = register_client(wsgi_app, name="The forum")
    shop_tokens = signed_in_at(wsgi_app, client, shop)
    clock.advance(minutes=5)
    forum_tokens = signed_in_at(wsgi_app, client, forum)
    assert listed(client) == ["The forum", "The shop"]

    page = client.get("/account/apps")
    done = form_by_action(page, f"/account/apps/{forum.client_id}/disconnect").submit(status=303)

    assert "The application is disconnected" in done.follow().text
    assert listed(client) == ["The shop"]
    rp = new_client(wsgi_app)
    refresh(rp, forum, forum_tokens["refresh_token"], status=400)
    refresh(rp, shop, shop_tokens["refresh_token"], status=200)
    disconnected = recorded_events(wsgi_app, events.OIDC_APP_DISCONNECTED)
    assert [(e.kind, e.account_id, e.details) for e in disconnected] == [
        (events.OIDC_APP_DISCONNECTED, alice_id, {"client_id": forum.client_id})
    ]


def test_disconnecting_an_application_leaves_other_peoples_tokens_there(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, BOB, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    alice_tokens = signed_in_at(wsgi_app, client, shop)
    bob_tokens = signed_in_at(wsgi_app, new_client(wsgi_app), shop, BOB)

    page = client.get("/account/apps")
    form_by_action(page, f"/account/apps/{shop.client_id}/disconnect").submit(status=303)

    rp = new_client(wsgi_app)
    refresh(rp, shop, alice_tokens["refresh_token"], status=400)
    refresh(rp, shop, bob_tokens["refresh_token"], status=200)
