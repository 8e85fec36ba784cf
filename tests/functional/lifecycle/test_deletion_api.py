"""docs/security.md 71, through the JSON API: DELETE /api/v1/account, after a recent
sign-in, in app mode (a bearer token) and in browser mode (the cookie and the CSRF
token). It answers when the account will be erased, ends every session (the token that
asked too), emails the restore link, and signing in by the API is then refused with
account_deletion_pending. An old sign-in is asked to re-authenticate and nothing
changes; the last administrator is refused with 409."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.models import Account, LoginSession
from app.services.kernel import audit as events
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, deliver_mail, queued_emails, recorded_events

ALICE = "alice@example.com"
GRACE = timedelta(days=7)


def _app_session(app, email: str = ALICE, password: str = STRONG_PASSWORD):
    """(client, headers) of an app-mode session."""
    client = new_client(app)
    token = client.post_json("/api/v1/session", {"email": email, "password": password}).json[
        "session_token"
    ]
    return client, {"Authorization": f"Bearer {token}"}


def _browser_session(app, email: str = ALICE, password: str = STRONG_PASSWORD):
    """(client, headers) of a browser-mode session: its cookie and CSRF token."""
    client = new_client(app)
    csrf = client.get("/api/v1/session", headers={"X-CSRF-Token": ""}).json["csrf_token"]
    client.post_json(
        "/api/v1/session",
        {"email": email, "password": password},
        headers={"X-CSRF-Token": csrf},
        status=201,
    )
    csrf = client.get("/api/v1/session").json["csrf_token"]
    return client, {"X-CSRF-Token": csrf}


def _code(body) -> str:
    return body["errors"][0]["code"]


def _account(app, email: str = ALICE) -> Account:
    with db(app) as session:
        return session.scalars(select(Account).where(Account.email == email)).one()


def _open_sessions(app) -> int:
    with db(app) as session:
        return len(
            session.scalars(select(LoginSession).where(LoginSession.revoked_at.is_(None))).all()
        )


def _api_sign_in(app, status: int, password: str = STRONG_PASSWORD):
    return new_client(app).post_json(
        "/api/v1/session", {"email": ALICE, "password": password}, status=status
    )


def _assert_deleted_and_refused(app, smtp_server, clock, answer) -> None:
    assert set(answer) == {"message", "erase_at"}
    assert "brings it back" in answer["message"]
    asked_at = _account(app).deletion_requested_at
    assert asked_at == clock.now()
    assert datetime.fromisoformat(answer["erase_at"]) == asked_at + GRACE
    assert _open_sessions(app) == 0
    assert [e.kind for e in recorded_events(app, events.DELETION_REQUESTED)] == [
        events.DELETION_REQUESTED
    ]
    deliver_mail(app)
    [told] = smtp_server.mailbox.to(ALICE, about="will be deleted")
    assert "/account/restore/" in told.text
    # The right password is told why; a wrong one learns nothing more than usual.
    refused = _api_sign_in(app, 403).json
    assert _code(refused) == "account_deletion_pending"
    assert "being deleted" in refused["errors"][0]["message"]
    assert _code(_api_sign_in(app, 401, password="not the password at all").json) == (
        "sign_in_failed"
    )
    assert _open_sessions(app) == 0


def test_an_app_deletes_its_account_with_its_bearer_token(wsgi_app, smtp_server, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client, auth = _app_session(wsgi_app)
    other, other_auth = _app_session(wsgi_app)

    done = client.delete("/api/v1/account", headers=auth, status=200)
    assert done.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in done.headers
    # The token that asked stops working, and so does every other session's.
    for who, headers in ((client, auth), (other, other_auth)):
        assert _code(who.get("/api/v1/account", headers=headers, status=401).json) == (
            "not_signed_in"
        )
        assert who.get("/api/v1/session", headers=headers).json["signed_in"] is False
    _assert_deleted_and_refused(wsgi_app, smtp_server, clock, done.json)


def test_a_browser_deletes_its_account_with_the_cookie_and_the_csrf_token(
    wsgi_app, smtp_server, clock
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    browser, headers = _browser_session(wsgi_app)
    # Without the CSRF token: refused, nothing changed.
    forged = browser.delete("/api/v1/account", status=403).json
    assert _code(forged) == "csrf_token_invalid"
    assert _account(wsgi_app).deletion_requested_at is None
    assert browser.get("/api/v1/account").json["email"] == ALICE

    done = browser.delete("/api/v1/account", headers=headers, status=200)
    assert "auth" not in browser.cookies
    assert browser.get("/api/v1/session").json["signed_in"] is False
    browser.get("/account", status=303)
    _assert_deleted_and_refused(wsgi_app, smtp_server, clock, done.json)


def test_an_old_sign_in_must_re_authenticate_before_deleting(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client, auth = _app_session(wsgi_app)
    browser, headers = _browser_session(wsgi_app)
    queued = len(queued_emails(wsgi_app))
    clock.advance(minutes=16)

    for who, with_headers in ((client, auth), (browser, headers)):
        stale = who.delete("/api/v1/account", headers=with_headers, status=401).json
        assert _code(stale) == "reauthentication_required"
    assert _account(wsgi_app).deletion_requested_at is None
    assert _open_sessions(wsgi_app) == 2
    assert recorded_events(wsgi_app, events.DELETION_REQUESTED) == []
    assert len(queued_emails(wsgi_app)) == queued
    assert client.get("/api/v1/account", headers=auth).json["email"] == ALICE

    client.post_json("/api/v1/reauthenticate", {"password": STRONG_PASSWORD}, headers=auth)
    client.delete("/api/v1/account", headers=auth, status=200)
    assert _account(wsgi_app).deletion_requested_at is not None


def test_the_last_administrator_is_refused_with_409(wsgi_app):
    account_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.get(Account, account_id).is_admin = True
    client, auth = _app_session(wsgi_app)
    queued = len(queued_emails(wsgi_app))

    refused = client.delete("/api/v1/account", headers=auth, status=409).json
    assert _code(refused) == "last_administrator_stays"
    assert "last administrator" in refused["errors"][0]["message"]
    assert _account(wsgi_app).deletion_requested_at is None
    assert _open_sessions(wsgi_app) == 1
    assert client.get("/api/v1/account", headers=auth).json["email"] == ALICE
    assert recorded_events(wsgi_app, events.DELETION_REQUESTED) == []
    assert len(queued_emails(wsgi_app)) == queued


def test_with_no_grace_period_the_api_erases_at_once(make_app, app_settings, smtp_server):
    app = make_app({**app_settings, "accounts.deletion_grace_days": "0"})
    account_id = create_account(app, ALICE, STRONG_PASSWORD)
    client, auth = _app_session(app)
    answer = client.delete("/api/v1/account", headers=auth, status=200).json
    assert answer["erase_at"] is None and "erased" in answer["message"]
    with db(app) as session:
        assert session.get(Account, account_id) is None
    assert _code(_api_sign_in(app, 401).json) == "sign_in_failed"
    deliver_mail(app)
    assert len(smtp_server.mailbox.to(ALICE, about="has been deleted")) == 1
