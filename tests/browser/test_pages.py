"""Every page in Chromium at a laptop's and a phone's width: axe-core finds no serious
or critical problem (signed out, signed in, as an administrator, with a form error
shown), the screenshots of docs/screenshots are taken, and what the pages do for people
(the focus after an error, the phone's margins, "remember me", the local times, the
show-password button, the disable confirmation) is checked where people would see it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.steps import (
    check_accessibility,
    mail_for,
    make_admin,
    register,
    screenshot,
    sign_in,
)
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD
from tests.functional.oidc_flows import REDIRECT_URI, Pkce, authorize_url, register_client

ALICE = "alice@example.com"
GERDA = "gerda@example.com"
BOB = "bob@example.com"
WIDTHS = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


def _check(page: Any, name: str, width: str) -> None:
    check_accessibility(page)
    screenshot(page, name if width == "desktop" else f"{name}-phone")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_is_accessible_at_both_widths(live_server, context_factory, mail_server, width):
    url = live_server.url
    # The pages' own CSP forbids injected scripts, axe included: these contexts bypass it.
    page = context_factory(viewport=WIDTHS[width], bypass_csp=True).new_page()
    anonymous_pages = {
        "home": "/",
        "register": "/account/register",
        "sign-in": "/account/signin",
        "forgot-password": "/account/forgot_password",
        "reset-sent": "/account/reset_sent",
        "link-not-usable": "/account/reset_password/not-a-real-code",
        "not-found": "/no/such/page",
    }
    for name, path in anonymous_pages.items():
        page.goto(url + path)
        _check(page, name, width)

    # Errors: every field at fault, and a refused sign-in.
    page.goto(f"{url}/account/register")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#error-summary")).to_be_visible()
    _check(page, "form-errors", width)
    page.goto(f"{url}/account/signin")
    page.get_by_label("Email address").fill("nobody@example.com")
    page.get_by_label("Password", exact=True).fill("not the password at all")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#error-summary")).to_contain_text("incorrect")
    _check(page, "sign-in-refused", width)

    register(page, url, mail_server, ALICE, STRONG_PASSWORD)
    make_admin(live_server.app, ALICE)

    # The page behind a reset link, in another browser.
    stranger = context_factory(viewport=WIDTHS[width], bypass_csp=True).new_page()
    stranger.goto(f"{url}/account/forgot_password")
    stranger.get_by_label("Email address").fill(ALICE)
    stranger.get_by_role("button", name="Send the link").click()
    expect(stranger.get_by_role("heading", name="Check your email")).to_be_visible()
    stranger.goto(mail_for(mail_server, ALICE, count=2).link)
    expect(stranger.get_by_role("heading", name="Choose a new password")).to_be_visible()
    _check(stranger, "choose-new-password", width)

    # Someone else: the one the administrator acts on, and a "new browser" email.
    other = context_factory(viewport=WIDTHS[width], bypass_csp=True).new_page()
    register(other, url, mail_server, BOB, OTHER_PASSWORD)
    other.context.clear_cookies()
    sign_in(other, url, BOB, OTHER_PASSWORD)
    bob_id = _account_id(live_server.app, BOB)

    # An application of someone else, which Alice allows on its consent page.
    forum = register_client(live_server.app, first_party=False, name="The forum")
    authorize = authorize_url(forum, Pkce.new())

    signed_in_pages = {
        "account": "/account",
        "change-password": "/account/change_password",
        "change-email": "/account/change_email",
        "two-factor": "/account/two_factor",
        "two-factor-setup": "/account/two_factor/totp",
        "passkeys": "/account/passkeys",
        "reauthenticate": "/account/reauthenticate?came_from=/account/change_email",
        "devices": "/account/sessions",
        "activity": "/account/activity",
        "export": "/account/export",
        "delete-account-last-admin": "/account/delete",
        "admin-accounts": "/admin/accounts",
        "admin-accounts-filtered": "/admin/accounts?status=active&sort=email",
        "admin-new-account": "/admin/accounts/new",
        "admin-account": f"/admin/accounts/{bob_id}",
        "admin-disable": f"/admin/accounts/{bob_id}/disable",
        "admin-delete": f"/admin/accounts/{bob_id}/delete",
        "admin-clients": "/admin/clients",
        "admin-new-client": "/admin/clients/new",
        "admin-client": f"/admin/clients/{forum.client_id}",
        "admin-remove-client": f"/admin/clients/{forum.client_id}/remove",
        "oidc-consent": authorize,
        "oidc-refused": "/oidc/authorize?client_id=unknown&response_type=code",
        "oidc-sign-out": f"/oidc/logout?client_id={forum.client_id}",
        "connected-apps-none": "/account/apps",
    }
    for name, path in signed_in_pages.items():
        page.goto(url + path)
        expect(page.locator("h1")).to_be_visible()
        _check(page, name, width)
    # The application's address answers here, so that the browser lands somewhere.
    page.route(
        f"{REDIRECT_URI}**",
        lambda route: route.fulfill(status=200, content_type="text/plain", body="back"),
    )
    page.goto(url + authorize)
    page.locator("#consent-allow").click()
    page.wait_for_url(f"{REDIRECT_URI}**")
    page.goto(url + "/account/apps")
    expect(page.locator("#connected-apps")).to_contain_text("The forum")
    _check(page, "connected-apps", width)

    # The "this wasn't me" page, from Bob's email about his new browser.
    alert = mail_for(mail_server, BOB, count=2)
    assert "/account/not_me/" in alert.link
    page.goto(alert.link)
    _check(page, "not-me", width)


def _account_id(app: Any, email: str) -> int:
    from sqlalchemy import select

    from app.models import Account

    with app.registry["dbsession_factory"]() as session:
        return session.scalar(select(Account.id).where(Account.email == email))


def test_pages_keep_a_margin_from_the_phones_edge(live_server, context_factory, mail_server):
    url = live_server.url
    page = context_factory(viewport=WIDTHS["phone"]).new_page()
    register(page, url, mail_server, ALICE, STRONG_PASSWORD)
    make_admin(live_server.app, ALICE)
    for path in ("/", "/account", "/account/sessions", "/account/activity", "/admin/accounts"):
        page.goto(url + path)
        left = page.locator("h1").bounding_box()["x"]
        assert left >= 12, (path, left)
        # Stacked table rows still say which value is which.
        if page.locator("td[data-label]").count():
            label = page.evaluate(
                "getComputedStyle(document.querySelector('td[data-label]'), '::before').content"
            )
            assert label.strip('"'), path


def test_after_an_error_the_focus_is_on_the_field_at_fault(live_server, context_factory):
    url = live_server.url
    page = context_factory().new_page()
    page.goto(f"{url}/account/register")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("Password again").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#email")).to_be_focused()
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email")).to_have_accessible_description(
        page.locator("#email-error").inner_text()
    )
    # The passwords were right: they are still there.
    expect(page.locator("#password")).to_have_value(STRONG_PASSWORD)
    # A link in the summary leads to the field.
    page.locator("#error-summary a").first.click()
    expect(page.locator("#email")).to_be_focused()

    page.goto(f"{url}/account/signin")
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_label("Password", exact=True).fill("wrong password here")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#password")).to_have_value("")


def test_remember_me_decides_how_long_the_cookie_lives(live_server, context_factory, mail_server):
    url = live_server.url
    setup = context_factory().new_page()
    register(setup, url, mail_server, ALICE, STRONG_PASSWORD)

    for remember in (False, True):
        context = context_factory()
        page = context.new_page()
        page.goto(f"{url}/account/signin")
        page.get_by_label("Email address").fill(ALICE)
        page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
        if remember:
            page.get_by_label("Remember me").check()
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()
        (auth,) = [c for c in context.cookies() if c["name"] == "auth"]
        if remember:
            assert auth["expires"] > time.time() + 29 * 86400
        else:
            assert auth["expires"] == -1  # a session cookie: gone when the browser closes


def test_a_disabled_account_is_told_why_and_whom_to_ask(live_server, context_factory, mail_server):
    url = live_server.url
    admin = context_factory().new_page()
    register(admin, url, mail_server, ALICE, STRONG_PASSWORD)
    make_admin(live_server.app, ALICE)
    bob = context_factory().new_page()
    register(bob, url, mail_server, BOB, OTHER_PASSWORD)
    bob_id = _account_id(live_server.app, BOB)

    admin.goto(f"{url}/admin/accounts/{bob_id}")
    admin.get_by_role("link", name="Disable").click()
    expect(admin.get_by_role("heading", name=f"Disable {BOB}?")).to_be_visible()
    admin.get_by_role("button", name="Disable and sign out").click()
    expect(admin.get_by_role("status").first).to_contain_text("disabled")

    bob.goto(f"{url}/account")
    expect(bob).to_have_url(f"{url}/account/signin?came_from=%2Faccount")
    sign_in(bob, url, BOB, OTHER_PASSWORD)
    expect(bob.locator("#error-summary")).to_contain_text("This account is disabled")
    expect(bob.locator("#error-summary")).to_contain_text("administrator")


def test_times_are_shown_in_the_visitors_zone_and_passwords_can_be_shown(
    live_server, context_factory, mail_server
):
    url = live_server.url
    page = context_factory(timezone_id="Pacific/Auckland", locale="en-NZ").new_page()
    register(page, url, mail_server, ALICE, STRONG_PASSWORD)
    page.goto(f"{url}/account/sessions")
    signed_in = page.locator("td[data-label='Signed in'] time").first
    expect(signed_in).not_to_contain_text("UTC")
    expect(signed_in).to_have_text("now")
    assert "UTC" not in (signed_in.get_attribute("title") or "UTC")

    page.goto(f"{url}/account/change_password")
    field = page.locator("#current_password")
    field.fill("what I typed")
    toggle = page.get_by_role("button", name="Show current password")
    toggle.click()
    expect(field).to_have_attribute("type", "text")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(field).to_have_attribute("type", "password")


def test_a_forgotten_password_in_german(live_server, context_factory, mail_server):
    """The whole way from "forgot your password" to signed in, in a German browser: every
    page in German, and the email too."""
    from babel.messages.pofile import read_po

    from app.i18n import LOCALE_DIR

    with (LOCALE_DIR / "de" / "LC_MESSAGES" / "app.po").open("rb") as po:
        german = {m.id: m.string for m in read_po(po) if isinstance(m.id, str)}

    url = live_server.url  # an account of its own: its language is kept on the account
    setup = context_factory().new_page()
    register(setup, url, mail_server, GERDA, STRONG_PASSWORD)
    # Registered in English; the language menu makes German the account's language,
    # which its emails then follow.
    setup.get_by_role("button", name="Deutsch").click()
    expect(setup.locator("html")).to_have_attribute("lang", "de")

    page = context_factory(locale="de-DE", bypass_csp=True).new_page()
    page.goto(f"{url}/account/signin")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("link", name=german["Forgot your password?"]).click()
    expect(page.get_by_role("heading", name=german["Forgot your password?"])).to_be_visible()
    page.locator("#email").fill(GERDA)
    page.get_by_role("button", name=german["Send the link"]).click()
    expect(page.get_by_role("heading", name=german["Check your email"])).to_be_visible()
    check_accessibility(page)

    mail = mail_for(mail_server, GERDA, count=2)
    assert mail.message["Subject"] == german["Reset your password"]
    page.goto(mail.link)
    expect(page.get_by_role("heading", name=german["Choose a new password"])).to_be_visible()
    page.locator("#password").fill(OTHER_PASSWORD)
    page.locator("#confirm_password").fill(OTHER_PASSWORD)
    page.get_by_role("button", name=german["Reset my password"]).click()
    expect(page.get_by_role("heading", name=german["Your password is changed"])).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=german["Sign in"], exact=True).last.click()
    expect(page.locator("#email")).to_have_value(GERDA)
    page.locator("#password").fill(OTHER_PASSWORD)
    page.get_by_role("button", name=german["Sign in"], exact=True).click()
    expect(page.get_by_role("heading", name=german["Your account"])).to_be_visible()
    screenshot(page, "account-german")
