"""docs/security.md 71: deleting an account needs a recent sign-in and ends every
session; during the grace period nothing signs in and the emailed restore link brings it
back; after it, the account's rows are gone, its events keep no address, IP or user
agent, and its outbox rows go once the goodbye is sent. The last administrator cannot
delete itself."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Account, AccountEvent, OutgoingEmail
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import (
    create_account,
    db,
    deliver_mail,
    is_signed_in,
    recorded_events,
    sign_in,
)
from tests.support import form_by_action

OWNER = "owner@example.com"


def delete_account(client, status: int = 303):
    page = client.get("/account/delete")
    return form_by_action(page, "/account/delete").submit(status=status)


def erase_due(app) -> int:
    return app.registry["account_erasure"].run()


def restore_link(smtp_server, address: str = OWNER) -> str:
    [told] = smtp_server.mailbox.to(address, about="will be deleted")
    assert "/account/restore/" in told.text and "7 days" in told.text
    return told.link_code


def _account(app, account_id: int) -> Account | None:
    with db(app) as session:
        return session.get(Account, account_id)


def test_the_owner_deletes_and_the_account_is_erased_after_the_grace_period(
    wsgi_app, smtp_server, clock
):
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    owner, other_device = new_client(wsgi_app), new_client(wsgi_app, ip="198.51.100.9")
    sign_in(owner, OWNER, STRONG_PASSWORD)
    sign_in(other_device, OWNER, STRONG_PASSWORD)

    done = delete_account(owner)
    assert urlsplit(done.location).path == "/account/deleted"
    page = owner.get("/account/deleted")
    assert "will be erased on" in page.text
    assert not is_signed_in(owner) and not is_signed_in(other_device)
    # Nothing signs in during the grace period: the right password is told why.
    refused = sign_in(new_client(wsgi_app), OWNER, STRONG_PASSWORD, status=400)
    assert "being deleted" in refused.text
    sign_in(new_client(wsgi_app), OWNER, "wrong " + STRONG_PASSWORD, status=400)
    deliver_mail(wsgi_app)
    restore_link(smtp_server)
    assert _account(wsgi_app, account_id) is not None

    clock.advance(days=7, minutes=-1)
    assert erase_due(wsgi_app) == 0
    clock.advance(minutes=2)
    assert erase_due(wsgi_app) == 1
    assert _account(wsgi_app, account_id) is None
    deliver_mail(wsgi_app)
    [goodbye] = smtp_server.mailbox.to(OWNER, about="has been deleted")
    assert "as its owner asked" in goodbye.text
    with db(wsgi_app) as session:
        assert session.scalars(select(OutgoingEmail)).all() == []
        kept = session.scalars(select(AccountEvent)).all()
    assert kept and all(e.ip is None and e.user_agent is None for e in kept)
    assert all(e.account_id is None and e.details in ({}, None) for e in kept)
    # The address is free again.
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)


def test_the_restore_link_brings_the_account_back(wsgi_app, smtp_server, clock):
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, OWNER, STRONG_PASSWORD)
    delete_account(owner)
    deliver_mail(wsgi_app)
    code = restore_link(smtp_server)
    clock.advance(days=6)

    browser = new_client(wsgi_app)
    # Opening the link (or a mail scanner fetching it) changes nothing.
    opened = browser.get(f"/account/restore/{code}", status=303)
    assert urlsplit(opened.location).path == "/account/restore"
    page = browser.get("/account/restore")
    assert OWNER in page.text
    assert _account(wsgi_app, account_id).deletion_requested_at is not None
    back = form_by_action(page, "/account/restore").submit(status=303)
    assert urlsplit(back.location).path == "/account/signin"
    assert "is back" in back.follow().text
    assert _account(wsgi_app, account_id).deletion_requested_at is None
    sign_in(new_client(wsgi_app), OWNER, STRONG_PASSWORD)
    clock.advance(days=2)
    assert erase_due(wsgi_app) == 0
    # The link works once.
    again = new_client(wsgi_app).get(f"/account/restore/{code}", status=400)
    assert "already been used" in again.text or "used" in again.text
    assert [e.kind for e in recorded_events(wsgi_app, "account_restored")] == ["account_restored"]


def test_deleting_needs_a_recent_sign_in(wsgi_app, clock):
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, OWNER, STRONG_PASSWORD)
    page = owner.get("/account/delete")
    clock.advance(minutes=16)
    asked = form_by_action(page, "/account/delete").submit(status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    assert _account(wsgi_app, account_id).deletion_requested_at is None
    new_client(wsgi_app).get("/account/delete", status=303)


def test_with_no_grace_period_the_account_is_erased_at_once(make_app, app_settings, smtp_server):
    app = make_app({**app_settings, "accounts.deletion_grace_days": "0"})
    account_id = create_account(app, OWNER, STRONG_PASSWORD)
    owner = new_client(app)
    sign_in(owner, OWNER, STRONG_PASSWORD)
    page = owner.get("/account/delete")
    assert "cannot be undone" in page.text
    form_by_action(page, "/account/delete").submit(status=303)
    assert "has been erased" in owner.get("/account/deleted").text
    assert _account(app, account_id) is None
    deliver_mail(app)
    assert smtp_server.mailbox.to(OWNER, about="will be deleted") == []
    assert len(smtp_server.mailbox.to(OWNER, about="has been deleted")) == 1
    with db(app) as session:
        assert session.scalars(select(OutgoingEmail)).all() == []
        assert all(e.ip is None for e in session.scalars(select(AccountEvent)))


def test_the_last_administrator_cannot_delete_itself(admin_app, admin):
    page = admin.get("/account/delete")
    assert "last administrator" in page.text
    assert page.html.find(id="delete-account") is None
    # Posted anyway (the page was stale): refused, nothing changed.
    refused = admin.post("/account/delete", {"csrf_token": _csrf(admin)}, status=409)
    assert "last administrator" in refused.text
    assert is_signed_in(admin)


def _csrf(client) -> str:
    page = client.get("/account")
    return page.html.find("input", {"name": "csrf_token"})["value"]


def test_an_opened_deletion_page_without_a_deletion_goes_home(wsgi_app):
    page = new_client(wsgi_app).get("/account/deleted", status=303)
    assert urlsplit(page.location).path == "/"


def test_the_grace_period_is_counted_from_the_request(wsgi_app, smtp_server, clock):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, OWNER, STRONG_PASSWORD)
    before = clock.now()
    delete_account(owner)
    [event] = recorded_events(wsgi_app, "deletion_requested")
    assert event.created_at == before
    deliver_mail(wsgi_app)
    [told] = smtp_server.mailbox.to(OWNER, about="will be deleted")
    assert told.link_code
    clock.advance(days=7)
    assert erase_due(wsgi_app) == 1
