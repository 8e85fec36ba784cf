"""GET /api/v1/account/export: the same document as /account/export, for the owner after
a recent sign-in, with no hash, token or code, five an hour (docs/security.md 72)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Account, LoginSession
from tests.functional.api.test_api_account import ALICE, code, signed_in_app
from tests.functional.flows import db, recorded_events


def test_the_owner_gets_everything_held_and_no_secret(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    answer = client.get("/api/v1/account/export", headers=auth)
    assert answer.headers["Cache-Control"].startswith("no-store")
    document = answer.json
    assert document["version"] == 1 and document["account"]["email"] == ALICE
    [session] = document["sessions"]
    assert session["kind"] == "app" and session["ended_at"] is None
    with db(wsgi_app) as dbsession:
        account = dbsession.scalar(select(Account).where(Account.email == ALICE))
        secrets = [account.password_hash, *dbsession.scalars(select(LoginSession.token_hash))]
    assert not [secret for secret in secrets if secret in answer.text]
    assert auth["Authorization"].removeprefix("Bearer ") not in answer.text
    assert len(recorded_events(wsgi_app, "data_exported")) == 1


def test_an_old_sign_in_is_asked_to_re_authenticate(wsgi_app, clock):
    client, auth = signed_in_app(wsgi_app)
    clock.advance(minutes=16)
    refused = client.get("/api/v1/account/export", headers=auth, status=401).json
    assert code(refused) == "reauthentication_required"
    assert recorded_events(wsgi_app, "data_exported") == []


def test_exports_are_limited(wsgi_app):
    client, auth = signed_in_app(wsgi_app)
    for _ in range(5):
        client.get("/api/v1/account/export", headers=auth, status=200)
    limited = client.get("/api/v1/account/export", headers=auth, status=429)
    assert code(limited.json) == "rate_limited" and int(limited.headers["Retry-After"]) > 0
