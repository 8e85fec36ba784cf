"""Passkey ceremonies through the JSON API: options with a ceremony token, then the
credential; each token answers once, for its own ceremony and account only."""

from __future__ import annotations

from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account
from tests.functional.passkey_flows import authenticator

ALICE = "alice@example.com"


def signed_in_app(wsgi_app, email=ALICE):
    create_account(wsgi_app, email, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    token = client.post_json("/api/v1/session", {"email": email, "password": STRONG_PASSWORD}).json[
        "session_token"
    ]
    return client, {"Authorization": f"Bearer {token}"}


def add_passkey(client, auth, device, name="Phone"):
    started = client.post("/api/v1/passkeys/options", headers=auth).json
    credential = device.create(started["options"])
    body = {"ceremony_token": started["ceremony_token"], "credential": credential, "name": name}
    return client.post_json("/api/v1/passkeys", body, headers=auth, status=201).json


def code(response) -> str:
    return response.json["errors"][0]["code"]


def test_a_passkey_added_through_the_api_signs_in_alone(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    device = authenticator()
    added = add_passkey(client, auth, device)
    assert added["name"] == "Phone"
    assert [p["name"] for p in client.get("/api/v1/passkeys", headers=auth).json["passkeys"]] == [
        "Phone"
    ]
    fresh = new_client(wsgi_app)
    started = fresh.post("/api/v1/session/passkey/options").json
    body = {
        "ceremony_token": started["ceremony_token"],
        "credential": device.get(started["options"]),
    }
    done = fresh.post_json("/api/v1/session/passkey", body, status=201).json
    state = fresh.get(
        "/api/v1/session", headers={"Authorization": f"Bearer {done['session_token']}"}
    ).json
    assert state["session"]["sign_in_method"] == "passkey"
    # The same token and credential again: refused, no second session.
    again = fresh.post_json("/api/v1/session/passkey", body, status=400)
    assert code(again).startswith("passkey_")


def test_a_ceremony_token_of_another_ceremony_or_a_forged_one_is_refused(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    device = authenticator()
    add_passkey(client, auth, device)
    adding = client.post("/api/v1/passkeys/options", headers=auth).json
    fresh = new_client(wsgi_app)
    signing = fresh.post("/api/v1/session/passkey/options").json
    credential = device.get(signing["options"])
    for token in (adding["ceremony_token"], "forged", signing["ceremony_token"][:-4] + "AAAA"):
        body = {"ceremony_token": token, "credential": credential}
        refused = fresh.post_json("/api/v1/session/passkey", body, status=400)
        assert code(refused) == "passkey_request_expired"


def test_the_second_step_takes_a_passkey_after_the_password(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    device = authenticator()
    add_passkey(client, auth, device)
    fresh = new_client(wsgi_app)
    first = fresh.post_json(
        "/api/v1/session", {"email": ALICE, "password": STRONG_PASSWORD}, status=401
    ).json
    assert "passkey" in first["factors"]
    pending = {"Authorization": f"Bearer {first['pending_token']}"}
    started = fresh.post("/api/v1/session/second_factor/passkey/options", headers=pending).json
    body = {
        "ceremony_token": started["ceremony_token"],
        "credential": device.get(started["options"]),
    }
    done = fresh.post_json(
        "/api/v1/session/second_factor/passkey", body, headers=pending, status=201
    ).json
    assert done["session_token"]
    expired = fresh.post("/api/v1/session/second_factor/passkey/options", status=401)
    assert code(expired) == "sign_in_expired"


def test_a_passkey_re_authenticates(wsgi_app, clock):
    client, auth = signed_in_app(wsgi_app)
    device = authenticator()
    add_passkey(client, auth, device)
    clock.advance(minutes=20)
    assert code(client.post("/api/v1/passkeys/options", headers=auth, status=401)) == (
        "reauthentication_required"
    )
    started = client.post("/api/v1/reauthenticate/passkey/options", headers=auth).json
    body = {
        "ceremony_token": started["ceremony_token"],
        "credential": device.get(started["options"]),
    }
    client.post_json("/api/v1/reauthenticate/passkey", body, headers=auth)
    client.post("/api/v1/passkeys/options", headers=auth, status=200)


def test_without_a_passkey_the_passkey_steps_say_so(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    refused = client.post("/api/v1/reauthenticate/passkey/options", headers=auth, status=409)
    assert code(refused) == "no_passkey"
