"""What every response carries, and answers that do not tell who has an account."""

from __future__ import annotations

import re
import statistics
import time

import pyramid.session
import pytest

from app.web.headers import CONTENT_SECURITY_POLICY
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, sign_in
from tests.support import comparable, form_by_action

ALICE = "alice@example.com"
ANONYMOUS_PAGES = [
    "/",
    "/account/signin",
    "/account/register",
    "/account/forgot_password",
    "/account/reset_sent",
]
SIGNED_IN_PAGES = [
    "/account",
    "/account/change_password",
    "/account/sessions",
    "/account/two_factor",
    "/account/passkeys",
    "/account/reauthenticate",
]


def _all_pages(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    anonymous = new_client(wsgi_app)
    pages = [anonymous.get(url) for url in ANONYMOUS_PAGES]
    pages.append(anonymous.get("/account/reset_password/not-a-code", status=400))
    pages.append(anonymous.get("/no/such/page", status=404))
    member = new_client(wsgi_app)
    sign_in(member, ALICE, STRONG_PASSWORD)
    pages += [member.get(url) for url in SIGNED_IN_PAGES]
    return pages


def test_every_page_sends_the_security_headers(wsgi_app):
    for page in _all_pages(wsgi_app):
        headers = page.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, page.request.url
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in headers


def test_static_files_carry_the_security_headers_and_may_be_cached(wsgi_app):
    css = new_client(wsgi_app).get("/static/site.css")
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    assert css.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert css.headers.getall("Cache-Control") == ["max-age=3600"]


def test_no_page_loads_anything_from_another_origin_or_runs_inline_script(wsgi_app):
    for page in _all_pages(wsgi_app):
        for tag in page.html.find_all(src=True) + page.html.find_all(href=True):
            target = tag.get("src") or tag.get("href")
            same_page = target.startswith("#")
            assert same_page or (target.startswith("/") and not target.startswith("//")), target
        for form in page.html.find_all("form"):
            assert form["action"].startswith("/") and not form["action"].startswith("//")
        # Scripts only as files of this site, each with nothing inline.
        for script in page.html.find_all("script"):
            assert script["src"].startswith("/static/") and not script.string, script
        assert not page.html.find_all(style=True)
        assert not re.search(r"\son[a-z]+=", page.text)


def test_secure_cookies_and_hsts_in_production(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "app.secure_cookies": "true"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    client.extra_environ["wsgi.url_scheme"] = "https"
    response = sign_in(client, ALICE, STRONG_PASSWORD)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = response.headers.getall("Set-Cookie")
    assert cookies
    for cookie in cookies:
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert "secure" in attributes and "httponly" in attributes
        # Not sent with another site's POST (attribute values are case-insensitive).
        assert "samesite=lax" in attributes


@pytest.mark.parametrize("form_url", ["/account/forgot_password", "/account/signin"])
def test_known_and_unknown_emails_get_identical_answers(wsgi_app, form_url):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    answers = []
    for email in (ALICE, "nobody@example.com"):
        client = new_client(wsgi_app)
        form = form_by_action(client.get(form_url), form_url)
        form["email"] = email
        if "password" in form.fields:
            form["password"] = "a wrong password for either"
        answers.append(comparable(form.submit(expect_errors=True), email))
    known, unknown = answers
    assert known == unknown


@pytest.mark.parametrize("seconds_later", [0, 1, 59])
def test_a_form_sent_soon_after_it_was_shown_gets_no_new_session_cookie(
    wsgi_app, monkeypatch, seconds_later
):
    """Whether the answer re-issues the session cookie must not depend on whether a
    second ticked over while the form was filled in; otherwise two answers that should
    be identical (known and unknown email) could differ by a Set-Cookie."""
    shown_at = 1_900_000_000.5
    monkeypatch.setattr(pyramid.session.time, "time", lambda: shown_at)
    client = new_client(wsgi_app)
    form = form_by_action(client.get("/account/forgot_password"), "/account/forgot_password")
    monkeypatch.setattr(pyramid.session.time, "time", lambda: shown_at + seconds_later)
    form["email"] = "nobody@example.com"
    answer = form.submit()
    assert "session=" not in " ".join(answer.headers.getall("Set-Cookie"))


def test_an_unknown_email_costs_one_password_hash_check(wsgi_app, monkeypatch):
    hasher = wsgi_app.registry["services"].passwords.hasher
    calls = []
    original = hasher.dummy_verify
    monkeypatch.setattr(hasher, "dummy_verify", lambda: calls.append(1) or original())
    sign_in(new_client(wsgi_app), "nobody@example.com", STRONG_PASSWORD, status=400)
    assert len(calls) == 1


@pytest.mark.parametrize("form_url", ["/account/forgot_password", "/account/signin"])
def test_known_and_unknown_emails_take_the_same_time(owasp_app, form_url):
    """docs/security.md 11: medians of 50 interleaved requests each differ by < 10 ms,
    with the real hashing cost (a missing dummy verification would show as ~30 ms)."""
    create_account(owasp_app, ALICE, STRONG_PASSWORD)
    client = new_client(owasp_app)
    token = form_by_action(client.get(form_url), form_url)["csrf_token"].value
    timings: dict[str, list[float]] = {ALICE: [], "nobody@example.com": []}
    for _ in range(50):
        for email in timings:
            fields = {"csrf_token": token, "email": email, "password": "a wrong password"}
            started = time.perf_counter()
            client.post(form_url, fields, expect_errors=True)
            timings[email].append(time.perf_counter() - started)
    medians = {email: statistics.median(values) for email, values in timings.items()}
    difference_ms = abs(medians[ALICE] - medians["nobody@example.com"]) * 1000
    assert difference_ms < 10, medians
