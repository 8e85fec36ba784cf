"""Two-factor sign-in (docs/security.md 39-42 and 44): authenticator apps, recovery
codes, and re-authentication before sensitive changes."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, select

from app.models import Account, AccountEvent, LoginSession
from app.services.kernel import audit as events
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    choose_password,
    code_at,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    is_signed_in,
    open_link,
    set_up_totp,
    sign_in,
)
from tests.functional.oidc_flows import Pkce, authorize_url, callback_params, register_client
from tests.support import UNLIMITED_RATES, dump_database, form_by_action

ALICE = "alice@example.com"


@pytest.fixture
def alice_with_totp(wsgi_app, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    secret, codes = set_up_totp(client, clock)
    clock.advance(seconds=31)  # past the step used to set it up
    return secret, codes


def _second_step(client, code: str, status=303):
    form = form_by_action(client.get("/account/signin/two_factor"), "/account/signin/two_factor")
    form["code"] = code
    return form.submit(status=status)


def _form_action(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part for part in policy.split(";") if "form-action" in part).strip()


def test_the_second_step_of_an_authorization_lets_its_form_reach_the_client(
    wsgi_app, alice_with_totp, clock
):
    """The browser holds the redirect after the second step's POST to form-action: when
    the sign-in goes on to an authorization, the page names the client's origin, shown
    blank and shown again after a wrong code."""
    secret, _ = alice_with_totp
    shop = register_client(wsgi_app)
    client = new_client(wsgi_app)
    to_signin = client.get(authorize_url(shop, Pkce.new()), status=303)
    form = form_by_action(client.get(to_signin.headers["Location"]), "/account/signin")
    form["email"] = ALICE
    form["password"] = STRONG_PASSWORD
    to_second = form.submit(status=303)
    assert urlsplit(to_second.location).path == "/account/signin/two_factor"

    page = client.get("/account/signin/two_factor")
    assert _form_action(page) == "form-action 'self' https://shop.example.test"
    form = form_by_action(page, "/account/signin/two_factor")
    form["code"] = "000000" if code_at(secret, clock) != "000000" else "111111"
    wrong = form.submit(status=400)
    assert _form_action(wrong) == "form-action 'self' https://shop.example.test"
    form = form_by_action(wrong, "/account/signin/two_factor")
    form["code"] = code_at(secret, clock)
    back = client.get(form.submit(status=303).location, status=302)
    assert callback_params(back)["code"]


def test_the_right_password_alone_gives_no_session(wsgi_app, alice_with_totp, clock):
    secret, _ = alice_with_totp
    client = new_client(wsgi_app)
    response = sign_in(client, ALICE, STRONG_PASSWORD, came_from="/account/activity")
    assert urlsplit(response.location).path == "/account/signin/two_factor"
    assert not is_signed_in(client)
    wrong = _second_step(client, "000000" if code_at(secret, clock) != "000000" else "111111", 400)
    assert "not right" in wrong.text
    assert not is_signed_in(client)
    done = _second_step(client, code_at(secret, clock))
    assert urlsplit(done.location).path == "/account/activity"  # came_from survived
    assert is_signed_in(client)
    with db(wsgi_app) as session:
        methods = set(session.scalars(select(LoginSession.sign_in_method)))
    assert "password+totp" in methods


def test_the_pending_sign_in_belongs_to_that_browser_and_lapses(
    wsgi_app, alice_with_totp, clock, monkeypatch
):
    secret, _ = alice_with_totp
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    # Another browser cannot finish it.
    other = new_client(wsgi_app)
    assert urlsplit(other.get("/account/signin/two_factor").location).path == "/account/signin"
    # After five minutes it is gone.
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    clock.advance(seconds=301)
    response = client.get("/account/signin/two_factor", status=303)
    assert urlsplit(response.location).path == "/account/signin"


def test_one_code_at_the_second_step_signs_in_once(make_app, app_settings, clock):
    """Twenty browsers post the same valid code at once: exactly one signs in. (The
    limit on wrong codes is lifted, so that the nineteen are refused for the code, or
    for their pending sign-in, which the one that won has spent.)"""
    wsgi_app = make_app({**app_settings, **UNLIMITED_RATES})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, ALICE, STRONG_PASSWORD)
    secret, _ = set_up_totp(owner, clock)
    clock.advance(seconds=31)
    clients = []
    for _ in range(20):
        client = new_client(wsgi_app)
        sign_in(client, ALICE, STRONG_PASSWORD)
        form = form_by_action(
            client.get("/account/signin/two_factor"), "/account/signin/two_factor"
        )
        form["code"] = code_at(secret, clock)
        clients.append((client, form))
    start = threading.Barrier(len(clients))
    statuses: list[int] = []
    places: list[str] = []

    def post(form) -> None:
        start.wait()
        answer = form.submit(status="*")
        statuses.append(answer.status_int)
        if answer.status_int == 303:
            places.append(urlsplit(answer.location).path)

    threads = [threading.Thread(target=post, args=(form,)) for _, form in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert places.count("/account") == 1
    assert len(statuses) == 20 and statuses.count(303) == len(places)
    assert set(places) <= {"/account", "/account/signin"}
    assert set(statuses) <= {303, 400}
    assert sum(is_signed_in(client) for client, _ in clients) == 1


def test_a_code_already_used_is_refused_later_in_its_step(wsgi_app, alice_with_totp, clock):
    secret, _ = alice_with_totp
    code = code_at(secret, clock)
    first = new_client(wsgi_app)
    sign_in(first, ALICE, STRONG_PASSWORD)
    _second_step(first, code)
    clock.advance(seconds=5)
    second = new_client(wsgi_app)
    sign_in(second, ALICE, STRONG_PASSWORD)
    _second_step(second, code, status=400)
    # The next step's code works.
    clock.advance(seconds=30)
    _second_step(second, code_at(secret, clock))


def test_a_recovery_code_works_once_even_when_two_requests_race(
    wsgi_app, alice_with_totp, smtp_server
):
    _, codes = alice_with_totp
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{5}(-[a-z2-7]{5}){3}", c) for c in codes)
    forms = []
    for _ in range(2):
        client = new_client(wsgi_app)
        sign_in(client, ALICE, STRONG_PASSWORD)
        form = form_by_action(
            client.get("/account/signin/two_factor"), "/account/signin/two_factor"
        )
        form["code"] = codes[0].upper().replace("-", " ")  # as someone might type it
        forms.append(form)
    start = threading.Barrier(2)
    statuses: list[int] = []
    places: list[str] = []

    def post(form) -> None:
        start.wait()
        answer = form.submit(status="*")
        statuses.append(answer.status_int)
        if answer.status_int == 303:
            places.append(urlsplit(answer.location).path)

    threads = [threading.Thread(target=post, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # One wins and is signed in. The other either finds the code used (400) or, if the
    # winner committed before it read the account, its own sign-in spent by the
    # winner's: it is sent back to the sign-in page. Either way one session started.
    assert len(statuses) == 2
    assert places.count("/account/signin") + statuses.count(400) == 1
    assert len([p for p in places if p != "/account/signin"]) == 1
    deliver_mail(wsgi_app)
    [told] = [m for m in smtp_server.mailbox.to(ALICE) if "recovery code was used" in m.text]
    assert "9 recovery codes left" in " ".join(told.text.split())


def test_a_new_set_of_recovery_codes_voids_the_old_one(wsgi_app, alice_with_totp, clock):
    _, old_codes = alice_with_totp
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    _second_step(client, old_codes[0])
    page = client.get("/account/two_factor")
    new_page = form_by_action(page, "/account/two_factor/recovery_codes").submit(status=200)
    new_codes = [li.text.strip() for li in new_page.html.find(id="recovery-codes").find_all("li")]
    assert not set(new_codes) & set(old_codes)
    other = new_client(wsgi_app)
    sign_in(other, ALICE, STRONG_PASSWORD)
    _second_step(other, old_codes[1], status=400)
    _second_step(other, new_codes[1])


def test_a_reset_password_still_asks_for_the_second_factor(
    wsgi_app, alice_with_totp, smtp_server, clock
):
    secret, _ = alice_with_totp
    client = new_client(wsgi_app)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.to(ALICE)[-1].link_code)
    choose_password(client, OTHER_PASSWORD)
    response = sign_in(client, ALICE, OTHER_PASSWORD)
    assert urlsplit(response.location).path == "/account/signin/two_factor"
    assert not is_signed_in(client)
    _second_step(client, code_at(secret, clock))
    assert is_signed_in(client)


def test_disabling_and_enabling_an_account_keeps_its_second_factor(
    wsgi_app, alice_with_totp, clock
):
    from tests.functional.flows import services

    with db(wsgi_app) as session, session.begin():
        admin = services(wsgi_app, session).accounts.create_account(
            "admin@example.com", STRONG_PASSWORD, is_admin=True, email_verified=True
        )
        alice = session.scalars(select(Account).where(Account.email == ALICE)).one()
        services(wsgi_app, session).admin.disable(alice, actor=admin)
        services(wsgi_app, session).admin.enable(alice, actor=admin)
    response = sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)
    assert urlsplit(response.location).path == "/account/signin/two_factor"


def test_the_database_holds_no_totp_secret_or_recovery_code_in_plain_form(
    wsgi_app, alice_with_totp
):
    secret, codes = alice_with_totp
    with db(wsgi_app) as session:
        dump = dump_database(session)
    for value in [secret, *codes, *(c.replace("-", "") for c in codes)]:
        assert value not in dump
        assert value.upper() not in dump


# Item 44: re-authentication


SENSITIVE_PAGES = [
    "/account/change_email",
    "/account/two_factor/totp",
    "/admin/accounts/new",
]


@pytest.mark.parametrize("path", SENSITIVE_PAGES)
def test_a_sensitive_page_asks_for_the_password_again_after_the_limit(wsgi_app, clock, path):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    if path.startswith("/admin"):
        with db(wsgi_app) as session, session.begin():
            session.scalars(select(Account)).one().is_admin = True
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    if not path.startswith("/admin"):
        client.get(path, status=200)  # within the limit: no question asked
    clock.advance(minutes=16)
    target = path if not path.startswith("/admin") else "/admin/accounts"
    if path.startswith("/admin"):
        # Looking is fine; acting needs a recent sign-in.
        client.get(target, status=200)
        form = form_by_action(client.get("/admin/accounts/new"), "/admin/accounts/new")
        form["email"] = "newcomer@example.com"
        asked = form.submit(status=303)
    else:
        asked = client.get(path, status=303)
    location = urlsplit(asked.location)
    assert location.path == "/account/reauthenticate"
    page = client.get(asked.location)
    form = form_by_action(page, "/account/reauthenticate")
    form["password"] = STRONG_PASSWORD
    back = form.submit(status=303)
    assert urlsplit(back.location).path == (
        path if not path.startswith("/admin") else "/admin/accounts/new"
    )
    client.get(back.location, status=200)
    if path.startswith("/admin"):
        form = form_by_action(client.get("/admin/accounts/new"), "/admin/accounts/new")
        form["email"] = "newcomer@example.com"
        form.submit(status=303)
        with db(wsgi_app) as session:
            assert session.scalars(
                select(Account).where(Account.email == "newcomer@example.com")
            ).one()


def test_reauthentication_with_a_second_factor_needs_the_code(wsgi_app, alice_with_totp, clock):
    secret, _ = alice_with_totp
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    _second_step(client, code_at(secret, clock))
    clock.advance(minutes=16)
    asked = client.get("/account/change_email", status=303)
    form = form_by_action(client.get(asked.location), "/account/reauthenticate")
    form["password"] = STRONG_PASSWORD
    form["code"] = "123456" if code_at(secret, clock) != "123456" else "654321"
    form.submit(status=400)
    form = form_by_action(client.get(asked.location), "/account/reauthenticate")
    form["password"] = STRONG_PASSWORD
    form["code"] = code_at(secret, clock)
    form.submit(status=303)
    client.get("/account/change_email", status=200)


# Item 42: the administrator's "remove two-factor"


def test_an_administrator_removes_a_lost_second_factor_and_the_owner_is_told(
    wsgi_app, alice_with_totp, smtp_server, clock
):
    create_account(wsgi_app, "admin@example.com", STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        admin = session.scalars(select(Account).where(Account.email == "admin@example.com")).one()
        admin.is_admin = True
        alice_id = session.scalars(select(Account.id).where(Account.email == ALICE)).one()
    client = new_client(wsgi_app)
    sign_in(client, "admin@example.com", STRONG_PASSWORD)
    page = client.get(f"/admin/accounts/{alice_id}")
    assert "Two-factor sign-in" in page.text
    # The account page leads to a confirmation that says what will go.
    confirm = page.click(href=f"/admin/accounts/{alice_id}/remove_two_factor")
    listed = confirm.html.find(id="second-factors-to-remove").get_text(" ", strip=True)
    assert "authenticator app" in listed and "10 unused recovery codes" in listed
    form_by_action(confirm, f"/admin/accounts/{alice_id}/remove_two_factor").submit(status=303)
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD, status=303)
    assert (
        urlsplit(sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD).location).path == "/account"
    )
    with db(wsgi_app) as session:
        removed = session.scalars(
            select(AccountEvent).where(AccountEvent.kind == events.SECOND_FACTOR_REMOVED)
        ).one()
    assert removed.account_id == alice_id and removed.actor_id is not None
    deliver_mail(wsgi_app)
    # One email, which says an administrator did it and whom to ask.
    [told] = [m for m in smtp_server.mailbox.to(ALICE) if "turned off" in m.message["Subject"]]
    assert told.message["Subject"] == "An administrator turned off two-factor sign-in"
    assert "An administrator turned off" in told.text and "the authenticator app" in told.text
    assert "contact" in told.text
    # Nothing left to remove: the confirmation page goes back to the account.
    client.get(f"/admin/accounts/{alice_id}/remove_two_factor", status=303)


def test_administrators_can_be_required_to_have_a_second_factor(make_app, app_settings, clock):
    wsgi_app = make_app({**app_settings, "accounts.require_two_factor_for_admins": "true"})
    create_account(wsgi_app, "admin@example.com", STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.scalars(select(Account)).one().is_admin = True
    client = new_client(wsgi_app)
    sign_in(client, "admin@example.com", STRONG_PASSWORD)
    response = client.get("/admin/accounts", status=303)
    assert urlsplit(response.location).path == "/account/two_factor"
    set_up_totp(client, clock)
    client.get("/admin/accounts", status=200)


def test_turning_the_authenticator_off_needs_a_recent_sign_in_and_tells_the_owner(
    wsgi_app, alice_with_totp, smtp_server, clock
):
    secret, _ = alice_with_totp
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    _second_step(client, code_at(secret, clock))
    page = client.get("/account/two_factor")
    form_by_action(page, "/account/two_factor/totp/disable").submit(status=303)
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD, status=303)
    deliver_mail(wsgi_app)
    subjects = [m.message["Subject"] for m in smtp_server.mailbox.to(ALICE)]
    assert "Two-factor sign-in is on" in subjects
    assert "Two-factor sign-in was turned off" in subjects


def test_the_account_page_warns_when_few_recovery_codes_are_left(wsgi_app, alice_with_totp, clock):
    _, codes = alice_with_totp
    for code in codes[:8]:
        client = new_client(wsgi_app)
        sign_in(client, ALICE, STRONG_PASSWORD)
        _second_step(client, code)
    assert "2 recovery codes left" in " ".join(client.get("/account").text.split())


def test_the_second_step_page_is_drawn_from_the_pending_sign_in(wsgi_app, alice_with_totp, clock):
    """The factors it offers were read with the password; the page itself reads nothing
    of the account, and the code is still checked against it when sent."""
    secret, _ = alice_with_totp
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    seen: list[str] = []
    listener = lambda conn, cursor, statement, *rest: seen.append(statement)  # noqa: E731
    event.listen(wsgi_app.registry["db_engine"], "before_cursor_execute", listener)
    try:
        page = client.get("/account/signin/two_factor")
    finally:
        event.remove(wsgi_app.registry["db_engine"], "before_cursor_execute", listener)
    assert page.html.find("input", attrs={"name": "code"}) is not None
    assert not [s for s in seen if "accounts" in s or "webauthn" in s or "recovery" in s]
    _second_step(client, code_at(secret, clock))
    assert is_signed_in(client)


def test_the_pending_sign_in_is_gone_once_the_second_step_passed(wsgi_app, alice_with_totp, clock):
    """The second factor alone must never sign this browser in again."""
    secret, _ = alice_with_totp
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    _second_step(client, code_at(secret, clock))
    again = client.get("/account/signin/two_factor", status=303)
    assert urlsplit(again.location).path == "/account/signin"


def test_a_second_step_without_a_pending_sign_in_says_so_on_the_sign_in_page(wsgi_app):
    client = new_client(wsgi_app)
    back = client.get("/account/signin/two_factor", status=303)
    assert urlsplit(back.location).path == "/account/signin"
    told = client.get(back.location).html.select(".notice-error[role=alert]")
    assert [n.get_text(" ", strip=True) for n in told] == [
        "⚠ Problem Your sign-in has expired. Sign in again."
    ]


def test_a_wrong_code_shows_the_form_again_with_the_factors_of_the_account(
    wsgi_app, alice_with_totp, clock
):
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    refused = _second_step(client, "000000", status=400)
    assert refused.html.find("input", attrs={"name": "code"}) is not None
    # No passkey on this account: no passkey button.
    assert refused.html.find(id="passkey-verify") is None


def test_the_qr_code_is_titled_in_the_pages_language(wsgi_app, clock):
    titles = {}
    for language, email in (("en", ALICE), ("de", "bernd@example.com")):
        create_account(wsgi_app, email, STRONG_PASSWORD)
        client = new_client(wsgi_app)
        client.extra_environ["HTTP_ACCEPT_LANGUAGE"] = language
        sign_in(client, email, STRONG_PASSWORD)
        page = client.get("/account/two_factor/totp")
        titles[language] = page.html.find("svg").find("title").get_text()
    assert titles == {
        "en": "QR code to scan with your authenticator app",
        "de": "QR-Code zum Scannen mit Ihrer Authenticator-App",
    }
