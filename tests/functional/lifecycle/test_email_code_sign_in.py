"""docs/security.md 73 (first part): signing in with an emailed code. The code is 8
characters of a 32-letter alphabet (40 bits), single use, good for 10 minutes and three
tries, works only in the browser that asked, and is limited per address; asking answers
the same for unknown addresses; it is one factor (a second factor is still asked)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Account, LoginSession, OneTimeCode
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import (
    code_at,
    create_account,
    db,
    deliver_mail,
    is_signed_in,
    recorded_events,
    set_up_totp,
    sign_in,
)
from tests.support import form_by_action

OWNER = "owner@example.com"
CODE_LINE = re.compile(r"^\s*([0-9A-Z]{4}-[0-9A-Z]{4})\s*$", re.MULTILINE)


def ask_code(client, email: str = OWNER, status: int = 303):
    page = client.get("/account/signin/email_code")
    form = form_by_action(page, "/account/signin/email_code")
    form["email"] = email
    return form.submit(status=status)


def emailed_codes(app, smtp_server, address: str = OWNER) -> list[str]:
    """The codes emailed to the address, oldest first: each alone on its own line."""
    deliver_mail(app)
    told = smtp_server.mailbox.to(address, about="sign-in code")
    return [code for mail in told for code in CODE_LINE.findall(mail.text)]


def emailed_code(app, smtp_server, address: str = OWNER) -> str:
    codes = emailed_codes(app, smtp_server, address)
    assert codes, "no code was emailed"
    return codes[-1]


def type_code(client, code: str, status: int = 303, remember: bool = False):
    page = client.get("/account/signin/email_code/verify")
    form = form_by_action(page, "/account/signin/email_code/verify")
    form["code"] = code
    if remember:
        form["remember_me"] = True
    return form.submit(status=status)


def test_a_code_from_the_email_signs_in(wsgi_app, smtp_server):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    browser = new_client(wsgi_app)
    asked = ask_code(browser)
    assert urlsplit(asked.location).path == "/account/signin/email_code/verify"
    code = emailed_code(wsgi_app, smtp_server)
    assert len(code.replace("-", "")) == 8
    done = type_code(browser, code.lower().replace("-", " "))
    assert urlsplit(done.location).path == "/account"
    assert is_signed_in(browser)
    with db(wsgi_app) as session:
        [live] = session.scalars(select(LoginSession)).all()
    assert live.sign_in_method == "email_code"
    # Single use: the same code again, even in the same browser, is refused.
    ask_code(browser)
    refused = type_code(browser, code, status=400)
    assert "not right" in refused.text


def test_the_code_works_only_in_the_browser_that_asked(wsgi_app, smtp_server):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    asking, other = new_client(wsgi_app), new_client(wsgi_app, ip="198.51.100.4")
    ask_code(asking)
    ask_code(other)
    first, _second = emailed_codes(wsgi_app, smtp_server)
    # The other browser got its own code; the first browser's code is no good there.
    refused = type_code(other, first, status=400)
    assert "not right" in refused.text
    assert not is_signed_in(other)
    type_code(asking, first)
    assert is_signed_in(asking)


def test_three_wrong_tries_kill_the_code(wsgi_app, smtp_server):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    browser = new_client(wsgi_app)
    ask_code(browser)
    code = emailed_code(wsgi_app, smtp_server)
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    for _ in range(3):
        assert "not right" in type_code(browser, wrong, status=400).text
    # Even the right code is refused now, with the same answer.
    assert "not right" in type_code(browser, code, status=400).text
    assert not is_signed_in(browser)
    assert len(recorded_events(wsgi_app, "sign_in_code_failed")) == 3


def test_the_code_expires_after_ten_minutes(wsgi_app, smtp_server, clock):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    browser = new_client(wsgi_app)
    ask_code(browser)
    code = emailed_code(wsgi_app, smtp_server)
    clock.advance(minutes=10)
    assert "not right" in type_code(browser, code, status=400).text
    assert not is_signed_in(browser)


def _answer(page) -> str:
    """What a page says, without what differs between two requests of the same page."""
    main = page.html.find("main") or page.html
    for hidden in main.find_all("input", {"name": "csrf_token"}):
        hidden.decompose()
    return re.sub(r"\S+@example\.com", "ADDRESS", main.get_text(" ", strip=True))


def test_unknown_addresses_get_the_same_answers(wsgi_app, smtp_server, clock):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    owner, stranger = new_client(wsgi_app), new_client(wsgi_app, ip="198.51.100.8")
    pages = []
    for browser, email in ((owner, OWNER), (stranger, "nobody@example.com")):
        asked = ask_code(browser, email)
        assert urlsplit(asked.location).path == "/account/signin/email_code/verify"
        answers = [browser.get("/account/signin/email_code/verify")]
        before = list(browser.cookiejar)
        # Four wrong tries: the fourth is past the code's three, and still the same.
        answers += [type_code(browser, "ABCD-EFGH", status=400) for _ in range(4)]
        # Replaying the cookies from before the tries changes nothing either.
        browser.cookiejar.clear()
        for cookie in before:
            browser.cookiejar.set_cookie(cookie)
        answers.append(type_code(browser, "ABCD-EFGH", status=400))
        pages.append([_answer(page) for page in answers])
    assert pages[0] == pages[1]
    deliver_mail(wsgi_app)
    assert smtp_server.mailbox.to("nobody@example.com") == []


def test_a_second_factor_is_still_asked(wsgi_app, smtp_server, clock):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, OWNER, STRONG_PASSWORD)
    secret, _codes = set_up_totp(owner, clock)
    browser = new_client(wsgi_app, ip="198.51.100.5")
    ask_code(browser)
    code = emailed_code(wsgi_app, smtp_server)
    step = type_code(browser, code)
    assert urlsplit(step.location).path == "/account/signin/two_factor"
    assert not is_signed_in(browser)
    clock.advance(seconds=30)
    page = browser.get("/account/signin/two_factor")
    form = form_by_action(page, "/account/signin/two_factor")
    form["code"] = code_at(secret, clock)
    form.submit(status=303)
    assert is_signed_in(browser)
    with db(wsgi_app) as session:
        methods = set(session.scalars(select(LoginSession.sign_in_method)))
    assert "email_code+totp" in methods


def test_codes_are_limited_per_address(wsgi_app, smtp_server):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    statuses = [
        ask_code(new_client(wsgi_app, ip=f"198.51.100.{n}"), status="*").status_int
        for n in range(10, 16)
    ]
    assert statuses == [303] * 5 + [429]
    deliver_mail(wsgi_app)
    assert len(smtp_server.mailbox.to(OWNER, about="sign-in code")) == 5


def test_a_code_confirms_an_unconfirmed_address(wsgi_app, smtp_server):
    account_id = create_account(wsgi_app, OWNER, STRONG_PASSWORD, confirmed=False)
    browser = new_client(wsgi_app)
    ask_code(browser)
    type_code(browser, emailed_code(wsgi_app, smtp_server))
    assert is_signed_in(browser)
    with db(wsgi_app) as session:
        assert session.get(Account, account_id).email_verified_at is not None


def test_the_setting_turns_it_off(make_app, app_settings):
    app = make_app({**app_settings, "signin.email_codes": "false"})
    browser = new_client(app)
    browser.get("/account/signin/email_code", status=404)
    browser.get("/account/signin/email_code/verify", status=404)
    assert browser.get("/account/signin").html.find(id="signin-email-code") is None


def test_bad_input_is_a_clear_400(wsgi_app, smtp_server):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    browser = new_client(wsgi_app)
    assert "email" in ask_code(browser, "not an address", status=400).text.lower()
    ask_code(browser)
    for typed in ("", "x" * 5000, "ABCD\x00EFGH", "ÄÖÜ-ßßßß"):
        answer = type_code(browser, typed, status=400)
        assert "code" in answer.text.lower()
    # Nothing, or more than a code field holds, is not a try; the two malformed codes
    # were: the right code is the third and last.
    with db(wsgi_app) as session:
        [asked] = session.scalars(select(OneTimeCode)).all()
        assert asked.attempts == 2
    type_code(browser, emailed_code(wsgi_app, smtp_server))
    assert is_signed_in(browser)


def test_an_account_being_deleted_gets_no_code(wsgi_app, smtp_server):
    create_account(wsgi_app, OWNER, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, OWNER, STRONG_PASSWORD)
    form_by_action(owner.get("/account/delete"), "/account/delete").submit(status=303)
    browser = new_client(wsgi_app)
    ask_code(browser)
    deliver_mail(wsgi_app)
    assert smtp_server.mailbox.to(OWNER, about="sign-in code") == []
    assert "not right" in type_code(browser, "ABCD-EFGH", status=400).text
