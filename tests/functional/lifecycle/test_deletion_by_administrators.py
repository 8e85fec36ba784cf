"""docs/security.md 71, for administrators: deleting someone else's account is confirmed
on a page of its own, needs a recent sign-in like every admin action, and erases at once
(no grace period, no restore link): the owner's sessions stop, the goodbye says an
administrator did it, and the account leaves the list. An administrator's own account is
deleted from its account page only; someone who is no administrator cannot do it at all.
An account in its grace period shows as "Being deleted" and has a filter of its own."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Account, AccountEvent, OutgoingEmail
from app.services.kernel import audit as events
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, THIRD_PASSWORD, new_client
from tests.functional.conftest import ADMIN
from tests.functional.flows import (
    create_account,
    db,
    deliver_mail,
    is_signed_in,
    recorded_events,
    sign_in,
)
from tests.support import form_by_action

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"


def _id(app, email: str) -> int:
    with db(app) as session:
        return session.scalars(select(Account.id).where(Account.email == email)).one()


def _emails(app) -> list[str]:
    with db(app) as session:
        return list(session.scalars(select(Account.email).order_by(Account.id)))


def _confirmation(admin, account_id: int):
    """The account's admin page, then its Delete... button: the confirmation page."""
    page = admin.get(f"/admin/accounts/{account_id}")
    return page.click(href=f"/admin/accounts/{account_id}/delete")


def _csrf(client) -> str:
    return client.get("/account").html.find("input", {"name": "csrf_token"})["value"]


def _make_admin(app, email: str) -> None:
    with db(app) as session, session.begin():
        session.scalars(select(Account).where(Account.email == email)).one().is_admin = True


def test_an_administrator_erases_an_account_at_once_and_its_owner_is_told(
    admin_app, admin, smtp_server
):
    alice_id = create_account(admin_app, ALICE, STRONG_PASSWORD)
    alice = new_client(admin_app, ip="198.51.100.31")
    sign_in(alice, ALICE, STRONG_PASSWORD)
    assert ALICE in admin.get("/admin/accounts").text

    page = _confirmation(admin, alice_id)
    assert "This cannot be undone" in page.text
    # Looking at the confirmation page changes nothing.
    assert _emails(admin_app) == [ADMIN, ALICE] and is_signed_in(alice)
    done = form_by_action(page, f"/admin/accounts/{alice_id}/delete").submit(status=303)
    assert urlsplit(done.location).path == "/admin/accounts"
    listed = done.follow()
    assert f"{ALICE} is deleted, and has been told." in listed.text
    assert ALICE not in listed.text.replace(f"{ALICE} is deleted", "")
    assert ALICE not in admin.get("/admin/accounts").text
    admin.get(f"/admin/accounts/{alice_id}", status=404)

    assert _emails(admin_app) == [ADMIN]
    assert not is_signed_in(alice)
    sign_in(new_client(admin_app), ALICE, STRONG_PASSWORD, status=400)
    [erased] = recorded_events(admin_app, events.ACCOUNT_ERASED)
    assert (erased.account_id, erased.actor_id) == (None, _id(admin_app, ADMIN))
    with db(admin_app) as session:
        kept = session.scalars(select(AccountEvent)).all()
    # Alice's events stay, naming no one, without where she signed in from.
    hers = [e for e in kept if e.account_id != erased.actor_id]
    assert events.SIGN_IN in {e.kind for e in hers}
    assert all(e.account_id is None and e.ip != "198.51.100.31" for e in hers)

    deliver_mail(admin_app)
    [goodbye] = smtp_server.mailbox.to(ALICE, about="has been deleted")
    assert "An administrator deleted" in goodbye.text and ALICE in goodbye.text
    # No grace period, so no restore link.
    assert smtp_server.mailbox.to(ALICE, about="will be deleted") == []
    assert goodbye.link_code is None
    with db(admin_app) as session:
        assert (
            session.scalars(select(OutgoingEmail).where(OutgoingEmail.recipient == ALICE)).all()
            == []
        )
    # The address is free for a new account.
    create_account(admin_app, ALICE, OTHER_PASSWORD)


def test_an_administrator_cannot_delete_its_own_account_from_the_admin_pages(admin_app, admin):
    admin_id = _id(admin_app, ADMIN)
    page = admin.get(f"/admin/accounts/{admin_id}")
    assert page.html.find(id="admin-delete-start") is None
    confirm = admin.get(f"/admin/accounts/{admin_id}/delete")
    assert "Delete your own account from your account page." in confirm.text
    assert confirm.html.find(id="admin-delete") is None
    # Posted anyway: refused with a message, nothing changed.
    refused = admin.post(
        f"/admin/accounts/{admin_id}/delete", {"csrf_token": _csrf(admin)}, status=303
    )
    assert urlsplit(refused.location).path == f"/admin/accounts/{admin_id}"
    assert "Delete your own account from your account page." in refused.follow().text
    assert _emails(admin_app) == [ADMIN]
    assert recorded_events(admin_app, events.ACCOUNT_ERASED) == []
    assert is_signed_in(admin)


def test_someone_who_is_no_administrator_cannot_delete_an_account(admin_app):
    create_account(admin_app, ALICE, STRONG_PASSWORD)
    bob_id = create_account(admin_app, BOB, OTHER_PASSWORD)
    alice = new_client(admin_app)
    sign_in(alice, ALICE, STRONG_PASSWORD)
    assert "Not allowed" in alice.get(f"/admin/accounts/{bob_id}/delete", status=403).text
    alice.post(f"/admin/accounts/{bob_id}/delete", {"csrf_token": _csrf(alice)}, status=403)
    anonymous = new_client(admin_app)
    asked = anonymous.get(f"/admin/accounts/{bob_id}/delete", status=303)
    assert urlsplit(asked.location).path == "/account/signin"
    posted = anonymous.post(f"/admin/accounts/{bob_id}/delete", {}, status=303)
    assert urlsplit(posted.location).path == "/account/signin"
    assert _emails(admin_app) == [ADMIN, ALICE, BOB]
    assert recorded_events(admin_app, events.ACCOUNT_ERASED) == []


def test_an_administrators_deletion_needs_a_recent_sign_in(admin_app, admin, clock):
    alice_id = create_account(admin_app, ALICE, STRONG_PASSWORD)
    page = _confirmation(admin, alice_id)
    form = form_by_action(page, f"/admin/accounts/{alice_id}/delete")
    clock.advance(minutes=16)

    asked = form.submit(status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    again = admin.get(f"/admin/accounts/{alice_id}/delete", status=303)
    assert urlsplit(again.location).path == "/account/reauthenticate"
    assert _emails(admin_app) == [ADMIN, ALICE]
    assert recorded_events(admin_app, events.ACCOUNT_ERASED) == []

    proof = form_by_action(admin.get(asked.location), "/account/reauthenticate")
    proof["password"] = STRONG_PASSWORD
    proof.submit(status=303)
    form_by_action(_confirmation(admin, alice_id), f"/admin/accounts/{alice_id}/delete").submit(
        status=303
    )
    assert _emails(admin_app) == [ADMIN]


def test_an_administrator_deletes_another_administrator(admin_app, admin, smtp_server):
    """Bob, an administrator, disabled Carol; deleting Bob keeps that in Carol's trail,
    without Bob's address or origin, and the site keeps its other administrator."""
    create_account(admin_app, BOB, OTHER_PASSWORD)
    _make_admin(admin_app, BOB)
    carol_id = create_account(admin_app, CAROL, THIRD_PASSWORD)
    bob = new_client(admin_app, ip="198.51.100.42")
    sign_in(bob, BOB, OTHER_PASSWORD)
    page = bob.get(f"/admin/accounts/{carol_id}").click(href=f"/admin/accounts/{carol_id}/disable")
    form_by_action(page, f"/admin/accounts/{carol_id}/disable").submit(status=303)
    bob_id = _id(admin_app, BOB)

    form_by_action(_confirmation(admin, bob_id), f"/admin/accounts/{bob_id}/delete").submit(
        status=303
    )
    assert _emails(admin_app) == [ADMIN, CAROL]
    assert not is_signed_in(bob)
    bob.get("/admin/accounts", status=303)
    with db(admin_app) as session:
        assert session.scalars(select(Account).where(Account.email == ADMIN)).one().is_admin
        [disabled] = session.scalars(
            select(AccountEvent).where(AccountEvent.kind == events.ADMIN_DISABLED)
        ).all()
    assert disabled.account_id == carol_id
    assert (disabled.actor_id, disabled.ip, disabled.user_agent) == (None, None, None)
    carols_page = admin.get(f"/admin/accounts/{carol_id}").text
    assert "198.51.100.42" not in carols_page
    assert "a deleted administrator" in carols_page
    deliver_mail(admin_app)
    [goodbye] = smtp_server.mailbox.to(BOB, about="has been deleted")
    assert "An administrator deleted" in goodbye.text


def test_deleting_an_account_that_does_not_exist_is_not_found(admin_app, admin):
    alice_id = create_account(admin_app, ALICE, STRONG_PASSWORD)
    missing = alice_id + 1000
    admin.get(f"/admin/accounts/{missing}/delete", status=404)
    admin.post(f"/admin/accounts/{missing}/delete", {"csrf_token": _csrf(admin)}, status=404)
    # Deleted twice (a second tab): the second finds nothing.
    form = form_by_action(_confirmation(admin, alice_id), f"/admin/accounts/{alice_id}/delete")
    form.submit(status=303)
    form.submit(status=404)
    assert _emails(admin_app) == [ADMIN]
    assert len(recorded_events(admin_app, events.ACCOUNT_ERASED)) == 1


def test_an_account_in_its_grace_period_shows_as_being_deleted(admin_app, admin):
    alice_id = create_account(admin_app, ALICE, STRONG_PASSWORD)
    create_account(admin_app, BOB, OTHER_PASSWORD)
    alice = new_client(admin_app)
    sign_in(alice, ALICE, STRONG_PASSWORD)
    form_by_action(alice.get("/account/delete"), "/account/delete").submit(status=303)

    page = admin.get(f"/admin/accounts/{alice_id}")
    status = page.html.find("span", class_="status")
    assert status.get_text(strip=True) == "Being deleted"
    assert "status-deleting" in status["class"]
    assert "Deletion asked for" in page.text
    deleting = admin.get("/admin/accounts?status=deleting")
    rows = deleting.html.find("tbody").find_all("tr")
    assert [(r["data-status"], r.find("a").text) for r in rows] == [("deleting", ALICE)]
    active = admin.get("/admin/accounts?status=active").html.find("tbody").find_all("tr")
    assert sorted(r.find("a").text for r in active) == [ADMIN, BOB]
    # The administrator may still erase it before the grace period is over.
    form_by_action(_confirmation(admin, alice_id), f"/admin/accounts/{alice_id}/delete").submit(
        status=303
    )
    assert _emails(admin_app) == [ADMIN, BOB]
    assert admin.get("/admin/accounts?status=deleting").html.find("tbody") is None
