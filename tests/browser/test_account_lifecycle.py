"""An account's life in Chromium at a laptop's and a phone's width: signing in with a
code from the email (a mistyped code first), deleting the account, and bringing it back
with the emailed link; axe-core finds no serious problem on any of those pages, and the
focus lands on the field at fault after an error."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.steps import check_accessibility, register, screenshot
from tests.conftest import STRONG_PASSWORD

ALICE = "alice@example.com"
WIDTHS = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}
CODE_LINE = re.compile(r"^\s*([0-9A-Z]{4}-[0-9A-Z]{4})\s*$", re.MULTILINE)


def _mail_about(server: Any, subject: str) -> Any:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = server.mailbox.to(ALICE, about=subject)
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no email about {subject!r}")


def _check(page: Any, name: str, width: str) -> None:
    check_accessibility(page)
    screenshot(page, name if width == "desktop" else f"{name}-phone")


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_with_an_emailed_code_then_delete_and_restore(
    live_server, context_factory, mail_server, width
):
    url = live_server.url
    owner = context_factory(viewport=WIDTHS[width], bypass_csp=True).new_page()
    register(owner, url, mail_server, ALICE, STRONG_PASSWORD)
    owner.get_by_role("button", name="Sign out").click()

    page = context_factory(viewport=WIDTHS[width], bypass_csp=True).new_page()
    page.goto(f"{url}/account/signin")
    page.get_by_role("link", name="Email me a sign-in code").click()
    expect(page.get_by_role("heading", name="Sign in with a code by email")).to_be_visible()
    _check(page, "sign-in-email-code", width)
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("heading", name="Enter the code from the email")).to_be_visible()
    [code] = CODE_LINE.findall(_mail_about(mail_server, "sign-in code").text)

    # A mistyped code: told so, with the focus on the field.
    page.get_by_label("Code").fill("0000-0000" if code != "0000-0000" else "1111-1111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#error-summary")).to_contain_text("not right")
    expect(page.locator("#code")).to_be_focused()
    _check(page, "sign-in-email-code-wrong", width)
    page.get_by_label("Code").fill(code.lower())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    page.get_by_role("link", name="Delete your account").click()
    expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()
    _check(page, "delete-account", width)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("will be erased on")
    _check(page, "account-deleted", width)

    # The right password no longer signs in; the emailed link brings the account back.
    owner.goto(f"{url}/account/signin")
    owner.get_by_label("Email address").fill(ALICE)
    owner.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    owner.get_by_role("button", name="Sign in", exact=True).click()
    expect(owner.locator("#error-summary")).to_contain_text("being deleted")
    restore = _mail_about(mail_server, "will be deleted")
    assert "/account/restore/" in restore.text
    owner.goto(restore.link)
    expect(owner).to_have_url(f"{url}/account/restore")
    _check(owner, "restore-account", width)
    owner.get_by_role("button", name="Keep my account").click()
    expect(owner.get_by_role("status")).to_contain_text("is back")
    owner.get_by_label("Email address").fill(ALICE)
    owner.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    owner.get_by_role("button", name="Sign in", exact=True).click()
    expect(owner.get_by_role("heading", name="Your account")).to_be_visible()
