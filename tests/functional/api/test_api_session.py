"""The JSON API's session: signing in and out in app mode (a bearer token) and in
browser mode (the cookie and the CSRF token)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.models import LoginSession
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import code_at, create_account, db, set_up_totp, sign_in

ALICE = "alice@example.com"


def api_sign_in(client, email=ALICE, password=STRONG_PASSWORD, status=201, **headers):
    return client.post_json(
        "/api/v1/session", {"email": email, "password": password}, headers=headers, status=status
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_app_mode_signs_in_with_a_bearer_token_and_out_again(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    signed_in = api_sign_in(client)
    token = signed_in.json["session_token"]
    assert signed_in.json["account"]["email"] == ALICE
    assert "Set-Cookie" not in signed_in.headers
    assert signed_in.headers["Cache-Control"] == "no-store"

    state = client.get("/api/v1/session", headers=bearer(token)).json
    assert state["signed_in"] is True
    assert state["csrf_token"] is None
    assert state["session"]["kind"] == "app"

    client.delete("/api/v1/session", headers=bearer(token), status=204)
    assert client.get("/api/v1/session", headers=bearer(token)).json["signed_in"] is False
    with db(wsgi_app) as session:
        assert session.scalars(select(LoginSession.revoked_at)).one() is not None


def test_an_app_token_is_no_cookie_and_a_cookie_no_app_token(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    token = api_sign_in(new_client(wsgi_app)).json["session_token"]
    browser = new_client(wsgi_app)
    browser.set_cookie("auth", token)
    assert browser.get("/account", status=303)
    # A browser's session token is not a bearer token.
    web = new_client(wsgi_app)
    sign_in(web, ALICE, STRONG_PASSWORD)
    cookie = web.cookies["auth"]
    state = new_client(wsgi_app).get("/api/v1/session", headers=bearer(cookie)).json
    assert state["signed_in"] is False


def test_wrong_password_and_unknown_address_answer_alike(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    wrong = api_sign_in(new_client(wsgi_app), password="not the password", status=401)
    unknown = api_sign_in(new_client(wsgi_app), email="nobody@example.com", status=401)
    assert wrong.json == unknown.json
    assert wrong.json["errors"][0]["code"] == "sign_in_failed"


def test_browser_mode_needs_the_csrf_token_and_sets_the_cookies(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    state = client.get("/api/v1/session", headers={"X-CSRF-Token": ""}).json
    csrf = state["csrf_token"]
    assert csrf and state["signed_in"] is False
    refused = api_sign_in(client, status=403)
    assert refused.json["errors"][0]["code"] == "csrf_token_invalid"
    done = api_sign_in(client, **{"X-CSRF-Token": csrf})
    assert done.json["session_token"] is None
    assert "auth" in client.cookies
    assert client.get("/account").status_int == 200
    fresh = client.get("/api/v1/session").json
    assert fresh["signed_in"] is True
    client.delete("/api/v1/session", headers={"X-CSRF-Token": fresh["csrf_token"]}, status=204)
    assert client.get("/account", status=303)


def test_the_second_factor_step_takes_the_pending_token(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    web = new_client(wsgi_app)
    sign_in(web, ALICE, STRONG_PASSWORD)
    secret, _codes = set_up_totp(web, clock)
    client = new_client(wsgi_app)
    first = api_sign_in(client, status=401).json
    assert first["errors"][0]["code"] == "second_factor_required"
    assert first["factors"] == ["totp", "recovery_code"]
    pending = bearer(first["pending_token"])
    wrong = client.post_json(
        "/api/v1/session/second_factor", {"code": "000000"}, headers=pending, status=401
    )
    assert wrong.json["errors"][0]["code"] == "invalid_second_factor_code"
    clock.advance(seconds=30)
    done = client.post_json(
        "/api/v1/session/second_factor",
        {"code": code_at(secret, clock)},
        headers=pending,
        status=201,
    )
    token = done.json["session_token"]
    state = client.get("/api/v1/session", headers=bearer(token)).json
    assert state["session"]["sign_in_method"] == "password+totp"


def test_bad_bodies_get_their_own_errors(wsgi_app):
    client = new_client(wsgi_app)
    assert client.post("/api/v1/session", "email=a", status=415).json["errors"][0]["code"] == (
        "unsupported_media_type"
    )
    malformed = client.post(
        "/api/v1/session", "{", content_type="application/json", status=400
    ).json
    assert malformed["errors"][0]["code"] == "malformed_json"
    deep = client.post(
        "/api/v1/session", "[" * 5000 + "]" * 5000, content_type="application/json", status=400
    ).json
    assert deep["errors"][0]["code"] == "too_deeply_nested"
    missing = client.post_json("/api/v1/session", {"email": ALICE, "extra": 1}, status=400).json
    fields = {(e["code"], e["field"]) for e in missing["errors"]}
    assert fields == {("field_missing", "password"), ("field_unknown", "extra")}
    assert (
        client.put_json("/api/v1/session", {}, status=405).headers["Allow"] == "DELETE, GET, POST"
    )
    assert client.get("/api/v1/nothing", status=404).json["errors"][0]["code"] == "not_found"


def test_the_openapi_document_lists_the_operations(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    session = document["paths"]["/api/v1/session"]
    assert set(session) == {"get", "post", "delete"}
    assert "401" in session["post"]["responses"]
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert session["post"]["operationId"] == "session_sign_in"
    assert "Retry-After" in session["post"]["responses"]["429"]["headers"]
    assert "503" in session["get"]["responses"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    huge = '{"email": "' + "a" * 70_000 + '"}'
    refused = client.post("/api/v1/session", huge, content_type="application/json", status=413).json
    assert refused["errors"][0]["code"] == "body_too_large"


def test_an_app_token_has_256_random_bits_and_is_stored_only_as_its_hash(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    tokens = {api_sign_in(new_client(wsgi_app)).json["session_token"] for _ in range(3)}
    assert len(tokens) == 3
    assert all(len(token) >= 43 for token in tokens)  # 32 random bytes, base64url
    with db(wsgi_app) as session:
        stored = set(session.scalars(select(LoginSession.token_hash)))
    assert hashlib_digests(tokens) == stored
    assert not tokens & stored


def hashlib_digests(tokens: set[str]) -> set[str]:
    return {hashlib.sha256(token.encode()).hexdigest() for token in tokens}


def test_a_pending_token_is_spent_by_its_sign_in(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    web = new_client(wsgi_app)
    sign_in(web, ALICE, STRONG_PASSWORD)
    secret, _codes = set_up_totp(web, clock)
    client = new_client(wsgi_app)
    pending = bearer(api_sign_in(client, status=401).json["pending_token"])
    clock.advance(seconds=30)
    client.post_json(
        "/api/v1/session/second_factor", {"code": code_at(secret, clock)}, headers=pending
    )
    clock.advance(seconds=30)
    again = client.post_json(
        "/api/v1/session/second_factor",
        {"code": code_at(secret, clock)},
        headers=pending,
        status=401,
    ).json
    assert again["errors"][0]["code"] == "sign_in_expired"


def test_a_browsers_pending_sign_in_goes_on_only_in_that_browser(wsgi_app, clock):
    """In browser mode the session keeps the pending sign-in: no pending token reaches
    the page's script, and the sign-in cannot be finished as an application's (which
    would hand the cookie's token to that script)."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    web = new_client(wsgi_app)
    sign_in(web, ALICE, STRONG_PASSWORD)
    secret, _codes = set_up_totp(web, clock)
    client = new_client(wsgi_app)
    csrf = client.get("/api/v1/session", headers={"X-CSRF-Token": ""}).json["csrf_token"]
    first = api_sign_in(client, status=401, **{"X-CSRF-Token": csrf}).json
    assert first["pending_token"] is None
    clock.advance(seconds=30)
    done = client.post_json(
        "/api/v1/session/second_factor",
        {"code": code_at(secret, clock)},
        headers={"X-CSRF-Token": csrf},
        status=201,
    ).json
    assert done["session_token"] is None
    # The answer carries the session's new CSRF token, which the next change needs.
    assert done["csrf_token"] and done["csrf_token"] != csrf
    client.delete("/api/v1/session", headers={"X-CSRF-Token": done["csrf_token"]}, status=204)


def test_an_unconfirmed_address_answers_403(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD, confirmed=False)
    refused = api_sign_in(new_client(wsgi_app), status=403).json
    assert refused["errors"][0]["code"] == "address_unconfirmed"


def test_a_path_that_is_not_utf8_gets_the_apis_400(client):
    refused = client.get("/api/v1/sessions/%FF", status=400)
    assert refused.json["errors"][0]["code"] == "bad_encoding"
    page = client.get("/account/reset_password/abc%FF", status=400)
    assert page.content_type == "text/html"
