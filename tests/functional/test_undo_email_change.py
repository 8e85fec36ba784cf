"""docs/security.md 73 (second part): the notice of a changed address carries a link,
for 7 days, that puts the old address back, signs every device out, makes the password
stop working, removes what was added since the change and emails a reset link to the
old address; opening it changes nothing; it works once; the change itself voids the old
address's "this wasn't me" links."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Account
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
MOVED = "intruder@evil.example"


def _change_address(app, smtp_server, client, new_email: str = MOVED) -> None:
    form = form_by_action(client.get("/account/change_email"), "/account/change_email")
    form["current_password"] = STRONG_PASSWORD
    form["new_email"] = new_email
    form.submit(status=303)
    deliver_mail(app)
    [confirm] = smtp_server.mailbox.to(new_email)
    client.get(f"/account/confirm_email/{confirm.link_code}", status=303)
    form_by_action(client.get("/account/confirm_email"), "/account/confirm_email").submit(
        status=303
    )
    deliver_mail(app)


def _undo_link(smtp_server) -> str:
    [told] = [m for m in smtp_server.mailbox.to(OWNER) if "changed" in m.message["Subject"]]
    assert "/account/undo_email_change/" in told.text and "7 days" in told.text
    return told.link_code


def _address(app, account_id: int) -> str:
    with db(app) as session:
        return session.get(Account, account_id).email


def test_the_old_address_takes_the_account_back(wsgi_app, smtp_server):
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    intruder = new_client(wsgi_app)
    sign_in(intruder, OWNER, STRONG_PASSWORD)
    _change_address(wsgi_app, smtp_server, intruder)
    assert _address(wsgi_app, account_id) == MOVED
    code = _undo_link(smtp_server)

    owner = new_client(wsgi_app)
    # Opening the link (or a mail scanner fetching it) changes nothing.
    opened = owner.get(f"/account/undo_email_change/{code}", status=303)
    assert urlsplit(opened.location).path == "/account/undo_email_change"
    page = owner.get("/account/undo_email_change")
    assert OWNER in page.text and _address(wsgi_app, account_id) == MOVED
    assert is_signed_in(intruder)

    done = form_by_action(page, "/account/undo_email_change").submit(status=200)
    assert "Your address is back" in done.text
    assert _address(wsgi_app, account_id) == OWNER
    assert not is_signed_in(intruder)
    # The password the intruder knew no longer works, at either address.
    sign_in(new_client(wsgi_app), OWNER, STRONG_PASSWORD, status=400)
    sign_in(new_client(wsgi_app), MOVED, STRONG_PASSWORD, status=400)
    deliver_mail(wsgi_app)
    resets = [m for m in smtp_server.mailbox.to(OWNER) if "/account/reset_password/" in m.text]
    assert len(resets) == 1
    assert [
        e.details["factors_removed"] for e in recorded_events(wsgi_app, "email_change_undone")
    ] == [0]
    # The link works once.
    owner.get(f"/account/undo_email_change/{code}", status=400)


def test_the_undo_link_lasts_seven_days(wsgi_app, smtp_server, clock):
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, OWNER, STRONG_PASSWORD)
    _change_address(wsgi_app, smtp_server, client)
    code = _undo_link(smtp_server)
    clock.advance(days=7, minutes=1)
    expired = new_client(wsgi_app).get(f"/account/undo_email_change/{code}", status=400)
    assert "expired" in expired.text
    assert _address(wsgi_app, account_id) == MOVED


def test_an_old_address_taken_meanwhile_is_said_and_nothing_changes(wsgi_app, smtp_server):
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, OWNER, STRONG_PASSWORD)
    _change_address(wsgi_app, smtp_server, client)
    code = _undo_link(smtp_server)
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)  # the old address, registered again
    owner = new_client(wsgi_app)
    owner.get(f"/account/undo_email_change/{code}", status=303)
    page = owner.get("/account/undo_email_change")
    refused = form_by_action(page, "/account/undo_email_change").submit(status=409)
    assert "Another account has that address" in refused.text
    assert _address(wsgi_app, account_id) == MOVED
    assert is_signed_in(client)
    sign_in(new_client(wsgi_app), MOVED, STRONG_PASSWORD)


def test_what_was_added_since_the_change_goes_with_the_undo(wsgi_app, smtp_server, clock):
    from tests.functional.flows import set_up_totp

    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    intruder = new_client(wsgi_app)
    sign_in(intruder, OWNER, STRONG_PASSWORD)
    _change_address(wsgi_app, smtp_server, intruder)
    clock.advance(minutes=1)
    set_up_totp(intruder, clock)
    code = _undo_link(smtp_server)
    owner = new_client(wsgi_app)
    owner.get(f"/account/undo_email_change/{code}", status=303)
    form_by_action(owner.get("/account/undo_email_change"), "/account/undo_email_change").submit(
        status=200
    )
    with db(wsgi_app) as session:
        account = session.get(Account, account_id)
        assert account.totp_secret is None and account.email == OWNER
    [undone] = recorded_events(wsgi_app, "email_change_undone")
    assert undone.details["factors_removed"] == 1


def test_a_forged_or_unknown_undo_code_changes_nothing(wsgi_app):
    client = new_client(wsgi_app)
    client.get("/account/undo_email_change/not-a-real-code", status=400)
    client.get("/account/undo_email_change", status=400)
    token = client.get("/account/signin").html.find("input", {"name": "csrf_token"})["value"]
    client.post("/account/undo_email_change", {"csrf_token": token}, status=400)
    with db(wsgi_app) as session:
        assert session.scalars(select(Account)).all() == []


def _undo(app, code: str, status: int = 200):
    client = new_client(app)
    client.get(f"/account/undo_email_change/{code}", status=303)
    page = client.get("/account/undo_email_change")
    return form_by_action(page, "/account/undo_email_change").submit(status=status)


def test_the_owners_undo_link_outlives_whatever_the_intruder_does_next(wsgi_app, smtp_server):
    """Another change of address, a reset of the password, even the undo link of the
    intruder's own address: the owner's link still puts the owner's address back, and
    then the intruder's links are spent."""
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    intruder = new_client(wsgi_app)
    sign_in(intruder, OWNER, STRONG_PASSWORD)
    _change_address(wsgi_app, smtp_server, intruder)  # owner -> intruder's first address
    owners = _undo_link(smtp_server)
    _change_address(wsgi_app, smtp_server, intruder, "second@evil.example")
    [moved_again] = [m for m in smtp_server.mailbox.to(MOVED) if "changed" in m.message["Subject"]]
    intruders = moved_again.link_code
    # The intruder takes the account back to its first address with its own undo link.
    _undo(wsgi_app, intruders)
    assert _address(wsgi_app, account_id) == MOVED
    # The owner's link still works, and wins.
    _undo(wsgi_app, owners)
    assert _address(wsgi_app, account_id) == OWNER
    assert not is_signed_in(intruder)


def test_after_the_owners_undo_the_intruders_undo_links_are_spent(wsgi_app, smtp_server):
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    intruder = new_client(wsgi_app)
    sign_in(intruder, OWNER, STRONG_PASSWORD)
    _change_address(wsgi_app, smtp_server, intruder)
    owners = _undo_link(smtp_server)
    _change_address(wsgi_app, smtp_server, intruder, "second@evil.example")
    [moved_again] = [m for m in smtp_server.mailbox.to(MOVED) if "changed" in m.message["Subject"]]
    _undo(wsgi_app, owners)
    new_client(wsgi_app).get(f"/account/undo_email_change/{moved_again.link_code}", status=400)
    assert _address(wsgi_app, account_id) == OWNER
