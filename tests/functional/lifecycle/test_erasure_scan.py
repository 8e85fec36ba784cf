"""docs/security.md 71, the end of it: once an account is erased nothing left in the
database names the person. An account with a full life (registered and confirmed from a
distinctive address and browser, wrong passwords typed, an authenticator app, a passkey,
an application connected, its data exported, its address changed once, mail sent to both
addresses and some still queued) is deleted and erased, its goodbye sent; then every
column of every table the database has (those the app's models do not know included) is
read as text, JSON as JSON and encrypted outbox parameters decrypted, and none holds
either address, the IP or the user agent.

The scan is of what was the account's: the test makes no anonymous events from the same
IP (sign-in guesses at unknown addresses, unknown links), which are nobody's and go by
their own retention (docs/security.md 57)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from typing import Any

import webtest
from cryptography.fernet import InvalidToken
from sqlalchemy import inspect, select, text

from app.models import Account, AccountEvent, OutgoingEmail
from app.services.kernel import audit as events
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    db,
    deliver_mail,
    recorded_events,
    register,
    register_and_confirm,
    set_up_totp,
    sign_in,
)
from tests.functional.oidc_flows import Pkce, exchange, register_client, sign_in_and_authorize
from tests.functional.passkey_flows import add_passkey, authenticator
from tests.support import form_by_action

DOMAIN = "quillmarsh-erasure.example"
OLD = f"zephyrine.old@{DOMAIN}"
NEW = f"zephyrine.new@{DOMAIN}"
IP = "198.51.100.77"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) QuillmarshBrowser/77.7 (erasure scan)"
# What must not be left anywhere: the addresses (and their parts, which masked addresses
# keep), the IP and the user agent.
NAMES = (OLD, NEW, "zephyrine", DOMAIN, IP, USER_AGENT, "QuillmarshBrowser")


def _browser(app) -> webtest.TestApp:
    """A browser at the distinctive IP, with the distinctive user agent."""
    return webtest.TestApp(
        app,
        extra_environ={"REMOTE_ADDR": IP, "HTTP_HOST": "localhost", "HTTP_USER_AGENT": USER_AGENT},
    )


def _texts(value: Any, ciphers: Iterable[Any]) -> list[str]:
    """A value read from the database, as every text it could be read as."""
    if value is None:
        return []
    if isinstance(value, dict | list):
        return [json.dumps(value), str(value)]
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        found = [raw.decode("latin-1"), repr(raw)]
        for cipher in ciphers:
            with contextlib.suppress(InvalidToken, TypeError, ValueError):
                found.append(cipher.decrypt(raw).decode("utf-8", "replace"))
        return found
    return [str(value)]


def scan(app) -> dict[str, set[str]]:
    """Where each name appears: {name: {"table.column", ...}}, over every column of every
    table in the database, read with plain SQL."""
    ciphers = [app.registry["outbox_sender"].cipher]
    found: dict[str, set[str]] = {}
    with db(app) as session:
        connection = session.connection()
        tables = inspect(connection).get_table_names()
        assert {"accounts", "account_events", "outgoing_emails", "alembic_version"} <= set(tables)
        for table in tables:
            result = connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    for shown in _texts(value, ciphers):
                        for name in NAMES:
                            if name.lower() in shown.lower():
                                found.setdefault(name, set()).add(f"{table}.{column}")
    return found


def _change_address(app, smtp_server, client) -> None:
    form = form_by_action(client.get("/account/change_email"), "/account/change_email")
    form["current_password"] = STRONG_PASSWORD
    form["new_email"] = NEW
    form.submit(status=303)
    deliver_mail(app)
    [confirm] = smtp_server.mailbox.to(NEW)
    client.get(f"/account/confirm_email/{confirm.link_code}", status=303)
    page = client.get("/account/confirm_email")
    form_by_action(page, "/account/confirm_email").submit(status=303)


def _live_a_full_life(app, smtp_server, clock) -> webtest.TestApp:
    owner = _browser(app)
    register_and_confirm(owner, app, smtp_server.mailbox, OLD, STRONG_PASSWORD)
    # Wrong passwords typed at the account's own address, from the same browser.
    for _ in range(2):
        sign_in(_browser(app), OLD, "not the password, sorry", status=400)
    set_up_totp(owner, clock)
    add_passkey(owner, authenticator(), name="Quillmarsh laptop")
    # An application the owner signs in to, which keeps a refresh token.
    shop = register_client(app)
    pkce = Pkce.new()
    back = sign_in_and_authorize(owner, shop, OLD, STRONG_PASSWORD, pkce)
    exchange(new_client(app), shop, back["code"], pkce.verifier)
    export = form_by_action(owner.get("/account/export"), "/account/export").submit(status=200)
    assert OLD in export.text
    _change_address(app, smtp_server, owner)
    deliver_mail(app)
    return owner


def test_nothing_left_in_the_database_names_an_erased_account(wsgi_app, smtp_server, clock):
    owner = _live_a_full_life(wsgi_app, smtp_server, clock)
    with db(wsgi_app) as session:
        account = session.scalars(select(Account)).one()
        assert account.email == NEW and account.totp_enabled_at is not None
        recipients = set(session.scalars(select(OutgoingEmail.recipient)))
    assert {OLD, NEW} <= recipients
    # The scan sees what it looks for while the account lives.
    before = scan(wsgi_app)
    assert {"accounts.email", "outgoing_emails.recipient"} <= before[NEW]
    assert "outgoing_emails.recipient" in before[OLD]
    assert {"account_events.ip", "login_sessions.ip"} <= before[IP]
    assert {"account_events.user_agent", "login_sessions.user_agent"} <= before[USER_AGENT]

    form_by_action(owner.get("/account/delete"), "/account/delete").submit(status=303)
    deliver_mail(wsgi_app)
    assert smtp_server.mailbox.to(NEW, about="will be deleted")
    # A message still queued when the account goes: someone tried to register it again.
    register(new_client(wsgi_app, ip="192.0.2.55"), NEW, OTHER_PASSWORD)
    with db(wsgi_app) as session:
        assert session.scalars(select(OutgoingEmail).where(OutgoingEmail.sent_at.is_(None))).all()

    clock.advance(days=7, minutes=1)
    assert wsgi_app.registry["account_erasure"].run() == 1
    deliver_mail(wsgi_app)
    [goodbye] = smtp_server.mailbox.to(NEW, about="has been deleted")
    assert "as its owner asked" in goodbye.text
    assert smtp_server.mailbox.to(OLD, about="has been deleted") == []

    assert scan(wsgi_app) == {}
    with db(wsgi_app) as session:
        assert session.scalars(select(Account)).all() == []
        assert session.scalars(select(OutgoingEmail)).all() == []
        kept = session.scalars(select(AccountEvent)).all()
    # The trail is kept, naming no one: the sign-ins, the failures, the erasure.
    kinds = {event.kind for event in kept}
    assert {events.SIGN_IN, events.SIGN_IN_FAILED, events.PASSKEY_ADDED} <= kinds
    assert {events.DELETION_REQUESTED, events.ACCOUNT_ERASED} <= kinds
    # (Besides the shop's registration, which was no one's.)
    hers = [event for event in kept if event.kind != events.OIDC_CLIENT_ADDED]
    assert all(event.account_id is None and event.details in ({}, None) for event in hers)
    assert len(recorded_events(wsgi_app, events.ACCOUNT_ERASED)) == 1
