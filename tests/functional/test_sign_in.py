"""Registration, sign-in and sign-out through the whole app."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Account, LoginSession
from tests.conftest import BASE_URL, OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, deliver_mail, register, sign_in, sign_out
from tests.support import form_by_action

ALICE = "alice@example.com"


def test_sign_in_failures_say_the_same_for_unknown_emails_and_wrong_passwords(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    wrong_password = sign_in(new_client(wsgi_app), ALICE, "not the password at all", status=400)
    unknown_email = sign_in(new_client(wsgi_app), "bob@example.com", STRONG_PASSWORD, status=400)
    for response in (wrong_password, unknown_email):
        assert "Email or password is incorrect." in response.text


def test_sign_in_opens_the_account_page_and_counts_the_sign_in(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    response = sign_in(client, "  Alice@Example.COM ", STRONG_PASSWORD)
    assert urlsplit(response.location).path == "/account"
    page = client.get("/account")
    assert ALICE in page.text
    with db(wsgi_app) as session:
        account = session.scalars(select(Account)).one()
    assert account.login_count == 1
    assert account.last_login_ip == "203.0.113.7"
    assert account.last_login_at is not None


def test_account_page_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/account", status=303)
    location = urlsplit(response.location)
    assert location.path == "/account/signin"
    assert location.query == "came_from=%2Faccount"


def test_sign_in_returns_to_a_same_site_came_from(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    response = sign_in(client, ALICE, STRONG_PASSWORD, came_from="/account/sessions")
    assert urlsplit(response.location).path == "/account/sessions"


@pytest.mark.parametrize(
    "came_from",
    [
        "https://evil.test",
        "//evil.test",
        "/\\evil.test",
        "https:evil.test",
        "javascript:alert(1)",
        "/\tevil.test",
    ],
)
def test_sign_in_ignores_a_came_from_on_another_site(wsgi_app, came_from):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    page = client.get("/account/signin", params={"came_from": came_from})
    form = form_by_action(page, "/account/signin")
    form["email"] = ALICE
    form["password"] = STRONG_PASSWORD
    response = form.submit(status=303)
    location = urlsplit(response.location)
    assert location.netloc == urlsplit(BASE_URL).netloc
    assert location.path == "/account"


def test_sign_out_ends_the_session_on_the_server(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    stolen_cookie = client.cookies["auth"]
    sign_out(client)
    replay = new_client(wsgi_app)
    replay.set_cookie("auth", stolen_cookie)
    assert urlsplit(replay.get("/account", status=303).location).path == "/account/signin"
    with db(wsgi_app) as session:
        assert session.scalars(select(LoginSession)).one().revoked_at is not None


def test_sign_out_by_get_is_refused(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    response = client.get("/account/logout", status=405)
    assert response.headers["Allow"] == "POST"
    client.get("/account", status=200)


def test_session_cookie_is_httponly_samesite_and_random(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    response = sign_in(client, ALICE, STRONG_PASSWORD)
    [auth] = [h for h in response.headers.getall("Set-Cookie") if h.startswith("auth=")]
    attributes = [part.strip().lower() for part in auth.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert not any(part.startswith("domain=") for part in attributes)
    token = auth.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43


def test_a_token_planted_before_sign_in_is_not_used(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client.set_cookie("auth", "planted-by-an-attacker-0123456789abcdefghijklmnop")
    sign_in(client, ALICE, STRONG_PASSWORD)
    assert client.cookies["auth"] != "planted-by-an-attacker-0123456789abcdefghijklmnop"
    attacker = new_client(wsgi_app)
    attacker.set_cookie("auth", "planted-by-an-attacker-0123456789abcdefghijklmnop")
    attacker.get("/account", status=303)


def test_signing_in_again_in_the_same_browser_ends_the_session_it_had(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    first = client.cookies["auth"]

    sign_in(client, ALICE, STRONG_PASSWORD)

    assert client.cookies["auth"] != first
    with db(wsgi_app) as session:
        live = session.scalars(select(LoginSession).where(LoginSession.revoked_at.is_(None)))
        assert len(live.all()) == 1
    earlier = new_client(wsgi_app)
    earlier.set_cookie("auth", first)
    earlier.get("/account", status=303)  # the earlier token signs nobody in


def test_registration_stores_the_email_lower_cased_and_trimmed(wsgi_app, client):
    response = register(client, "  Carol@Example.COM ", STRONG_PASSWORD)
    assert urlsplit(response.location).path == "/account/verify_sent"
    with db(wsgi_app) as session:
        assert session.scalars(select(Account.email)).one() == "carol@example.com"


def test_registering_a_case_variant_of_an_existing_email_makes_no_second_account(
    wsgi_app, client, smtp_server
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    response = register(client, "Alice@Example.com", OTHER_PASSWORD)
    assert urlsplit(response.location).path == "/account/verify_sent"
    with db(wsgi_app) as session:
        assert session.scalars(select(Account.email)).all() == [ALICE]
    deliver_mail(wsgi_app)
    [told] = smtp_server.mailbox.to(ALICE)
    assert told.message["Subject"] == "Someone tried to register with your address"
    sign_in(new_client(wsgi_app), ALICE, OTHER_PASSWORD, status=400)


def test_registration_refuses_a_weak_password_with_the_reason(client):
    response = register(client, ALICE, "password1234", status=400)
    assert "common password" in response.text
    assert 'value="password1234"' not in response.text


def test_registration_refuses_mismatched_passwords(client):
    page = client.get("/account/register")
    form = form_by_action(page, "/account/register")
    form["email"] = ALICE
    form["password"] = STRONG_PASSWORD
    form["confirm_password"] = STRONG_PASSWORD + "!"
    assert "do not match" in form.submit(status=400).text


def test_registration_can_be_turned_off(make_app, app_settings):
    closed = make_app({**app_settings, "accounts.allow_registration": "false"})
    client = new_client(closed)
    client.get("/account/register", status=404)
    assert "/account/register" not in client.get("/").text


def test_forms_state_the_configured_minimum_length(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "accounts.password_min_length": "15"})
    client = new_client(wsgi_app)
    assert "At least 15 characters" in client.get("/account/register").text
    create_account(wsgi_app, "alice@example.com", STRONG_PASSWORD)
    sign_in(client, "alice@example.com", STRONG_PASSWORD)
    assert "At least 15 characters" in client.get("/account/change_password").text


def test_an_active_user_is_not_signed_out_by_a_short_idle_limit(make_app, app_settings, clock):
    """With sessions.idle_minutes = 1, last_seen_at must be written more often than once a
    minute, or a user clicking every 40 seconds would be taken for an idle one."""
    wsgi_app = make_app({**app_settings, "sessions.idle_minutes": "1"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    for _ in range(5):
        clock.advance(seconds=40)
        client.get("/account", status=200)
    clock.advance(seconds=61)
    client.get("/account", status=303)
