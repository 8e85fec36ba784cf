"""What the provider's grants are good for, as the applications see it: a replayed code
leaves an event naming whose it was, a refresh token is live until the second its
lifetime ends and never once it is spent, and the tokens an application holds outlive
the browser's idle session (docs/security.md 61, 63)."""

from __future__ import annotations

from app.models import OidcCode
from app.services.kernel import audit as events
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, recorded_events, services
from tests.functional.oidc_flows import (
    Pkce,
    decode,
    exchange,
    refresh,
    register_client,
    sign_in_and_authorize,
)

ALICE = "alice@example.com"
BOB = "bob@example.com"


def signed_in_shop(wsgi_app, client):
    """Alice signs in at the shop through the provider: her account id, the shop, the
    code and its verifier."""
    alice_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    pkce = Pkce.new()
    back = sign_in_and_authorize(client, shop, ALICE, STRONG_PASSWORD, pkce)
    return alice_id, shop, back["code"], pkce.verifier


def introspect(rp, shop, token: str) -> dict:
    return rp.post("/oidc/introspect", {"token": token}, headers=shop.basic_auth()).json


def test_a_replayed_code_is_recorded_against_its_account_and_application(wsgi_app, client):
    alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    rp = new_client(wsgi_app)
    exchange(rp, shop, code, verifier)
    assert recorded_events(wsgi_app, events.OIDC_CODE_REUSED) == []

    exchange(rp, shop, code, verifier, status=400)

    reused = recorded_events(wsgi_app, events.OIDC_CODE_REUSED)
    assert [(e.kind, e.account_id, e.details) for e in reused] == [
        (events.OIDC_CODE_REUSED, alice_id, {"client_id": shop.client_id})
    ]


def test_a_spent_refresh_token_is_not_active(wsgi_app, client):
    _alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    rp = new_client(wsgi_app)
    first = exchange(rp, shop, code, verifier).json["refresh_token"]

    second = refresh(rp, shop, first).json["refresh_token"]

    assert introspect(rp, shop, first) == {"active": False}
    assert introspect(rp, shop, second)["active"] is True


def test_revoking_a_refresh_token_leaves_other_peoples_grants_alone(wsgi_app, client):
    _alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    create_account(wsgi_app, BOB, STRONG_PASSWORD)
    pkce = Pkce.new()
    bobs_code = sign_in_and_authorize(new_client(wsgi_app), shop, BOB, STRONG_PASSWORD, pkce)
    rp = new_client(wsgi_app)
    alices = exchange(rp, shop, code, verifier).json["refresh_token"]
    bobs = exchange(rp, shop, bobs_code["code"], pkce.verifier).json["refresh_token"]

    rp.post("/oidc/revoke", {"token": alices}, headers=shop.basic_auth(), status=200)

    assert introspect(rp, shop, alices) == {"active": False}
    assert introspect(rp, shop, bobs)["active"] is True
    refresh(rp, shop, bobs, status=200)


def test_a_refresh_token_is_live_until_the_second_its_thirty_days_end(wsgi_app, client, clock):
    _alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    rp = new_client(wsgi_app)
    token = exchange(rp, shop, code, verifier).json["refresh_token"]

    # The browser's session idled out long before: the application's token lives on.
    clock.advance(days=30, seconds=-1)
    assert introspect(rp, shop, token)["active"] is True
    clock.advance(seconds=1)
    assert introspect(rp, shop, token) == {"active": False}


def test_an_access_token_refreshed_after_the_browser_idled_out_is_accepted(wsgi_app, client, clock):
    """The browser's session idles out after a day; the application's tokens do not die
    with it, and neither does an access token it gets by refreshing afterwards."""
    _alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    rp = new_client(wsgi_app)
    first = exchange(rp, shop, code, verifier).json
    clock.advance(hours=25)
    assert client.get("/account").status_int == 303  # the browser's session idled out

    access = refresh(rp, shop, first["refresh_token"]).json["access_token"]

    info = rp.get("/oidc/userinfo", headers={"Authorization": "Bearer " + access}).json
    assert info["sub"] == decode(rp, first["id_token"])["sub"]
    assert introspect(rp, shop, access)["active"] is True


def test_a_refresh_token_at_the_second_its_thirty_days_end_is_refused_and_says_why(
    wsgi_app, client, clock
):
    _alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    rp = new_client(wsgi_app)
    token = exchange(rp, shop, code, verifier).json["refresh_token"]
    clock.advance(days=30)

    assert refresh(rp, shop, token, status=400).json == {
        "error": "invalid_grant",
        "error_description": "The refresh token is no longer valid.",
    }


def test_a_reused_refresh_token_is_recorded_against_its_account_and_application(wsgi_app, client):
    alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    rp = new_client(wsgi_app)
    first = exchange(rp, shop, code, verifier).json["refresh_token"]
    second = refresh(rp, shop, first).json["refresh_token"]
    assert recorded_events(wsgi_app, events.OIDC_REFRESH_TOKEN_REUSED) == []

    refresh(rp, shop, first, status=400)

    reused = recorded_events(wsgi_app, events.OIDC_REFRESH_TOKEN_REUSED)
    assert [(e.kind, e.account_id, e.details) for e in reused] == [
        (events.OIDC_REFRESH_TOKEN_REUSED, alice_id, {"client_id": shop.client_id})
    ]
    assert introspect(rp, shop, second) == {"active": False}


def found_code(wsgi_app, shop, code) -> int:
    """The id of the code's row, as the token endpoint finds it before it spends it."""
    with db(wsgi_app) as session:
        found = services(wsgi_app, session)
        row = found.oidc_grants.find_code(code, found.oidc_clients.get(shop.client_id))
        assert row is not None
        return row.id


def spend_code(wsgi_app, shop, code_id: int) -> bool:
    with db(wsgi_app) as session, session.begin():
        found = services(wsgi_app, session)
        row = session.get(OidcCode, code_id)
        return found.oidc_grants.spend_code(row, found.oidc_clients.get(shop.client_id))


def test_a_code_spent_by_a_racing_request_is_a_replay_for_the_other(wsgi_app, client):
    """Two requests with one code can both find it unspent: the conditional UPDATE lets
    one spend it, and for the other it is a replay (the tokens it gave are revoked, and
    an event says whose it was)."""
    alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    create_account(wsgi_app, BOB, STRONG_PASSWORD)
    pkce = Pkce.new()
    bobs = sign_in_and_authorize(new_client(wsgi_app), shop, BOB, STRONG_PASSWORD, pkce)
    code_id = found_code(wsgi_app, shop, code)
    rp = new_client(wsgi_app)
    tokens = exchange(rp, shop, code, verifier).json

    assert spend_code(wsgi_app, shop, code_id) is False

    assert introspect(rp, shop, tokens["refresh_token"]) == {"active": False}
    reused = recorded_events(wsgi_app, events.OIDC_CODE_REUSED)
    assert [(e.account_id, e.details) for e in reused] == [
        (alice_id, {"client_id": shop.client_id})
    ]
    # Spending Alice's code left Bob's, given meanwhile, unspent.
    exchange(rp, shop, bobs["code"], pkce.verifier, status=200)


def test_a_code_found_just_before_it_expired_is_not_spent_after(wsgi_app, client, clock):
    _alice_id, shop, code, verifier = signed_in_shop(wsgi_app, client)
    code_id = found_code(wsgi_app, shop, code)
    clock.advance(seconds=60)

    assert spend_code(wsgi_app, shop, code_id) is False

    # Not spent, so not a replay either.
    assert recorded_events(wsgi_app, events.OIDC_CODE_REUSED) == []
    with db(wsgi_app) as session:
        assert session.get(OidcCode, code_id).used_at is None
