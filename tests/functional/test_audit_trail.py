"""Each security action leaves exactly one event, with time, account, IP and device."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from app.models import LoginSession
from app.services.kernel import audit as events
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    choose_password,
    confirm_email,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    recorded_events,
    register,
    sign_in,
    sign_out,
)
from tests.support import form_by_action

ALICE = "alice@example.com"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _kinds_since(wsgi_app, seen: int) -> list[str]:
    return [event.kind for event in recorded_events(wsgi_app)[seen:]]


def _client(wsgi_app):
    client = new_client(wsgi_app, ip="198.51.100.23")
    client.extra_environ["HTTP_USER_AGENT"] = BROWSER
    return client


def test_each_action_records_exactly_one_event(wsgi_app, smtp_server):
    client = _client(wsgi_app)
    steps = []

    def step(expected: list[str], action) -> None:
        before = len(recorded_events(wsgi_app))
        action()
        steps.append((expected, _kinds_since(wsgi_app, before)))

    step([events.REGISTERED], lambda: register(client, ALICE, STRONG_PASSWORD))
    deliver_mail(wsgi_app)
    confirmation = smtp_server.mailbox.to(ALICE)[0].link_code
    step(
        [events.EMAIL_CONFIRMED, events.SIGN_IN],
        lambda: confirm_email(client, confirmation, STRONG_PASSWORD),
    )
    step([events.SIGN_OUT], lambda: sign_out(client))
    step([events.SIGN_IN_FAILED], lambda: sign_in(client, ALICE, "wrong password", status=400))
    step([events.SIGN_IN_FAILED], lambda: sign_in(client, "nobody@example.com", "x", status=400))
    step([events.SIGN_IN], lambda: sign_in(client, ALICE, STRONG_PASSWORD))
    step([events.RESET_REQUESTED], lambda: forgot_password(client, ALICE))
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[-1].link_code
    step([], lambda: open_link(client, code))
    step([events.RESET_DONE], lambda: choose_password(client, OTHER_PASSWORD))
    step([events.CODE_USED], lambda: open_link(client, code, status=400))
    step([events.CODE_UNKNOWN], lambda: open_link(client, "z" * 43, status=400))
    step([events.SIGN_IN], lambda: sign_in(client, ALICE, OTHER_PASSWORD))

    def change_password():
        form = form_by_action(client.get("/account/change_password"), "/account/change_password")
        form["current_password"] = OTHER_PASSWORD
        form["password"] = form["confirm_password"] = STRONG_PASSWORD
        form.submit(status=303)

    step([events.PASSWORD_CHANGED], change_password)
    phone = new_client(wsgi_app)
    sign_in(phone, ALICE, STRONG_PASSWORD)

    def revoke_phone():
        with db(wsgi_app) as session:
            phone_id = max(session.scalars(select(LoginSession.id)))
        page = client.get("/account/sessions")
        form_by_action(page, f"/account/sessions/{phone_id}/revoke").submit(status=303)

    step([events.SESSION_REVOKED], revoke_phone)
    for expected, recorded in steps:
        assert recorded == expected


def test_events_carry_utc_time_account_ip_and_device_but_no_secret(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(_client(wsgi_app), ALICE, STRONG_PASSWORD)
    [event] = recorded_events(wsgi_app)
    assert event.kind == events.SIGN_IN
    assert event.created_at == clock.now() and event.created_at.tzinfo == UTC
    assert event.ip == "198.51.100.23"
    assert event.user_agent == BROWSER
    assert event.account_id is not None
    assert STRONG_PASSWORD not in str(event.details)


def test_expired_codes_are_recorded(wsgi_app, clock, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(_client(wsgi_app), ALICE)
    deliver_mail(wsgi_app)
    clock.advance(hours=2)
    before = len(recorded_events(wsgi_app))
    open_link(_client(wsgi_app), smtp_server.mailbox.to(ALICE)[0].link_code, status=400)
    assert _kinds_since(wsgi_app, before) == [events.CODE_EXPIRED]


def test_activity_page_shows_the_users_own_events_newest_first_in_pages(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, "bob@example.com", STRONG_PASSWORD)
    sign_in(_client(wsgi_app), "bob@example.com", STRONG_PASSWORD)
    # One browser throughout: a new one would add "signed in from a new browser" too.
    client = _client(wsgi_app)
    for _ in range(29):
        sign_in(client, ALICE, STRONG_PASSWORD)
        clock.advance(minutes=1)
    sign_in(client, ALICE, "a wrong password", status=400)
    clock.advance(minutes=1)
    sign_in(client, ALICE, STRONG_PASSWORD)

    first = client.get("/account/activity")
    rows = first.html.find("tbody").find_all("tr")
    assert len(rows) == 25
    assert "Signed in" in rows[0].text
    assert "Sign-in refused: wrong password" in rows[1].text
    assert "Firefox 128 on Linux" in rows[0].text and "198.51.100.23" in rows[0].text
    assert "Page 1 of 2" in first.text
    second = client.get("/account/activity", params={"page": "2"})
    assert len(second.html.find("tbody").find_all("tr")) == 31 - 25
    # Bob's sign-in is not in Alice's activity.
    assert client.get("/account/activity", params={"page": "abc"}).status_int == 200
