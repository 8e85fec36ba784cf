"""The JSON API's signed-in operations: the account, its password and address, devices,
activity, re-authentication and second factors, with the HTML pages' rules."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from app.models import LoginSession
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, queued_emails, sign_in

ALICE = "alice@example.com"
BOB = "bob@example.com"


def signed_in_app(wsgi_app, email=ALICE, password=STRONG_PASSWORD):
    """(client, headers) of an app-mode session of a new account."""
    create_account(wsgi_app, email, password)
    client = new_client(wsgi_app)
    token = client.post_json("/api/v1/session", {"email": email, "password": password}).json[
        "session_token"
    ]
    return client, {"Authorization": f"Bearer {token}"}


def code(body) -> str:
    return body["errors"][0]["code"]


def test_anonymous_calls_answer_401_not_signed_in(client):
    for path in ("/api/v1/account", "/api/v1/sessions", "/api/v1/activity", "/api/v1/passkeys"):
        assert code(client.get(path, status=401).json) == "not_signed_in"
    bogus = {"Authorization": "Bearer not-a-token"}
    assert code(client.get("/api/v1/account", headers=bogus, status=401).json) == "not_signed_in"


def test_the_account_as_the_api_shows_it(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    account = client.get("/api/v1/account", headers=auth).json
    assert account["email"] == ALICE
    assert account["two_factor"] is False
    assert len(account["id"]) == 32
    assert not {"password_hash", "totp_secret"} & set(account)


def test_a_mistyped_address_is_refused_before_the_hourly_limit_counts_it(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    body = {"current_password": STRONG_PASSWORD}
    for _ in range(8):
        typo = client.post_json(
            "/api/v1/email/change", {**body, "email": "carol@"}, headers=auth, status=400
        ).json
        assert code(typo) == "invalid_email"
    client.post_json(
        "/api/v1/email/change", {**body, "email": "carol@example.com"}, headers=auth, status=202
    )


def test_re_authentication_without_the_code_is_refused_before_any_guess(wsgi_app, clock):
    client, auth = signed_in_app(wsgi_app)
    secret = client.post("/api/v1/two_factor/totp", headers=auth).json["secret"]
    now = pyotp.TOTP(secret).at(clock.now().timestamp())
    client.put_json("/api/v1/two_factor/totp", {"secret": secret, "code": now}, headers=auth)
    for _ in range(12):
        missing = client.post_json(
            "/api/v1/reauthenticate", {"password": STRONG_PASSWORD}, headers=auth, status=400
        ).json
        assert (code(missing), missing["errors"][0]["field"]) == ("field_missing", "code")
    clock.advance(seconds=30)
    client.post_json(
        "/api/v1/reauthenticate",
        {"password": STRONG_PASSWORD, "code": pyotp.TOTP(secret).at(clock.now().timestamp())},
        headers=auth,
    )


def test_sensitive_operations_need_a_recent_sign_in_then_reauthentication(wsgi_app, clock):
    client, auth = signed_in_app(wsgi_app)
    clock.advance(minutes=16)
    stale = client.post_json("/api/v1/two_factor/totp", {}, headers=auth, status=401).json
    assert code(stale) == "reauthentication_required"
    wrong = client.post_json(
        "/api/v1/reauthenticate", {"password": "not it at all"}, headers=auth, status=400
    ).json
    assert code(wrong) == "wrong_current_password"
    client.post_json("/api/v1/reauthenticate", {"password": STRONG_PASSWORD}, headers=auth)
    setup = client.post("/api/v1/two_factor/totp", headers=auth).json
    assert setup["otpauth_uri"].startswith("otpauth://totp/")


def test_the_authenticator_app_set_up_confirmed_and_turned_off(wsgi_app, clock):
    client, auth = signed_in_app(wsgi_app)
    secret = client.post("/api/v1/two_factor/totp", headers=auth).json["secret"]
    wrong = client.put_json(
        "/api/v1/two_factor/totp", {"secret": secret, "code": "000000"}, headers=auth, status=401
    ).json
    assert code(wrong) == "invalid_second_factor_code"
    now = pyotp.TOTP(secret).at(clock.now().timestamp())
    done = client.put_json("/api/v1/two_factor/totp", {"secret": secret, "code": now}, headers=auth)
    assert len(done.json["recovery_codes"]) == 10
    assert client.get("/api/v1/account", headers=auth).json["authenticator_app"] is True
    again = client.post("/api/v1/two_factor/totp", headers=auth, status=409).json
    assert code(again) == "authenticator_app_on"
    fresh = client.post("/api/v1/two_factor/recovery_codes", headers=auth).json
    assert set(fresh["recovery_codes"]).isdisjoint(done.json["recovery_codes"])
    client.delete("/api/v1/two_factor/totp", headers=auth, status=204)
    assert client.get("/api/v1/account", headers=auth).json["two_factor"] is False
    none = client.post("/api/v1/two_factor/recovery_codes", headers=auth, status=409).json
    assert code(none) == "no_second_factor"


def test_a_secret_not_made_by_the_app_for_this_account_is_refused(wsgi_app, clock):
    client, auth = signed_in_app(wsgi_app)
    weak = client.put_json(
        "/api/v1/two_factor/totp", {"secret": "AAAA", "code": "123456"}, headers=auth, status=400
    ).json
    assert weak["errors"][0]["field"] == "secret"
    # Well formed, but made up (all A's), or made for another account.
    other, other_auth = signed_in_app(wsgi_app, BOB)
    bobs = other.post("/api/v1/two_factor/totp", headers=other_auth).json["secret"]
    for secret in ("A" * 32, bobs):
        code_now = pyotp.TOTP(secret).at(clock.now().timestamp())
        refused = client.put_json(
            "/api/v1/two_factor/totp",
            {"secret": secret, "code": code_now},
            headers=auth,
            status=400,
        ).json
        assert refused["errors"][0]["code"] == "secret_unknown"
    assert client.get("/api/v1/account", headers=auth).json["authenticator_app"] is False


def test_changing_the_password_ends_the_other_sessions(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    browser = new_client(wsgi_app)
    sign_in(browser, ALICE, STRONG_PASSWORD)
    wrong = client.post_json(
        "/api/v1/password/change",
        {"current_password": "not it at all", "password": OTHER_PASSWORD},
        headers=auth,
        status=400,
    ).json
    assert code(wrong) == "wrong_current_password"
    client.post_json(
        "/api/v1/password/change",
        {"current_password": STRONG_PASSWORD, "password": OTHER_PASSWORD},
        headers=auth,
    )
    assert client.get("/api/v1/session", headers=auth).json["signed_in"] is True
    assert browser.get("/account", status=303)


def test_a_weak_new_password_is_refused_with_the_policys_code(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    weak = client.post_json(
        "/api/v1/password/change",
        {"current_password": STRONG_PASSWORD, "password": "short"},
        headers=auth,
        status=400,
    ).json
    assert code(weak) == "password_too_short"


def test_changing_the_address_answers_alike_for_a_taken_one(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    create_account(wsgi_app, BOB, STRONG_PASSWORD)
    body = {"current_password": STRONG_PASSWORD}
    taken = client.post_json(
        "/api/v1/email/change", {**body, "email": BOB}, headers=auth, status=202
    )
    new = client.post_json(
        "/api/v1/email/change", {**body, "email": "carol@example.com"}, headers=auth, status=202
    )
    assert taken.json == new.json
    assert {e.recipient for e in queued_emails(wsgi_app)} >= {BOB, "carol@example.com"}


def test_devices_are_listed_and_revoked_and_others_are_not_found(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    browser = new_client(wsgi_app)
    sign_in(browser, ALICE, STRONG_PASSWORD)
    other, other_auth = signed_in_app(wsgi_app, BOB)
    sessions = client.get("/api/v1/sessions", headers=auth).json["sessions"]
    assert sorted((s["kind"], s["current"]) for s in sessions) == [
        ("app", True),
        ("browser", False),
    ]
    bobs = other.get("/api/v1/sessions", headers=other_auth).json["sessions"][0]["id"]
    client.delete(f"/api/v1/sessions/{bobs}", headers=auth, status=404)
    web = next(s["id"] for s in sessions if s["kind"] == "browser")
    client.delete(f"/api/v1/sessions/{web}", headers=auth, status=204)
    client.delete(f"/api/v1/sessions/{web}", headers=auth, status=404)
    assert browser.get("/account", status=303)
    assert other.get("/api/v1/account", headers=other_auth).status_int == 200


def test_activity_lists_the_accounts_events(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    activity = client.get("/api/v1/activity", headers=auth).json
    assert activity["total"] >= 1
    assert activity["events"][0]["kind"] == "sign_in"
    assert activity["events"][0]["outcome"] == "ok"


def test_another_accounts_passkey_is_not_found(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    assert client.get("/api/v1/passkeys", headers=auth).json == {"passkeys": []}
    client.put_json("/api/v1/passkeys/1", {"name": "x"}, headers=auth, status=404)
    client.delete("/api/v1/passkeys/1", headers=auth, status=404)


def test_signing_out_in_app_mode_ends_only_that_session(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    browser = new_client(wsgi_app)
    sign_in(browser, ALICE, STRONG_PASSWORD)
    client.delete("/api/v1/session", headers=auth, status=204)
    assert browser.get("/account").status_int == 200
    with db(wsgi_app) as session:
        kinds = dict(session.execute(select(LoginSession.kind, LoginSession.revoked_at)).all())
    assert kinds["app"] is not None and kinds["browser"] is None


def test_the_device_page_shows_an_apps_session_as_an_app(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    browser = new_client(wsgi_app)
    sign_in(browser, ALICE, STRONG_PASSWORD)
    page = browser.get("/account/sessions")
    rows = page.html.select("tbody tr")
    assert len(rows) == 2
    app_rows = [row for row in rows if "App, signed in through the API" in row.text]
    assert len(app_rows) == 1
    assert "New browser" not in app_rows[0].text
    assert "This device" not in app_rows[0].text
