"""Every flow in real Chromium against a real server, with accessibility checks."""

from __future__ import annotations

import re
import time

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

ALICE = "alice@example.com"
NEW_PASSWORD = "violet mango tractor 1987"


def test_forgotten_password_from_register_to_used_link(live_server, context_factory, mail_server):
    url = live_server.url
    page = context_factory().new_page()
    register(page, url, mail_server, ALICE, STRONG_PASSWORD)
    page.get_by_role("button", name="Sign out").click()

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    link = mail_for(mail_server, ALICE, count=2).link
    page.goto(link)
    expect(page).to_have_url(f"{url}/account/reset_password")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Reset my password").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Your password has been reset, please sign in."
    )

    sign_in(page, url, ALICE, STRONG_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("Email or password is incorrect.")
    sign_in(page, url, ALICE, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    other = context_factory().new_page()
    other.goto(link)
    expect(other.get_by_role("alert")).to_contain_text("already been used")


def test_changing_the_password_in_one_browser_ends_the_session_in_another(
    live_server, context_factory, mail_server
):
    url = live_server.url
    laptop = context_factory().new_page()
    register(laptop, url, mail_server, ALICE, STRONG_PASSWORD)
    phone = context_factory(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, url, ALICE, STRONG_PASSWORD)
    expect(phone.get_by_role("heading", name="Your account")).to_be_visible()

    laptop.goto(f"{url}/account/change_password")
    laptop.get_by_label("Current password").fill(STRONG_PASSWORD)
    laptop.get_by_label("New password", exact=True).fill(OTHER_PASSWORD)
    laptop.get_by_label("New password again").fill(OTHER_PASSWORD)
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.get_by_role("status")).to_contain_text("Your password has been changed")

    phone.goto(f"{url}/account")
    expect(phone).to_have_url(re.compile(r"/account/signin\?came_from="))


def test_admin_invites_a_user_who_chooses_a_password_and_signs_in(
    live_server, context_factory, mail_server
):
    url = live_server.url
    admin = context_factory().new_page()
    register(admin, url, mail_server, "admin@example.com", STRONG_PASSWORD)
    make_admin(live_server.app, "admin@example.com")
    admin.goto(f"{url}/admin/accounts")
    admin.get_by_role("link", name="Invite someone").click()
    admin.get_by_label("Email address").fill(ALICE)
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("status")).to_contain_text(f"Invitation sent to {ALICE}")

    user = context_factory().new_page()
    user.goto(mail_for(mail_server, ALICE).link)
    expect(user.get_by_role("heading", name="Choose your password")).to_be_visible()
    user.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    user.get_by_label("New password again").fill(NEW_PASSWORD)
    user.get_by_role("button", name="Set my password").click()
    expect(user.get_by_role("status")).to_contain_text("Your password is set")
    sign_in(user, url, ALICE, NEW_PASSWORD)
    expect(user.get_by_role("heading", name="Your account")).to_be_visible()

    admin.goto(f"{url}/admin/accounts")
    expect(admin.locator("tr", has_text=ALICE)).to_contain_text("Active")


def test_sign_in_works_with_the_keyboard_alone(live_server, context_factory, mail_server):
    url = live_server.url
    page = context_factory().new_page()
    register(page, url, mail_server, ALICE, STRONG_PASSWORD)
    page.get_by_role("button", name="Sign out").click()

    page.goto(f"{url}/account/signin")
    page.keyboard.press("Tab")  # the email field has autofocus; Tab moves on from it
    page.get_by_label("Email address").focus()
    page.keyboard.type(ALICE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(STRONG_PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "password-toggle"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "remember_me"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Sign in"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()


def test_a_new_account_is_confirmed_from_the_email_and_signed_in(
    live_server, context_factory, mail_server
):
    url = live_server.url
    page = context_factory(bypass_csp=True).new_page()
    page.goto(f"{url}/account/register")
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("Password again").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_accessibility(page)

    # Signing in before confirming sends a new link, and no session.
    sign_in(page, url, ALICE, STRONG_PASSWORD)
    expect(page.get_by_role("heading", name="Confirm your email address first")).to_be_visible()
    check_accessibility(page)

    page.goto(mail_for(mail_server, ALICE, count=2).link)
    expect(page).to_have_url(f"{url}/account/verify_email")
    expect(page.get_by_text("Enter the password you chose when you registered")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Password").fill(OTHER_PASSWORD)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not the password")
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your email address is confirmed")


def test_changing_the_email_address_in_the_browser(live_server, context_factory, mail_server):
    url = live_server.url
    page = context_factory(bypass_csp=True).new_page()
    register(page, url, mail_server, ALICE, STRONG_PASSWORD)
    page.get_by_role("link", name="Change your email address").click()
    check_accessibility(page)
    page.get_by_label("New email address").fill("alice@new.example.com")
    page.get_by_label("Current password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Send the confirmation link").click()
    expect(page.get_by_role("heading", name="Check your new address")).to_be_visible()

    page.goto(mail_for(mail_server, "alice@new.example.com").link)
    expect(page).to_have_url(f"{url}/account/confirm_email")
    check_accessibility(page)
    page.get_by_role("button", name="Use this address").click()
    expect(page.get_by_role("status")).to_contain_text("alice@new.example.com")
    told = mail_for(mail_server, ALICE, count=2)
    assert "a***@new.example.com" in told.text

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, url, "alice@new.example.com", STRONG_PASSWORD)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    # The old address takes the account back with the link in its notice, in another
    # browser: the first is signed out.
    # Its owner downloads everything held about it.
    page.get_by_role("link", name="Download your data").click()
    check_accessibility(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "account.json"

    owner = context_factory(bypass_csp=True).new_page()
    owner.goto(told.link)
    expect(owner).to_have_url(f"{url}/account/undo_email_change")
    check_accessibility(owner)
    owner.get_by_role("button", name="Put my address back and sign everyone out").click()
    expect(owner.get_by_role("heading", name="Your address is back")).to_be_visible()
    check_accessibility(owner)
    page.goto(f"{url}/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "/account/reset_password/" in mail_for(mail_server, ALICE, count=3).text


def test_two_factor_sign_in_in_the_browser(live_server, context_factory, mail_server):
    import pyotp

    url = live_server.url
    page = context_factory(bypass_csp=True).new_page()
    register(page, url, mail_server, ALICE, STRONG_PASSWORD)
    page.get_by_role("link", name="Two-factor sign-in").click()
    check_accessibility(page)
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.locator("svg")).to_be_visible()
    check_accessibility(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    expect(page.get_by_role("button", name="Download as a text file")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "recovery-codes")
    page.get_by_role("button", name="Sign out").click()

    # The right password alone: the second step, and no session.
    sign_in(page, url, ALICE, STRONG_PASSWORD)
    expect(page).to_have_url(f"{url}/account/signin/two_factor")
    check_accessibility(page)
    page.goto(f"{url}/account")
    expect(page).to_have_url(re.compile(r"/account/signin\?came_from="))
    sign_in(page, url, ALICE, STRONG_PASSWORD)
    page.get_by_label("Code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    # A code of the next time step: the one used at set-up cannot be used again.
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
