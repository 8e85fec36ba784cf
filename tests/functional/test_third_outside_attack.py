"""The third outside attack, each proof replayed against the app (docs/security.md
53-60): what it got must now be refused, and never with a 5xx."""

from __future__ import annotations

from pyramid.config import Configurator
from sqlalchemy import select

from app.models import Account, LoginSession
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import (
    confirm_email,
    create_account,
    db,
    deliver_mail,
    is_signed_in,
    register,
    set_up_totp,
    sign_in,
)
from tests.support import form_by_action

ALICE = "alice@example.com"
INTRUDERS = "intruder@evil.example"


# 53: a confirmation link never stands in for the second factor


def test_a_second_confirmation_link_is_spent_when_the_address_is_confirmed(
    wsgi_app, smtp_server, clock
):
    owner = new_client(wsgi_app)
    register(owner, ALICE, STRONG_PASSWORD)
    # Signing in before confirming mails a second link.
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD, status=200)
    deliver_mail(wsgi_app)
    first, second = [m.link_code for m in smtp_server.mailbox.to(ALICE)]
    assert first and second and first != second
    confirm_email(owner, first, STRONG_PASSWORD)
    set_up_totp(owner, clock)

    intruder = new_client(wsgi_app)
    opened = intruder.get(f"/account/verify_email/{second}", status=400)
    assert "already been used" in opened.text
    # Nor can its form be posted with the password.
    intruder.get("/account/verify_email", status=400)
    assert not is_signed_in(intruder)


def test_a_session_started_by_a_confirmation_ends_with_the_browser(wsgi_app, smtp_server):
    """Nobody ticked "remember me" on the confirmation page."""
    client = new_client(wsgi_app)
    register(client, ALICE, STRONG_PASSWORD)
    deliver_mail(wsgi_app)
    [link] = [m.link_code for m in smtp_server.mailbox.to(ALICE)]
    done = confirm_email(client, link, STRONG_PASSWORD)
    auth = [h for k, h in done.headerlist if k == "Set-Cookie" and h.startswith("auth")]
    assert auth and "Max-Age" not in auth[0] and "expires" not in auth[0].lower()
    with db(wsgi_app) as session:
        assert session.scalars(select(LoginSession.sign_in_method)).one() == "password"


# 54: "this wasn't me" never helps whoever took the address


def test_an_intruders_change_of_address_spends_the_owners_not_me_links(wsgi_app, smtp_server):
    """The intruder signs in (the owner is emailed a "this wasn't me" link), moves the
    account to an address of the intruder's and confirms it. The owner's report must not
    then mail a reset link to the intruder's address, nor say it mailed the owner."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(new_client(wsgi_app, ip="203.0.113.7"), ALICE, STRONG_PASSWORD)
    intruder = new_client(wsgi_app, ip="198.51.100.66")
    intruder.extra_environ["HTTP_USER_AGENT"] = "Intruder/1.0"
    sign_in(intruder, ALICE, STRONG_PASSWORD)
    form = form_by_action(intruder.get("/account/change_email"), "/account/change_email")
    form["current_password"] = STRONG_PASSWORD
    form["new_email"] = INTRUDERS
    form.submit(status=303)
    deliver_mail(wsgi_app)
    [not_me] = smtp_server.mailbox.to(ALICE, about="A new sign-in")
    [move] = smtp_server.mailbox.to(INTRUDERS)
    intruder.get(f"/account/confirm_email/{move.link_code}", status=303)
    form_by_action(intruder.get("/account/confirm_email"), "/account/confirm_email").submit(
        status=303
    )
    deliver_mail(wsgi_app)
    [told] = smtp_server.mailbox.to(ALICE, about="Your email address was changed")

    owner = new_client(wsgi_app, ip="203.0.113.7")
    opened = owner.get(f"/account/not_me/{not_me.link_code}", status=400)
    assert "already been used" in opened.text
    owner.get("/account/not_me", status=400)
    deliver_mail(wsgi_app)
    assert smtp_server.mailbox.to(INTRUDERS, about="Reset your password") == []
    # The old address is told instead, with a link of its own that undoes the change.
    assert "/account/undo_email_change/" in told.text


# 58: the error page stands on its own


def test_the_error_page_is_shown_after_a_broken_transaction_even_signed_in(make_app, app_settings):
    """A failed flush leaves the request's database session unusable; the 500 page must
    still be the app's own page, not the server's bare answer."""
    wsgi_app = make_app(app_settings)

    def breaks_its_transaction(request):
        for _ in range(2):
            request.dbsession.add(Account(email="twice@example.com", login_count=0))
        request.dbsession.flush()

    config = Configurator(registry=wsgi_app.registry)
    config.add_route("test.broken", "/test/broken")
    config.add_view(breaks_its_transaction, route_name="test.broken")
    config.commit()
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)

    page = client.get("/test/broken", status=500)

    assert "Something went wrong" in page.text
    assert "The page could not be shown" in page.text
    assert is_signed_in(client)


def test_the_confirmation_and_reauthentication_pages_name_the_account(wsgi_app, smtp_server):
    client = new_client(wsgi_app)
    register(client, ALICE, STRONG_PASSWORD)
    deliver_mail(wsgi_app)
    [link] = [m.link_code for m in smtp_server.mailbox.to(ALICE)]
    client.get(f"/account/verify_email/{link}", status=303)
    page = client.get("/account/verify_email")
    assert page.html.find("input", attrs={"name": "username"})["value"] == ALICE
    assert ALICE in page.html.find("strong").get_text()
    confirm_email(client, link, STRONG_PASSWORD)
    asked = client.get("/account/reauthenticate")
    assert asked.html.find("input", attrs={"name": "username"})["value"] == ALICE
