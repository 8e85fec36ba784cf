"""Signing in with an emailed code through the JSON API (docs/security.md 73), in app
mode (the request's sealed code_token) and in browser mode (the session keeps it):
the same rules as the pages, and every refusal one answer."""

from __future__ import annotations

from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.api.test_api_session import bearer
from tests.functional.flows import code_at, create_account, set_up_totp, sign_in
from tests.functional.lifecycle.test_email_code_sign_in import emailed_code, emailed_codes

ALICE = "alice@example.com"


def ask(client, email=ALICE, status=202, **headers):
    return client.post_json(
        "/api/v1/session/email_code", {"email": email}, headers=headers, status=status
    )


def answer(client, code, token="", status=201, **headers):
    body = {"code": code, "code_token": token} if token else {"code": code}
    return client.post_json(
        "/api/v1/session/email_code/verify", body, headers=headers, status=status
    )


def test_an_app_signs_in_with_the_emailed_code_and_its_token(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    app = new_client(wsgi_app)
    token = ask(app).json["code_token"]
    assert token
    signed_in = answer(app, emailed_code(wsgi_app, smtp_server, ALICE).lower(), token)
    session_token = signed_in.json["session_token"]
    state = app.get("/api/v1/session", headers=bearer(session_token)).json
    assert state["signed_in"] and state["session"]["sign_in_method"] == "email_code"
    # Spent: the same code and token again are refused.
    again = answer(app, emailed_code(wsgi_app, smtp_server, ALICE), token, status=400)
    assert again.json["errors"][0]["code"] == "sign_in_code_invalid"


def test_the_code_is_worth_nothing_with_another_requests_token(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    first = ask(new_client(wsgi_app)).json["code_token"]
    second = ask(new_client(wsgi_app)).json["code_token"]
    code_of_first, _ = emailed_codes(wsgi_app, smtp_server, ALICE)
    refused = answer(new_client(wsgi_app), code_of_first, second, status=400)
    assert refused.json["errors"][0]["code"] == "sign_in_code_invalid"
    for made_up in ("not a token", "x" * 900):
        answer(new_client(wsgi_app), code_of_first, made_up, status=400)
    answer(new_client(wsgi_app), code_of_first, first)


def test_unknown_addresses_get_the_same_answers(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    known, unknown = ask(new_client(wsgi_app)).json, ask(new_client(wsgi_app), "x@example.com").json
    assert known.keys() == unknown.keys() and known["message"] == unknown["message"]
    answers = [
        answer(new_client(wsgi_app), "ABCD-EFGH", data["code_token"], status=400).json
        for data in (known, unknown)
        for _ in range(4)
    ]
    assert all(a == answers[0] for a in answers)


def test_a_browser_keeps_the_request_in_its_session(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    browser = new_client(wsgi_app)
    csrf = browser.get("/api/v1/session", headers={"X-CSRF-Token": ""}).json["csrf_token"]
    sent = ask(browser, **{"X-CSRF-Token": csrf})
    assert sent.json["code_token"] is None
    signed_in = answer(
        browser, emailed_code(wsgi_app, smtp_server, ALICE), **{"X-CSRF-Token": csrf}
    )
    assert signed_in.json["session_token"] is None and "auth" in browser.cookies


def test_a_second_factor_is_still_asked(wsgi_app, smtp_server, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, ALICE, STRONG_PASSWORD)
    secret, _ = set_up_totp(owner, clock)
    app = new_client(wsgi_app)
    token = ask(app).json["code_token"]
    pending = answer(app, emailed_code(wsgi_app, smtp_server, ALICE), token, status=401).json
    assert pending["errors"][0]["code"] == "second_factor_required"
    clock.advance(seconds=30)
    done = app.post_json(
        "/api/v1/session/second_factor",
        {"code": code_at(secret, clock)},
        headers=bearer(pending["pending_token"]),
        status=201,
    )
    assert done.json["session_token"]


def test_the_setting_turns_it_off(make_app, app_settings):
    app = make_app({**app_settings, "signin.email_codes": "false"})
    ask(new_client(app), status=404)
    answer(new_client(app), "ABCD-EFGH", "token", status=404)
