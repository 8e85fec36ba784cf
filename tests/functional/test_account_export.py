"""docs/security.md 72: /account/export gives the owner, after a recent sign-in, one JSON
file of everything held about the account, with no hash, token, secret or code in it;
it is rate limited and recorded."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Account, KnownDevice, LoginSession, OneTimeCode, RecoveryCode
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import (
    create_account,
    db,
    forgot_password,
    recorded_events,
    set_up_totp,
    sign_in,
)
from tests.support import form_by_action

ALICE = "alice@example.com"


def _download(client):
    page = client.get("/account/export")
    return form_by_action(page, "/account/export").submit(status="*")


def test_the_owner_downloads_everything_held_and_no_secret(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    set_up_totp(client, clock)
    forgot_password(new_client(wsgi_app), ALICE)  # an open reset code
    answer = _download(client)
    assert answer.status_int == 200
    assert answer.content_type == "application/json"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="account.json"'
    assert answer.headers["Cache-Control"] == "no-store"
    document = json.loads(answer.body)
    assert document["version"] == 1
    assert document["account"]["email"] == ALICE
    assert document["account"]["has_password"] is True
    assert document["second_factors"]["authenticator_app"] is True
    assert document["second_factors"]["recovery_codes_left"] == 10
    [session] = [s for s in document["sessions"] if s["ended_at"] is None]
    assert session["ip"] == "203.0.113.7" and "user_agent" in session
    kinds = [event["kind"] for event in document["events"]]
    assert "sign_in" in kinds and "second_factor_added" in kinds and "data_exported" in kinds
    # Nothing that would let anyone in.
    body = answer.body.decode()
    with db(wsgi_app) as session:
        account = session.scalar(select(Account).where(Account.email == ALICE))
        secrets = [account.password_hash]
        secrets += session.scalars(select(LoginSession.token_hash)).all()
        secrets += session.scalars(select(KnownDevice.token_hash)).all()
        secrets += session.scalars(select(OneTimeCode.code_hash)).all()
        secrets += session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(secrets) > 4
    assert not [secret for secret in secrets if secret and secret in body]
    assert "argon2" not in body and "totp_secret" not in body
    assert len(recorded_events(wsgi_app, "data_exported")) == 1


def test_the_export_needs_a_recent_sign_in(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    page = client.get("/account/export")
    clock.advance(minutes=16)
    asked = form_by_action(page, "/account/export").submit(status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    assert recorded_events(wsgi_app, "data_exported") == []
    new_client(wsgi_app).get("/account/export", status=303)  # signed out: sign in first


def test_exports_are_limited(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    statuses = [_download(client).status_int for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert len(recorded_events(wsgi_app, "data_exported")) == 5
