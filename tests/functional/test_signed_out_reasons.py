"""Someone whose session ended is told why on the sign-in page it sends them to, once:
a device signed out from another one (or by a password change), an account an
administrator disabled or that is being deleted, a session that ran out; a browser that
was never signed in is told nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Account, LoginSession
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, sign_in
from tests.support import form_by_action

ALICE = "alice@example.com"


def _sent_to_sign_in(client) -> str:
    """What the sign-in page says to a client that opens its account page."""
    answer = client.get("/account", status=303)
    assert urlsplit(answer.location).path == "/account/signin"
    return answer.follow().text


def _signed_in(app) -> object:
    create_account(app, ALICE, STRONG_PASSWORD)
    client = new_client(app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    return client


def test_a_device_signed_out_from_another_is_told_so_once(wsgi_app):
    laptop = _signed_in(wsgi_app)
    phone = new_client(wsgi_app, ip="198.51.100.3")
    sign_in(phone, ALICE, STRONG_PASSWORD)
    page = phone.get("/account/sessions")
    form_by_action(page, "/account/sessions/revoke_others").submit(status=303)
    assert "signed out from another one" in _sent_to_sign_in(laptop)
    # Told once: the cookie went with the redirect.
    assert "signed out from another one" not in _sent_to_sign_in(laptop)


def test_an_account_disabled_by_an_administrator_is_told_so(wsgi_app):
    client = _signed_in(wsgi_app)
    with db(wsgi_app) as session, session.begin():
        session.scalars(select(Account)).one().is_disabled = True
    assert "an administrator disabled this account" in _sent_to_sign_in(client)


def test_an_account_being_deleted_is_told_so(wsgi_app):
    client = _signed_in(wsgi_app)
    with db(wsgi_app) as session, session.begin():
        account = session.scalars(select(Account)).one()
        account.deletion_requested_at = session.scalars(select(LoginSession.created_at)).one()
    assert "this account is being deleted" in _sent_to_sign_in(client)


def test_a_session_that_ran_out_is_told_so(wsgi_app, clock):
    client = _signed_in(wsgi_app)
    clock.advance(hours=25)
    assert "after a while without using the site" in _sent_to_sign_in(client)


def test_a_browser_never_signed_in_or_with_a_made_up_cookie_is_told_nothing(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    text = _sent_to_sign_in(client)
    assert "You were signed out" not in text
    client.set_cookie("auth", "made-up")
    assert "You were signed out" not in _sent_to_sign_in(client)
