"""Confirmed email addresses (docs/security.md 33-35): registration that reveals
nothing, confirmation that needs the registrant's password, and changing the address."""

from __future__ import annotations

import statistics
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Account, LoginSession
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    confirm_email,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    is_signed_in,
    open_link,
    register,
    register_and_confirm,
    sign_in,
)
from tests.support import UNLIMITED_RATES, comparable, form_by_action

ALICE = "alice@example.com"
NEWCOMER = "newcomer@example.com"
VICTIM = "victim@example.com"
ATTACKERS_PASSWORD = "attacker picked this one 77"


# Item 33: registration answers the same for new and existing addresses


def test_registering_a_new_and_an_existing_address_gives_identical_answers(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    answers = [
        comparable(register(new_client(wsgi_app), email, OTHER_PASSWORD), email)
        for email in (ALICE, NEWCOMER)
    ]
    assert answers[0] == answers[1]
    deliver_mail(wsgi_app)
    [owner_told] = smtp_server.mailbox.to(ALICE)
    [newcomer_link] = smtp_server.mailbox.to(NEWCOMER)
    assert owner_told.message["Subject"] == "Someone tried to register with your address"
    assert owner_told.link_code is None
    assert "/account/forgot_password" in owner_told.text
    assert newcomer_link.message["Subject"] == "Confirm your email address"
    assert newcomer_link.link_code
    # Nothing changed on the existing account.
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)


def test_registering_a_new_and_an_existing_address_take_the_same_time(
    make_app, app_settings, owasp_hasher
):
    """Medians of 50 interleaved registrations each differ by less than 10 ms: the
    existing-address path does the same policy check and hashing (OWASP's argon2
    parameters, so that a missing hash would show)."""
    wsgi_app = make_app({**app_settings, **UNLIMITED_RATES}, password_hasher=owasp_hasher)
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    token = form_by_action(client.get("/account/register"), "/account/register")["csrf_token"].value
    timings: dict[str, list[float]] = {"existing": [], "new": []}
    for n in range(50):
        for kind, email in (("existing", ALICE), ("new", f"new{n}@example.com")):
            fields = {
                "csrf_token": token,
                "email": email,
                "password": OTHER_PASSWORD,
                "confirm_password": OTHER_PASSWORD,
            }
            started = time.perf_counter()
            client.post("/account/register", fields, status=303)
            timings[kind].append(time.perf_counter() - started)
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    assert abs(medians["existing"] - medians["new"]) * 1000 < 10, medians


# An unconfirmed account


def test_an_unconfirmed_account_gets_no_session_and_a_new_link(wsgi_app, smtp_server):
    client = new_client(wsgi_app)
    register(client, NEWCOMER, STRONG_PASSWORD)
    page = sign_in(client, NEWCOMER, STRONG_PASSWORD, status=200)
    assert "Confirm your email address first" in page.text
    assert not is_signed_in(client)
    with db(wsgi_app) as session:
        assert session.scalars(select(LoginSession)).all() == []
    deliver_mail(wsgi_app)
    assert len(smtp_server.mailbox.to(NEWCOMER)) == 2  # the first link, and a new one
    # A wrong password says what it always says.
    wrong = sign_in(new_client(wsgi_app), NEWCOMER, "not the password", status=400)
    assert "Email or password is incorrect." in wrong.text


def test_new_links_for_an_unconfirmed_account_are_limited(wsgi_app, smtp_server):
    register(new_client(wsgi_app), NEWCOMER, STRONG_PASSWORD)
    for _ in range(6):
        sign_in(new_client(wsgi_app), NEWCOMER, STRONG_PASSWORD, status=200)
    deliver_mail(wsgi_app)
    assert len(smtp_server.mailbox.to(NEWCOMER)) == 1 + 3


def test_confirming_needs_the_password_chosen_at_registration(wsgi_app, smtp_server):
    client = new_client(wsgi_app)
    register(client, NEWCOMER, STRONG_PASSWORD)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(NEWCOMER)[0].link_code
    refused = confirm_email(client, code, OTHER_PASSWORD, status=400)
    assert "registered with" in refused.text
    assert not is_signed_in(client)
    done = confirm_email(client, code, STRONG_PASSWORD)
    assert urlsplit(done.location).path == "/account"
    assert is_signed_in(client)
    # The link works once.
    client.get(f"/account/verify_email/{code}", status=400)


def test_opening_a_confirmation_link_changes_nothing(wsgi_app, smtp_server):
    register(new_client(wsgi_app), NEWCOMER, STRONG_PASSWORD)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(NEWCOMER)[0].link_code
    scanner = new_client(wsgi_app)
    moved = scanner.get(f"/account/verify_email/{code}", status=303)
    assert code not in moved.location
    with db(wsgi_app) as session:
        assert session.scalars(select(Account.email_verified_at)).one() is None


def test_without_the_requirement_an_unconfirmed_account_signs_in(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "accounts.require_verified_email": "false"})
    client = new_client(wsgi_app)
    register(client, NEWCOMER, STRONG_PASSWORD)
    sign_in(client, NEWCOMER, STRONG_PASSWORD, status=303)


# Item 34: pre-account takeover


def test_an_account_registered_in_someone_elses_name_never_works_for_the_registrant(
    wsgi_app, smtp_server
):
    attacker = new_client(wsgi_app)
    register(attacker, VICTIM, ATTACKERS_PASSWORD)
    # The victim opens the link from the email: confirming needs the attacker's password.
    deliver_mail(wsgi_app)
    victim = new_client(wsgi_app)
    code = smtp_server.mailbox.to(VICTIM)[0].link_code
    confirm_email(victim, code, STRONG_PASSWORD, status=400)
    # The attacker's password opens nothing while the address is unconfirmed...
    sign_in(attacker, VICTIM, ATTACKERS_PASSWORD, status=200)
    assert not is_signed_in(attacker)
    # ...and once the victim takes the account over with a reset, it never will.
    forgot_password(victim, VICTIM)
    deliver_mail(wsgi_app)
    open_link(victim, smtp_server.mailbox.to(VICTIM)[-1].link_code)
    form = form_by_action(victim.get("/account/reset_password"), "/account/reset_password")
    form["password"] = form["confirm_password"] = STRONG_PASSWORD
    form.submit(status=200)
    sign_in(attacker, VICTIM, ATTACKERS_PASSWORD, status=400)
    sign_in(victim, VICTIM, STRONG_PASSWORD, status=303)


# Item 35: changing the email


def _ask_for_change(client, current_password: str, new_email: str, status=303):
    form = form_by_action(client.get("/account/change_email"), "/account/change_email")
    form["current_password"] = current_password
    form["new_email"] = new_email
    return form.submit(status=status)


def test_changing_the_email_end_to_end(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop, phone = new_client(wsgi_app), new_client(wsgi_app)
    sign_in(laptop, ALICE, STRONG_PASSWORD)
    sign_in(phone, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), ALICE)  # a reset link asked for earlier
    _ask_for_change(laptop, STRONG_PASSWORD, "alice@new.example")
    deliver_mail(wsgi_app)
    old_reset = smtp_server.mailbox.to(ALICE)[0].link_code
    [link] = smtp_server.mailbox.to("alice@new.example")
    # Nothing changes until the new address confirms.
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)

    laptop.get(f"/account/confirm_email/{link.link_code}", status=303)
    page = laptop.get("/account/confirm_email")
    assert "alice@new.example" in page.text
    form_by_action(page, "/account/confirm_email").submit(status=303)

    assert "alice@new.example" in laptop.get("/account").text
    assert not is_signed_in(phone)
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD, status=400)
    sign_in(new_client(wsgi_app), "alice@new.example", STRONG_PASSWORD)
    open_link(new_client(wsgi_app), old_reset, status=400)
    deliver_mail(wsgi_app)
    [told] = [m for m in smtp_server.mailbox.to(ALICE) if "changed" in m.message["Subject"]]
    assert "a***@new.example" in told.text
    assert "alice@new.example" not in told.text


def test_asking_for_a_taken_address_answers_the_same_and_changes_nothing(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, "bob@example.com", OTHER_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    taken = _ask_for_change(client, STRONG_PASSWORD, "bob@example.com")
    free = _ask_for_change(client, STRONG_PASSWORD, "alice@free.example")
    assert taken.status_int == free.status_int == 303
    assert taken.location == free.location
    deliver_mail(wsgi_app)
    [bob_told] = smtp_server.mailbox.to("bob@example.com")
    assert bob_told.link_code is None
    assert bob_told.message["Subject"] == "Someone tried to use your address"
    with db(wsgi_app) as session:
        assert set(session.scalars(select(Account.email))) == {ALICE, "bob@example.com"}


def test_changing_the_email_needs_the_current_password(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    refused = _ask_for_change(client, OTHER_PASSWORD, "alice@new.example", status=400)
    assert "current password is not correct" in refused.text
    deliver_mail(wsgi_app)
    assert smtp_server.mailbox.to("alice@new.example") == []


def test_two_accounts_moving_to_one_address_one_wins_the_other_is_told(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, "bob@example.com", OTHER_PASSWORD)
    alice, bob = new_client(wsgi_app), new_client(wsgi_app)
    sign_in(alice, ALICE, STRONG_PASSWORD)
    sign_in(bob, "bob@example.com", OTHER_PASSWORD)
    _ask_for_change(alice, STRONG_PASSWORD, "shared@example.com")
    _ask_for_change(bob, OTHER_PASSWORD, "shared@example.com")
    deliver_mail(wsgi_app)
    first, second = (m.link_code for m in smtp_server.mailbox.to("shared@example.com"))
    for client, code in ((alice, first), (bob, second)):
        client.get(f"/account/confirm_email/{code}", status=303)
    pages = [
        form_by_action(c.get("/account/confirm_email"), "/account/confirm_email").submit(status="*")
        for c in (alice, bob)
    ]
    assert [p.status_int for p in pages] == [303, 400]
    assert "taken by another account" in pages[1].text
    with db(wsgi_app) as session:
        assert set(session.scalars(select(Account.email))) == {
            "shared@example.com",
            "bob@example.com",
        }


# The seed's walk-through, now with the confirmation step


@pytest.mark.parametrize("password", [STRONG_PASSWORD])
def test_register_confirm_reset_and_sign_in_with_the_new_password(wsgi_app, smtp_server, password):
    client = new_client(wsgi_app)
    register_and_confirm(client, wsgi_app, smtp_server.mailbox, NEWCOMER, password)
    assert is_signed_in(client)
    forgot_password(new_client(wsgi_app), NEWCOMER)
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.to(NEWCOMER)[-1].link_code)
    form = form_by_action(client.get("/account/reset_password"), "/account/reset_password")
    form["password"] = form["confirm_password"] = OTHER_PASSWORD
    assert "please sign in" in form.submit(status=200).text
    sign_in(client, NEWCOMER, password, status=400)
    sign_in(client, NEWCOMER, OTHER_PASSWORD, status=303)


def test_the_confirmation_code_leaves_the_session_once_the_address_is_confirmed(
    wsgi_app, smtp_server
):
    client = new_client(wsgi_app)
    register(client, NEWCOMER, STRONG_PASSWORD)
    deliver_mail(wsgi_app)
    [link] = smtp_server.mailbox.to(NEWCOMER)
    confirm_email(client, link.link_code, STRONG_PASSWORD)
    # No code is left in this browser's session, only the note that it used its link,
    # so that a form still open in another tab says so (not that the link expired).
    page = client.get("/account/verify_email", status=400)
    assert "already been used" in page.text and "expired" not in page.text
