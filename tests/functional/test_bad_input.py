"""docs/security.md's bad inputs, each against the routes it targets: a clear 4xx or the
generic answer, never a 500, and never a changed account."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.models import Account, LoginSession
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, deliver_mail, forgot_password
from tests.functional.test_csrf import _signed_in_admin, post_views
from tests.support import form_by_action

ALICE = "alice@example.com"
MB = 1024 * 1024

# Raw, already percent-encoded values, so that invalid UTF-8 reaches the app as sent.
EMAILS = {
    "nul": quote("alice@example.com\x00"),
    "invalid utf-8 ff": "alice%FF@example.com",
    "overlong slash": "%C0%AF@example.com",
    "lone surrogate": "%ED%A0%80@example.com",
    "crlf header injection": quote("alice@example.com\r\nBcc: a@evil.test"),
    "two addresses": quote("alice@example.com,a@evil.test"),
    "too long": quote("a" * 250 + "@example.com"),
    "sql": quote("alice@example.com' OR '1'='1"),
    "sql drop": quote("'; DROP TABLE accounts; --@example.com"),
    "markup": quote("<script>alert(1)</script>@example.com"),
    "look-alike cyrillic a": quote("\u0430lice@example.com"),
    "case variant": quote("ALICE@EXAMPLE.COM"),
    "spaces": quote("  alice@example.com  "),
    "empty": "",
}
PASSWORDS = {
    "nul": quote("correct horse\x00battery staple"),
    "invalid utf-8": "correct%FFhorse%C0%AFbattery%ED%A0%80",
    "129 characters": quote("x" * 129),
    "60 KB": quote("y" * 60_000),
    "sql": quote("' OR 1=1; --"),
    "markup": quote("<b>bold</b> password text"),
    "combining accent": quote("cafe\u0301 correct horse battery"),
    "empty": "",
}


@pytest.fixture
def alice_app(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    return wsgi_app


def _snapshot(wsgi_app):
    with db(wsgi_app) as session:
        accounts = [
            (a.id, a.email, a.password_hash, a.is_disabled, a.password_changed_at)
            for a in session.scalars(select(Account).order_by(Account.id))
        ]
        sessions = session.scalars(select(LoginSession.id)).all()
    return accounts, len(sessions)


def _post_raw(client, url: str, body: str, **kwargs):
    token = form_by_action(client.get(url), url)["csrf_token"].value
    raw = f"csrf_token={quote(token)}&{body}".encode("latin-1")
    return client.post(
        url, raw, content_type="application/x-www-form-urlencoded", status="*", **kwargs
    )


def _assert_answered_well(response, allowed=(400, 404, 413, 429)) -> None:
    assert response.status_int < 500, response.text[:500]
    assert response.status_int in allowed or response.status_int == 303
    assert "Traceback" not in response.text
    assert "<script>" not in response.text


@pytest.mark.parametrize("email", EMAILS.values(), ids=EMAILS.keys())
def test_bad_emails_at_sign_in(alice_app, email):
    before = _snapshot(alice_app)
    client = new_client(alice_app)
    response = _post_raw(client, "/account/signin", f"email={email}&password=wrong+guess+here")
    _assert_answered_well(response)
    assert response.status_int in (400, 429)
    assert "auth" not in client.cookies
    assert _snapshot(alice_app) == before


@pytest.mark.parametrize("email", EMAILS.values(), ids=EMAILS.keys())
def test_bad_emails_at_forgot_password(alice_app, email, smtp_server):
    before = _snapshot(alice_app)
    response = _post_raw(new_client(alice_app), "/account/forgot_password", f"email={email}")
    _assert_answered_well(response)
    assert _snapshot(alice_app) == before
    deliver_mail(alice_app)
    for mail in smtp_server.mailbox.messages:
        # Only ever the real owner, never a smuggled extra recipient.
        assert mail.recipients == [ALICE]
        assert "evil.test" not in str(mail.message)


@pytest.mark.parametrize("email", EMAILS.values(), ids=EMAILS.keys())
def test_bad_emails_at_registration(alice_app, email):
    before = _snapshot(alice_app)
    password = quote(STRONG_PASSWORD + " extra")
    response = _post_raw(
        new_client(alice_app),
        "/account/register",
        f"email={email}&password={password}&confirm_password={password}",
    )
    _assert_answered_well(response)
    accounts, _ = _snapshot(alice_app)
    # Alice is untouched; at most one new, well-formed account (the look-alike address).
    assert accounts[0] == before[0][0]
    for _id, stored, *_ in accounts[1:]:
        assert stored == stored.strip().lower() and "\x00" not in stored and "," not in stored


@pytest.mark.parametrize("password", PASSWORDS.values(), ids=PASSWORDS.keys())
def test_bad_passwords_at_registration_and_sign_in(alice_app, password):
    before = _snapshot(alice_app)
    client = new_client(alice_app)
    body = f"email=new%40example.com&password={password}&confirm_password={password}"
    _assert_answered_well(_post_raw(client, "/account/register", body))
    signin = _post_raw(
        new_client(alice_app), "/account/signin", f"email=alice%40example.com&password={password}"
    )
    _assert_answered_well(signin)
    assert signin.status_int in (400, 429)
    accounts, _ = _snapshot(alice_app)
    assert accounts[0] == before[0][0]


@pytest.mark.parametrize("size", [MB, 10 * MB], ids=["1 MB", "10 MB"])
@pytest.mark.parametrize(
    "url", ["/account/signin", "/account/register", "/account/forgot_password"]
)
def test_huge_posts_are_refused_before_they_are_read(alice_app, url, size):
    before = _snapshot(alice_app)
    body = "email=alice%40example.com&password=" + "A" * size
    response = _post_raw(new_client(alice_app), url, body)
    assert response.status_int == 413
    assert _snapshot(alice_app) == before


@pytest.fixture
def code(alice_app, smtp_server) -> str:
    forgot_password(new_client(alice_app), ALICE)
    deliver_mail(alice_app)
    return smtp_server.mailbox.to(ALICE)[0].link_code


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: "",
        lambda c: c[:-1],
        lambda c: c[:20],
        lambda c: c.swapcase(),
        lambda c: c + "%0A",
        lambda c: c + "%00",
        lambda c: c + "%FF",
        lambda c: "%C0%AF" + c,
        lambda c: "%ED%A0%80",
        lambda c: c + "x" * (1024 * 1024),
        lambda c: "../" + c,
        lambda c: "%3Cscript%3E",
    ],
    ids=[
        "empty",
        "one short",
        "truncated",
        "case changed",
        "trailing newline",
        "nul",
        "invalid utf-8",
        "overlong prefix",
        "surrogate",
        "1 MB",
        "path traversal",
        "markup",
    ],
)
def test_bad_codes_are_refused_and_the_real_one_still_works(alice_app, code, mangle):
    client = new_client(alice_app)
    response = client.get(f"/account/reset_password/{mangle(code)}", status="*")
    _assert_answered_well(response)
    assert response.status_int in (400, 404)
    assert client.get("/account/reset_password", status="*").status_int == 400
    client.get(f"/account/reset_password/{code}", status=303)


def test_repeated_fields_are_refused(alice_app):
    before = _snapshot(alice_app)
    response = _post_raw(
        new_client(alice_app),
        "/account/signin",
        f"email=alice%40example.com&email=bob%40example.com&password={quote(STRONG_PASSWORD)}",
    )
    assert response.status_int == 400
    assert "repeated" in response.text
    assert _snapshot(alice_app) == before


def test_combining_accent_and_precomposed_emails_are_one_account(wsgi_app):
    create_account(wsgi_app, "alice@caf\u00e9.example", STRONG_PASSWORD)
    client = new_client(wsgi_app)
    body = (
        f"email={quote('alice@cafe' + chr(0x301) + '.example')}&password={quote(STRONG_PASSWORD)}"
    )
    assert _post_raw(client, "/account/signin", body).status_int == 303


def test_markup_is_escaped_where_it_is_shown_back(alice_app):
    response = _post_raw(
        new_client(alice_app),
        "/account/signin",
        "email=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E&password=x",
    )
    assert response.status_int == 400
    assert "<img" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999", "1e3", "-1"])
def test_ids_too_large_for_the_database_are_not_found(alice_app, number):
    client = new_client(alice_app)
    from tests.functional.flows import sign_in

    sign_in(client, ALICE, STRONG_PASSWORD)
    token = form_by_action(client.get("/account/sessions"), "/account/logout")["csrf_token"].value
    response = client.post(f"/account/sessions/{number}/revoke", {"csrf_token": token}, status="*")
    assert response.status_int == 404
    assert client.get("/account").status_int == 200


def test_odd_page_numbers_fall_back_to_the_first_page(alice_app):
    client = new_client(alice_app)
    from tests.functional.flows import sign_in

    sign_in(client, ALICE, STRONG_PASSWORD)
    for page in ("\u00b2", "\u0663", "-1", "1e9", "9" * 40, "%00"):
        response = client.get("/account/activity", params={"page": page}, status="*")
        assert response.status_int == 200, page


def test_a_came_from_with_non_ascii_letters_falls_back_to_the_account_page(alice_app):
    client = new_client(alice_app)
    page = client.get("/account/signin", params={"came_from": "/\u20ac"})
    form = form_by_action(page, "/account/signin")
    form["email"] = ALICE
    form["password"] = STRONG_PASSWORD
    assert form.submit(status=303).location.endswith("/account")


def test_opening_the_reset_form_without_a_link_does_not_count_as_a_bad_code(alice_app, code):
    client = new_client(alice_app)
    for _ in range(25):
        client.get("/account/reset_password", status=400)
    client.get(f"/account/reset_password/{code}", status=303)


# Every field name a form or protocol endpoint of the app reads.
FORM_FIELDS = (
    "email",
    "password",
    "current_password",
    "new_email",
    "code",
    "name",
    "locale",
    "came_from",
    "next",
    "remember_me",
    "action",
    "id_token_hint",
    "client_id",
    "client_secret",
    "redirect_uri",
    "redirect_uris",
    "post_logout_redirect_uri",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "state",
    "scope",
    "response_type",
    "grant_type",
    "token",
    "refresh_token",
    "code_verifier",
    "consent",
)


def test_files_uploaded_where_every_post_view_reads_text_get_no_500(wsgi_app):
    """Each POST view of the app (found in its registry, as the CSRF test finds them),
    sent a multipart form whose every field is a file, by a signed-in administrator with
    the right CSRF token: a 4xx or the view's usual answer, never a server error."""
    client, ids = _signed_in_admin(wsgi_app)
    token = client.get("/account/sessions").html.find("input", {"name": "csrf_token"})["value"]
    failures = []
    for view in post_views(wsgi_app, ids):
        if view.route in ("account.logout", "account.sessions.revoke"):
            continue  # they would end the session the others need
        answer = client.post(
            view.path,
            {"csrf_token": token},
            upload_files=[(name, "x.txt", b"text") for name in FORM_FIELDS],
            headers={"X-CSRF-Token": token},
            status="*",
            expect_errors=True,
        )
        if answer.status_int >= 500:
            failures.append(f"{view.route} {view.path}: {answer.status}")
    assert failures == []
