"""Changing the password, the device list, and when a session stops working."""

from __future__ import annotations

from urllib.parse import urlsplit

from passlib.hash import pbkdf2_sha256
from sqlalchemy import select, update

from app.models import Account, LoginSession
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    change_password,
    choose_password,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    sign_in,
)
from tests.support import form_by_action

ALICE = "alice@example.com"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def _signed_in(wsgi_app, user_agent: str = FIREFOX, ip: str = "203.0.113.7"):
    client = new_client(wsgi_app, ip=ip)
    client.extra_environ["HTTP_USER_AGENT"] = user_agent
    sign_in(client, ALICE, STRONG_PASSWORD)
    return client


def _is_anonymous(client) -> bool:
    response = client.get("/account", expect_errors=True)
    return response.status_int == 303 and urlsplit(response.location).path == "/account/signin"


def test_changing_the_password_needs_the_current_one(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = _signed_in(wsgi_app)
    refused = change_password(client, "not my password at all", OTHER_PASSWORD, status=400)
    assert "current password is not correct" in refused.text
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)
    sign_in(new_client(wsgi_app), ALICE, OTHER_PASSWORD, status=400)


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _signed_in(wsgi_app)
    phone = _signed_in(wsgi_app, IPHONE, ip="198.51.100.20")
    change_password(laptop, STRONG_PASSWORD, OTHER_PASSWORD)
    assert laptop.get("/account").status_int == 200
    assert _is_anonymous(phone)
    sign_in(new_client(wsgi_app), ALICE, OTHER_PASSWORD)

    deliver_mail(wsgi_app)
    [notice] = smtp_server.mailbox.to(ALICE, about="password")
    assert notice.message["Subject"] == "Your password was changed"
    assert STRONG_PASSWORD not in notice.text and OTHER_PASSWORD not in notice.text


def test_a_password_change_spends_an_open_reset_code(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), ALICE)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code
    change_password(_signed_in(wsgi_app), STRONG_PASSWORD, OTHER_PASSWORD)
    assert "already been used" in open_link(new_client(wsgi_app), code, status=400).text


def test_a_reset_ends_every_session_of_the_account(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _signed_in(wsgi_app)
    phone = _signed_in(wsgi_app, IPHONE)
    stranger = new_client(wsgi_app)
    forgot_password(stranger, ALICE)
    deliver_mail(wsgi_app)
    open_link(stranger, smtp_server.mailbox.to(ALICE, about="Reset")[0].link_code)
    choose_password(stranger, OTHER_PASSWORD)
    assert _is_anonymous(laptop) and _is_anonymous(phone) and _is_anonymous(stranger)


def test_device_list_shows_each_browser_and_marks_this_one(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _signed_in(wsgi_app)
    _signed_in(wsgi_app, IPHONE, ip="198.51.100.20")
    page = laptop.get("/account/sessions")
    assert "Firefox 128 on Linux" in page.text
    assert "Safari 17 on iPhone" in page.text
    assert "198.51.100.20" in page.text
    assert page.text.count("This device") == 1
    row = page.html.find("tr", class_="current-device")
    assert "Firefox 128 on Linux" in row.text


def test_revoking_one_device_signs_only_that_one_out(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _signed_in(wsgi_app)
    phone = _signed_in(wsgi_app, IPHONE)
    with db(wsgi_app) as session:
        phone_id = session.scalars(
            select(LoginSession.id).where(LoginSession.user_agent == IPHONE)
        ).one()
    page = laptop.get("/account/sessions")
    form_by_action(page, f"/account/sessions/{phone_id}/revoke").submit(status=303)
    assert _is_anonymous(phone)
    assert laptop.get("/account").status_int == 200


def test_sign_out_everywhere_else_keeps_only_this_device(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _signed_in(wsgi_app)
    others = [_signed_in(wsgi_app, IPHONE) for _ in range(3)]
    page = laptop.get("/account/sessions")
    done = form_by_action(page, "/account/sessions/revoke_others").submit(status=303).follow()
    assert "3 other devices have been signed out." in done.text
    assert all(_is_anonymous(other) for other in others)
    assert laptop.get("/account").status_int == 200


def test_a_session_of_another_account_cannot_be_revoked(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, "bob@example.com", STRONG_PASSWORD)
    alice = _signed_in(wsgi_app)
    bob = new_client(wsgi_app)
    sign_in(bob, "bob@example.com", STRONG_PASSWORD)
    with db(wsgi_app) as session:
        bobs_id = session.scalars(
            select(LoginSession.id).join(Account).where(Account.email == "bob@example.com")
        ).one()
    token = alice.get("/account/sessions").html.find("input", {"name": "csrf_token"})["value"]
    alice.post(f"/account/sessions/{bobs_id}/revoke", {"csrf_token": token}, status=404)
    assert bob.get("/account").status_int == 200


def test_sessions_end_after_the_idle_and_the_absolute_lifetime(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    idle = _signed_in(wsgi_app)
    clock.advance(hours=24, seconds=1)
    assert _is_anonymous(idle)

    busy = _signed_in(wsgi_app)
    for _ in range(40):
        clock.advance(hours=23)
        if _is_anonymous(busy):
            break
    # Kept alive by use every 23 hours, yet ended once 30 days had passed.
    assert _is_anonymous(busy)
    with db(wsgi_app) as session:
        started = session.scalars(select(LoginSession.created_at).order_by(LoginSession.id)).all()
    lived = clock.now() - started[-1]
    assert 29 < lived.total_seconds() / 86400 <= 31


def test_a_disabled_account_is_signed_out_at_once(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = _signed_in(wsgi_app)
    with db(wsgi_app) as session, session.begin():
        session.execute(update(Account).values(is_disabled=True))
    assert _is_anonymous(client)
    refused = sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD, status=400)
    assert "This account is disabled" in refused.text


def test_an_old_pbkdf2_hash_is_upgraded_to_argon2id_at_sign_in(owasp_app):
    create_account(owasp_app, ALICE, STRONG_PASSWORD)
    with db(owasp_app) as session, session.begin():
        session.execute(update(Account).values(password_hash=pbkdf2_sha256.hash(STRONG_PASSWORD)))
    sign_in(new_client(owasp_app), ALICE, STRONG_PASSWORD)
    with db(owasp_app) as session:
        stored = session.scalars(select(Account.password_hash)).one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    sign_in(new_client(owasp_app), ALICE, STRONG_PASSWORD)


def test_account_page_shows_the_last_sign_in(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    _signed_in(wsgi_app, ip="198.51.100.77")
    page = _signed_in(wsgi_app).get("/account")
    facts = {
        dt.text.strip(): dd.text.split()
        for dt, dd in zip(page.html.find_all("dt"), page.html.find_all("dd"), strict=True)
    }
    # The latest of the two sign-ins is shown.
    assert facts["Last sign-in"][-1] == "203.0.113.7"
    assert facts["Sign-ins"] == ["2"]
