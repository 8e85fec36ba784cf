"""docs/security.md 45: a sign-in from a browser new to the account emails the owner,
with a "this wasn't me" link that, after a confirming POST, locks whoever it was out."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
from sqlalchemy import select

from app.models import Account, KnownDevice, LoginSession, WebAuthnCredential
from app.services.kernel import audit as events
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    choose_password,
    create_account,
    db,
    deliver_mail,
    invitation_code,
    is_signed_in,
    open_link,
    recorded_events,
    register_and_confirm,
    sign_in,
)
from tests.functional.passkey_flows import add_passkey, authenticator
from tests.support import form_by_action

ALICE = "alice@example.com"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
NEW_SIGN_IN = "A new sign-in"
INTRUDERS_PASSWORD = "intruder picked orchid barometer"


def _browser(wsgi_app, user_agent: str = FIREFOX, ip: str = "203.0.113.7"):
    client = new_client(wsgi_app, ip=ip)
    client.extra_environ["HTTP_USER_AGENT"] = user_agent
    return client


def _alerts(wsgi_app, smtp_server):
    deliver_mail(wsgi_app)
    return smtp_server.mailbox.to(ALICE, about=NEW_SIGN_IN)


def test_a_new_browser_gets_one_email_and_a_known_one_none(wsgi_app, smtp_server, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _browser(wsgi_app)
    sign_in(laptop, ALICE, STRONG_PASSWORD)
    assert _alerts(wsgi_app, smtp_server) == []  # the account's first browser

    phone = _browser(wsgi_app, IPHONE, ip="198.51.100.20")
    sign_in(phone, ALICE, STRONG_PASSWORD)
    (alert,) = _alerts(wsgi_app, smtp_server)
    assert "Mobile Safari 17 on iPhone" in alert.text
    assert "198.51.100.20" in alert.text
    assert (
        "Jan 15, 2026, 9:00\u202fAM UTC" in alert.text or "Jan 15, 2026, 9:00 AM UTC" in alert.text
    )
    assert urlsplit(alert.link).path.startswith("/account/not_me/")
    assert "This wasn't me" in alert.html

    # Both browsers are known now: signing in again from either sends nothing.
    clock.advance(minutes=5)
    sign_in(laptop, ALICE, STRONG_PASSWORD)
    sign_in(phone, ALICE, STRONG_PASSWORD)
    assert len(_alerts(wsgi_app, smtp_server)) == 1
    assert len(recorded_events(wsgi_app, events.NEW_DEVICE_SIGN_IN)) == 1


def test_no_email_for_the_sign_in_that_ends_registration(wsgi_app, smtp_server):
    client = new_client(wsgi_app)
    register_and_confirm(client, wsgi_app, smtp_server.mailbox, ALICE, STRONG_PASSWORD)
    assert is_signed_in(client)
    assert _alerts(wsgi_app, smtp_server) == []


def test_no_email_for_the_first_sign_in_after_an_invitation(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, None)
    client = new_client(wsgi_app)
    open_link(client, invitation_code(wsgi_app, ALICE))
    choose_password(client, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    assert _alerts(wsgi_app, smtp_server) == []


def test_a_burst_of_new_browsers_sends_one_email_a_minute(wsgi_app, smtp_server, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(_browser(wsgi_app), ALICE, STRONG_PASSWORD)
    for _ in range(5):
        sign_in(_browser(wsgi_app, IPHONE), ALICE, STRONG_PASSWORD)
    assert len(_alerts(wsgi_app, smtp_server)) == 1
    (event,) = recorded_events(wsgi_app, events.NEW_DEVICE_SIGN_IN)
    assert event.details["repeats"] == 4
    clock.advance(seconds=61)
    sign_in(_browser(wsgi_app, IPHONE), ALICE, STRONG_PASSWORD)
    assert len(_alerts(wsgi_app, smtp_server)) == 2


def test_another_new_browser_within_the_minute_is_told_of_too(wsgi_app, smtp_server, clock):
    """docs/security.md 56: the owner's own new browser, then an intruder's a few
    seconds later from elsewhere: two emails, the second naming the intruder's."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(_browser(wsgi_app), ALICE, STRONG_PASSWORD)
    sign_in(_browser(wsgi_app, IPHONE), ALICE, STRONG_PASSWORD)
    clock.advance(seconds=5)
    sign_in(_browser(wsgi_app, FIREFOX, ip="198.51.100.99"), ALICE, STRONG_PASSWORD)
    alerts = _alerts(wsgi_app, smtp_server)
    assert len(alerts) == 2
    assert "198.51.100.99" in alerts[1].text


def test_new_browser_emails_stop_at_the_hourly_number_and_the_activity_keeps_them(
    wsgi_app, smtp_server
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(_browser(wsgi_app), ALICE, STRONG_PASSWORD)
    for n in range(12):
        sign_in(_browser(wsgi_app, ip=f"198.51.100.{n + 1}"), ALICE, STRONG_PASSWORD)
    assert len(_alerts(wsgi_app, smtp_server)) == 10
    assert len(recorded_events(wsgi_app, events.NEW_DEVICE_SIGN_IN)) == 12


def test_a_passkey_sign_in_from_a_new_browser_is_told_too(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _browser(wsgi_app)
    sign_in(laptop, ALICE, STRONG_PASSWORD)
    device = authenticator()
    add_passkey(laptop, device)
    from tests.functional.passkey_flows import sign_in_with_passkey

    sign_in_with_passkey(_browser(wsgi_app, IPHONE), device)
    assert len(_alerts(wsgi_app, smtp_server)) == 1


def test_the_device_list_marks_the_browser_each_session_came_from(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _browser(wsgi_app)
    sign_in(laptop, ALICE, STRONG_PASSWORD)
    first_seen = f"{clock.now():%b} {clock.now().day}, {clock.now().year}"
    clock.advance(days=3)
    sign_in(laptop, ALICE, STRONG_PASSWORD)  # the same browser, a new session
    sign_in(_browser(wsgi_app, IPHONE), ALICE, STRONG_PASSWORD)
    rows = laptop.get("/account/sessions").html.find("tbody").find_all("tr")
    by_device = {("iPhone" in r.text): r.text for r in rows}
    assert "New browser for this account" in by_device[True]
    assert f"Browser known since {first_seen}" in by_device[False]
    assert "New browser" not in by_device[False]


# "This wasn't me"


def _intrusion(wsgi_app, smtp_server):
    """Alice's laptop is signed in; an intruder signs in with her password from a new
    browser. Returns (laptop, intruder, the alert's not_me code)."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    laptop = _browser(wsgi_app)
    sign_in(laptop, ALICE, STRONG_PASSWORD)
    intruder = _browser(wsgi_app, IPHONE, ip="198.51.100.66")
    sign_in(intruder, ALICE, STRONG_PASSWORD)
    (alert,) = _alerts(wsgi_app, smtp_server)
    return laptop, intruder, alert.link_code


def test_opening_the_link_changes_nothing(wsgi_app, smtp_server):
    laptop, intruder, code = _intrusion(wsgi_app, smtp_server)
    owner = new_client(wsgi_app)
    opened = owner.get(f"/account/not_me/{code}", status=303)
    assert urlsplit(opened.location).path == "/account/not_me"
    assert code not in opened.location
    page = owner.get("/account/not_me")
    assert ALICE in page.text
    assert is_signed_in(laptop) and is_signed_in(intruder)
    assert recorded_events(wsgi_app, events.NOT_ME_REPORTED) == []
    # A scanner that follows the link twice still leaves it usable.
    new_client(wsgi_app).get(f"/account/not_me/{code}", status=303)
    form_by_action(owner.get("/account/not_me"), "/account/not_me").submit(status=200)


def test_confirming_locks_the_intruder_out_and_sends_a_reset_link(wsgi_app, smtp_server):
    laptop, intruder, code = _intrusion(wsgi_app, smtp_server)
    # What the intruder did meanwhile: a passkey of their own, an authenticator app.
    passkey_device = authenticator()
    add_passkey(intruder, passkey_device)
    page = intruder.get("/account/two_factor/totp")
    secret = page.html.find(id="totp-secret").text.replace(" ", "")
    form = form_by_action(page, "/account/two_factor/totp")
    form["code"] = pyotp.TOTP(secret).at(wsgi_app.registry["services"].clock.now().timestamp())
    form.submit(status=200)

    owner = new_client(wsgi_app)
    owner.get(f"/account/not_me/{code}")
    done = form_by_action(owner.get("/account/not_me"), "/account/not_me").submit(status=200)
    assert "Everyone is signed out" in done.text

    assert not is_signed_in(laptop) and not is_signed_in(intruder)
    # The password the intruder knows no longer works, nor do the factors they added.
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD, status=400)
    with db(wsgi_app) as session:
        account = session.scalars(select(Account)).one()
        assert account.totp_secret is None
        assert session.scalars(select(WebAuthnCredential)).all() == []
        assert session.scalars(select(KnownDevice)).all() == []
        live = session.scalars(select(LoginSession).where(LoginSession.revoked_at.is_(None)))
        assert live.all() == []
    (reported,) = recorded_events(wsgi_app, events.NOT_ME_REPORTED)
    assert reported.details == {"factors_removed": 2}

    # The reset link lets the owner back in, without any second factor of the intruder.
    deliver_mail(wsgi_app)
    (reset,) = smtp_server.mailbox.to(ALICE, about="Reset")
    # It says the truth: the old password was just voided.
    assert "no longer works" in reset.text and "stays as it is" not in reset.text
    open_link(owner, reset.link_code)
    choose_password(owner, OTHER_PASSWORD)
    back = sign_in(new_client(wsgi_app), ALICE, OTHER_PASSWORD)
    assert urlsplit(back.location).path == "/account"
    # The link worked once.
    again = new_client(wsgi_app)
    again.get(f"/account/not_me/{code}", status=400)


def test_the_link_outlives_a_password_change_by_the_intruder(wsgi_app, smtp_server):
    _, intruder, code = _intrusion(wsgi_app, smtp_server)
    form = form_by_action(intruder.get("/account/change_password"), "/account/change_password")
    form["current_password"] = STRONG_PASSWORD
    form["password"] = form["confirm_password"] = INTRUDERS_PASSWORD
    form.submit(status=303)
    owner = new_client(wsgi_app)
    owner.get(f"/account/not_me/{code}", status=303)
    form_by_action(owner.get("/account/not_me"), "/account/not_me").submit(status=200)
    assert not is_signed_in(intruder)
    sign_in(new_client(wsgi_app), ALICE, INTRUDERS_PASSWORD, status=400)


def test_the_link_lapses_after_seven_days(wsgi_app, smtp_server, clock):
    _, _, code = _intrusion(wsgi_app, smtp_server)
    clock.advance(days=7, seconds=1)
    new_client(wsgi_app).get(f"/account/not_me/{code}", status=400)
    assert recorded_events(wsgi_app, events.NOT_ME_REPORTED) == []


def test_the_confirmation_page_without_a_link_changes_nothing(wsgi_app, smtp_server):
    _, intruder, _ = _intrusion(wsgi_app, smtp_server)
    stranger = new_client(wsgi_app)
    page = stranger.get("/account/not_me", status=400)
    token = page.html.find("input", attrs={"name": "csrf_token"})
    assert token is None  # no form to send
    assert is_signed_in(intruder)
