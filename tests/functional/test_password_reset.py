"""The forgot-password walk-through and the rules around reset codes, end to end."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import webtest
from sqlalchemy import event, select, text

from app.models import Account, OneTimeCode, OutgoingEmail
from app.services.kernel.codes import digest
from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    choose_password,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    sign_in,
)
from tests.support import dump_database, form_by_action

ALICE = "alice@example.com"
NEW_PASSWORD = "violet mango tractor 1987"


def test_reset_walk_through(wsgi_app, client, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)

    response = forgot_password(client, ALICE)
    assert response.location.endswith("/account/reset_sent")
    assert deliver_mail(wsgi_app) == 1
    [mail] = smtp_server.mailbox.to(ALICE)
    code = mail.link_code
    assert mail.link == f"{BASE_URL}/account/reset_password/{code}"

    moved = open_link(client, code)
    assert moved.location.endswith("/account/reset_password")
    assert code not in moved.location
    done = choose_password(client, NEW_PASSWORD)
    assert "Your password has been reset, please sign in." in done.text

    failed = sign_in(client, ALICE, STRONG_PASSWORD, status=400)
    assert "Email or password is incorrect." in failed.text
    sign_in(client, ALICE, NEW_PASSWORD, status=303)

    second_client = new_client(wsgi_app)
    again = open_link(second_client, code, status=400)
    assert "already been used" in again.text


def test_reset_does_not_sign_the_user_in(wsgi_app, client, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.to(ALICE)[0].link_code)
    choose_password(client, NEW_PASSWORD)
    assert urlsplit(client.get("/account", status=303).location).path == "/account/signin"


def test_unknown_used_and_expired_codes_each_say_what_is_wrong(
    wsgi_app, client, clock, smtp_server
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)

    unknown = open_link(client, "x" * 43, status=400)
    assert "not valid" in unknown.text

    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code
    clock.advance(minutes=60, seconds=1)
    expired = open_link(client, code, status=400)
    assert "expired" in expired.text

    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    fresh = smtp_server.mailbox.to(ALICE)[1].link_code
    open_link(client, fresh)
    choose_password(client, NEW_PASSWORD)
    used = open_link(new_client(wsgi_app), fresh, status=400)
    assert "already been used" in used.text


def test_code_still_works_just_before_expiry(wsgi_app, client, clock, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    clock.advance(minutes=59, seconds=59)
    open_link(client, smtp_server.mailbox.to(ALICE)[0].link_code, status=303)


def test_code_that_expires_between_opening_and_posting_is_refused(
    wsgi_app, client, clock, smtp_server
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.to(ALICE)[0].link_code)
    page = client.get("/account/reset_password")
    clock.advance(minutes=61)
    form = next(f for f in page.forms.values() if f.action == "/account/reset_password")
    form["password"] = NEW_PASSWORD
    form["confirm_password"] = NEW_PASSWORD
    refused = form.submit(status=400)
    assert "expired" in refused.text
    sign_in(client, ALICE, STRONG_PASSWORD)


def test_reset_form_without_a_link_says_to_open_the_link(client):
    page = client.get("/account/reset_password", status=400)
    assert "Open the link from your email" in page.text


def test_emailed_code_is_stored_only_as_its_sha256(wsgi_app, client, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code
    with db(wsgi_app) as session:
        stored = session.scalars(select(OneTimeCode)).one()
        assert stored.code_hash == digest(code)
        dump = dump_database(session)
    assert digest(code) in dump
    assert code not in dump


def test_queued_email_is_encrypted_at_rest_and_erased_once_sent(wsgi_app, client, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    with db(wsgi_app) as session:
        queued = session.scalars(select(OutgoingEmail)).one()
        assert queued.payload is not None and b"reset_password" not in queued.payload
        assert queued.sent_at is None
    deliver_mail(wsgi_app)
    with db(wsgi_app) as session:
        sent = session.scalars(select(OutgoingEmail)).one()
        assert sent.sent_at is not None
        assert sent.payload is None


def test_twenty_concurrent_resets_with_one_code_have_one_winner(wsgi_app, smtp_server, hasher):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), ALICE)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code

    passwords = [f"parallel universe number {i:02d} zebra" for i in range(20)]
    forms = []
    for password in passwords:
        racer = new_client(wsgi_app)
        open_link(racer, code)
        page = racer.get("/account/reset_password")
        form = next(f for f in page.forms.values() if f.action == "/account/reset_password")
        form["password"] = password
        form["confirm_password"] = password
        forms.append(form)

    start = threading.Barrier(len(forms))
    statuses: list[int | None] = [None] * len(forms)

    def race(index: int) -> None:
        start.wait()
        statuses[index] = forms[index].submit(expect_errors=True).status_int

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(statuses) == [200] + [400] * 19
    winner = passwords[statuses.index(200)]
    with db(wsgi_app) as session:
        stored = session.scalars(select(Account.password_hash)).one()
    verdicts = {p: hasher.verify(p, stored)[0] for p in passwords + [STRONG_PASSWORD]}
    assert [p for p, ok in verdicts.items() if ok] == [winner]


def test_forgot_password_answers_the_same_for_known_and_unknown_emails(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    known = forgot_password(new_client(wsgi_app), ALICE)
    unknown = forgot_password(new_client(wsgi_app), "nobody@example.com")
    assert known.status_int == unknown.status_int == 303
    assert known.location == unknown.location
    assert known.location.endswith("/account/reset_sent")
    assert (
        new_client(wsgi_app).get(known.location).text
        == new_client(wsgi_app).get(unknown.location).text
    )

    assert deliver_mail(wsgi_app) == 1
    assert [m.recipients for m in smtp_server.mailbox.messages] == [[ALICE]]


def test_asking_for_resets_changes_nothing_on_the_account(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session:
        before = session.scalars(select(Account)).one()
    statuses = [forgot_password(client, ALICE, status="*").status_int for _ in range(50)]
    # The first few are answered; the rest are rate limited (docs/security.md 12).
    assert set(statuses) == {303, 429}
    with db(wsgi_app) as session:
        after = session.scalars(select(Account)).one()
    assert after.password_hash == before.password_hash
    assert after.password_changed_at == before.password_changed_at
    sign_in(client, ALICE, STRONG_PASSWORD)


def test_reset_link_ignores_a_poisoned_host_header(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    attacker = webtest.TestApp(
        wsgi_app,
        extra_environ={
            "REMOTE_ADDR": "198.51.100.9",
            "HTTP_HOST": "evil.test",
            "HTTP_X_FORWARDED_HOST": "evil.test",
            "HTTP_FORWARDED": "host=evil.test",
        },
    )
    forgot_password(attacker, ALICE)
    deliver_mail(wsgi_app)
    [mail] = smtp_server.mailbox.to(ALICE)
    assert mail.link.startswith(f"{BASE_URL}/account/reset_password/")
    assert "evil.test" not in mail.text + mail.html


def test_reset_email_says_how_long_the_link_works(wsgi_app, client, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    [mail] = smtp_server.mailbox.to(ALICE)
    assert "within 1 hour" in mail.text
    assert mail.html and mail.link_code in mail.html


def test_password_changed_notice_is_sent_after_a_reset_without_any_secret(
    wsgi_app, client, smtp_server
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code
    open_link(client, code)
    choose_password(client, NEW_PASSWORD)
    deliver_mail(wsgi_app)
    notice = smtp_server.mailbox.to(ALICE)[1]
    assert notice.message["Subject"] == "Your password was changed"
    body = notice.text + notice.html
    assert "203.0.113.7" in body
    for secret in (code, NEW_PASSWORD, STRONG_PASSWORD):
        assert secret not in body


def test_other_open_codes_are_spent_by_a_successful_reset(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), ALICE)
    forgot_password(new_client(wsgi_app), ALICE)
    deliver_mail(wsgi_app)
    first, second = (m.link_code for m in smtp_server.mailbox.to(ALICE))
    client = new_client(wsgi_app)
    open_link(client, second)
    choose_password(client, NEW_PASSWORD)
    assert "already been used" in open_link(new_client(wsgi_app), first, status=400).text
    with db(wsgi_app) as session:
        open_codes = session.execute(
            text("select count(*) from one_time_codes where used_at is null")
        ).scalar_one()
    assert open_codes == 0


# The form a link leads to is drawn from the verdict of opening it; sending the form
# checks the code again and spends it.


def _open_a_reset_link(wsgi_app, client, smtp_server) -> str:
    """Alice asks for a reset and opens the emailed link in `client`; returns the code."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code
    open_link(client, code)
    return code


def _statements(wsgi_app):
    """The SQL statements the app runs from now on, as a list that fills up."""
    seen: list[str] = []
    event.listen(
        wsgi_app.registry["db_engine"],
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: seen.append(statement),
    )
    return seen


def test_the_form_after_the_link_reads_no_code_from_the_database(wsgi_app, client, smtp_server):
    _open_a_reset_link(wsgi_app, client, smtp_server)
    statements = _statements(wsgi_app)
    page = client.get("/account/reset_password")
    assert ALICE in page.text
    assert not [s for s in statements if "one_time_codes" in s]


def test_a_code_used_elsewhere_after_its_link_was_opened_is_refused_when_sent(
    wsgi_app, client, smtp_server
):
    code = _open_a_reset_link(wsgi_app, client, smtp_server)
    page = client.get("/account/reset_password")
    other = new_client(wsgi_app)
    open_link(other, code)
    choose_password(other, NEW_PASSWORD)
    form = next(f for f in page.forms.values() if f.action == "/account/reset_password")
    form["password"] = "an attacker's own 2nd choice"
    form["confirm_password"] = "an attacker's own 2nd choice"
    refused = form.submit(status=400)
    assert "already been used" in refused.text
    sign_in(new_client(wsgi_app), ALICE, NEW_PASSWORD)


def test_the_form_of_a_code_that_expired_after_its_link_was_opened_says_so(
    wsgi_app, client, clock, smtp_server
):
    _open_a_reset_link(wsgi_app, client, smtp_server)
    clock.advance(minutes=61)
    page = client.get("/account/reset_password", status=400)
    assert "expired" in page.text


def test_showing_the_form_again_sends_no_new_session_cookie(wsgi_app, client, smtp_server):
    """A page that changes nothing in the session leaves its cookie alone (an empty
    queue of flash messages is not taken out of it)."""
    _open_a_reset_link(wsgi_app, client, smtp_server)
    client.get("/account/reset_password")
    again = client.get("/account/reset_password")
    assert not [v for k, v in again.headerlist if k == "Set-Cookie" and "session" in v]


def test_a_link_opened_before_verdicts_were_kept_still_opens_its_form(
    wsgi_app, client, smtp_server, monkeypatch
):
    """A session holding only the code (as opening a link did before the verdict was
    kept beside it, or does on an older process during a rolling deploy)."""
    from app.controllers.emailed_links import EmailedLinkController
    from app.controllers.password_reset import PasswordResetController

    monkeypatch.setattr(
        PasswordResetController, "keep_pending_code", EmailedLinkController.keep_pending_code
    )
    _open_a_reset_link(wsgi_app, client, smtp_server)
    monkeypatch.undo()
    assert ALICE in client.get("/account/reset_password").text
    choose_password(client, NEW_PASSWORD)
    sign_in(new_client(wsgi_app), ALICE, NEW_PASSWORD)


def test_the_reset_code_leaves_the_session_with_the_reset(wsgi_app, client, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.to(ALICE)[0].link_code)
    choose_password(client, NEW_PASSWORD)
    # No code is left in this browser's session, only the note that it used its link,
    # so that a form still open in another tab says so (not that the link expired).
    page = client.get("/account/reset_password", status=400)
    assert "already been used" in page.text and "expired" not in page.text


def test_a_reset_link_opened_in_time_is_refused_at_the_second_it_expires(
    wsgi_app, client, clock, smtp_server
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.to(ALICE)[0].link_code)
    client.get("/account/reset_password", status=200)
    clock.advance(minutes=60)
    expired = client.get("/account/reset_password", status=400)
    assert "expired" in expired.text
    # The page offers the way to a new link.
    again = expired.html.select_one("p.actions a.button")
    assert (again["href"], again.get_text(strip=True)) == (
        "/account/forgot_password",
        "Ask for a new link",
    )


def test_a_form_left_open_in_another_tab_says_the_link_was_used(wsgi_app, smtp_server):
    create_account(wsgi_app, "alice@example.com", STRONG_PASSWORD)
    client = new_client(wsgi_app)
    forgot_password(client, "alice@example.com")
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.messages[-1].link_code)
    first_tab = client.get("/account/reset_password")
    second_tab = client.get("/account/reset_password")
    first = form_by_action(first_tab, "/account/reset_password")
    first["password"] = first["confirm_password"] = "violet mango tractor 1987"
    first.submit(status=200)
    form = form_by_action(second_tab, "/account/reset_password")
    form["password"] = form["confirm_password"] = "another violet mango 1988"
    refused = form.submit(status=400)
    assert "already been used" in refused.text and "expired" not in refused.text
    # A browser that never used a link hears nothing of it.
    assert (
        "already been used"
        not in new_client(wsgi_app).get("/account/reset_password", status=400).text
    )
