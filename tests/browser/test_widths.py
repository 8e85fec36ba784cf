"""Every page in Chromium at a small phone's, a phone's and a laptop's width (320, 390 and
1280 px), in the light and the dark scheme, for an account with the longest address there
is and a long name: axe-core finds no serious or critical problem, and nothing scrolls
sideways. After a form error the focus is on the first field at fault, password fields
included.

The accounts, links and sessions the pages need are made once; each width and scheme then
gets one browser context, which sees the pages signed out, then with the cookies of the
browsers that opened the emailed links, then signed in as the administrator."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.steps import check_accessibility, make_admin, register, sign_in
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD
from tests.functional.flows import create_account
from tests.functional.oidc_flows import REDIRECT_URI, Pkce, authorize_url, register_client

# The longest addresses email-validator accepts are 254 characters; the registration
# takes this one of 245 (a 64-character local part, 63-character labels).
LONG_DOMAIN = ("b" * 63) + "." + ("c" * 63) + "." + ("d" * 40) + ".example.com"
ALICE = ("a" * 64) + "@" + LONG_DOMAIN
BOB = ("o" * 64) + "@" + LONG_DOMAIN
CAROL = ("c" * 64) + "@" + LONG_DOMAIN
DORA = ("d" * 64) + "@" + LONG_DOMAIN
# 80 characters, the most a name may have, most of them one word that cannot break.
LONG_NAME = ("Maximiliane " + "Wolfeschlegelsteinhausenbergerdorff" * 3)[:80]
LONG_APP = "The Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft forum"

WIDTHS = {
    320: {"width": 320, "height": 640},
    390: {"width": 390, "height": 844},
    1280: {"width": 1280, "height": 900},
}
SCHEMES = ("light", "dark")
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
# What sticks out, to say so when a page scrolls sideways.
WIDER_THAN_THE_SCREEN = """() => {
  const edge = document.documentElement.clientWidth + 0.5;
  const wide = Array.from(document.querySelectorAll("body *"))
    .filter((e) => e.getBoundingClientRect().right > edge || e.scrollWidth > e.clientWidth + 1);
  // The innermost ones: what is too wide, not everything around it.
  return wide.filter((e) => !wide.some((other) => other !== e && e.contains(other)))
    .slice(0, 5)
    .map((e) => {
      const classes = typeof e.className === "string" ? e.className.trim() : "";
      return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (classes ? "." + classes.replace(/ +/g, ".") : "");
    });
}"""

ANONYMOUS_PAGES = {
    "home": "/",
    "register": "/account/register",
    "sign-in": "/account/signin",
    "forgot-password": "/account/forgot_password",
    "reset-sent": "/account/reset_sent",
    "link-not-usable": "/account/reset_password/not-a-real-code",
    "sign-in-email-code": "/account/signin/email_code",
    "not-found": "/no/such/page",
}


@pytest.fixture
def live_server_settings() -> dict[str, str]:
    # Every width and scheme signs in, registers and mistypes from the same address:
    # the limits on those are not what this module checks.
    return {
        "ratelimit.signin_per_ip": "1000/5minutes",
        "ratelimit.signin_per_account": "1000/5minutes",
        "ratelimit.signin_per_device": "1000/5minutes",
        "ratelimit.register_per_ip": "1000/hour",
        "ratelimit.bad_code_per_ip": "1000/5minutes",
        "ratelimit.signin_code_per_ip": "1000/hour",
    }


@dataclass
class Stage:
    """What the pages need, made once: the administrator's cookies, emailed links, and
    the cookies of browsers in the middle of something."""

    signed_in: list[dict[str, Any]]
    reset_link: str
    not_me_link: str
    restore_link: str
    deleted: list[dict[str, Any]]
    code_asked: list[dict[str, Any]]
    signed_in_pages: dict[str, str]


def _mail_about(mail_server: Any, address: str, subject: str) -> Any:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = mail_server.mailbox.to(address, about=subject)
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no email about {subject!r} to {address}")


def _account_id(app: Any, email: str) -> int:
    from app.models import Account

    with app.registry["dbsession_factory"]() as session:
        return session.scalar(select(Account.id).where(Account.email == email))


def _set_up(live_server: Any, context_factory: Any, mail_server: Any) -> Stage:
    url, app = live_server.url, live_server.app
    from app.models import Account

    # The administrator, registered through the pages (the address is accepted), with
    # the longest name.
    alice = context_factory().new_page()
    register(alice, url, mail_server, ALICE, STRONG_PASSWORD)
    make_admin(app, ALICE)
    alice.goto(f"{url}/account/name")
    alice.locator("#display_name").fill(LONG_NAME)
    alice.locator("#display-name-save").click()
    expect(alice.get_by_role("heading", name="Your account")).to_be_visible()
    with app.registry["dbsession_factory"]() as session:
        assert (
            session.scalar(select(Account.display_name).where(Account.email == ALICE)) == LONG_NAME
        )
    # Another administrator, so that Alice's own deletion page shows its form.
    create_account(app, CAROL, STRONG_PASSWORD)
    make_admin(app, CAROL)

    # Bob, whom the administrator looks at, signs in from a second browser: the email
    # about it has a "this wasn't me" link.
    bob = context_factory().new_page()
    register(bob, url, mail_server, BOB, OTHER_PASSWORD)
    bob.context.clear_cookies()
    sign_in(bob, url, BOB, OTHER_PASSWORD)
    expect(bob.get_by_role("heading", name="Your account")).to_be_visible()
    not_me_link = _mail_about(mail_server, BOB, "new sign-in").link
    bob_id = _account_id(app, BOB)

    # A reset link for Alice.
    stranger = context_factory().new_page()
    stranger.goto(f"{url}/account/forgot_password")
    stranger.get_by_label("Email address").fill(ALICE)
    stranger.get_by_role("button", name="Send the link").click()
    expect(stranger.get_by_role("heading", name="Check your email")).to_be_visible()
    reset_link = _mail_about(mail_server, ALICE, "Reset your password").link

    # Dora deletes her account: the page that says so, and the link that brings it back.
    create_account(app, DORA, STRONG_PASSWORD)
    dora = context_factory().new_page()
    sign_in(dora, url, DORA, STRONG_PASSWORD)
    expect(dora.get_by_role("heading", name="Your account")).to_be_visible()
    dora.goto(f"{url}/account/delete")
    dora.get_by_role("button", name="Delete my account").click()
    expect(dora.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    restore_link = _mail_about(mail_server, DORA, "will be deleted").link

    # A browser that asked for a sign-in code and waits for it.
    waiting = context_factory().new_page()
    waiting.goto(f"{url}/account/signin/email_code")
    waiting.get_by_label("Email address").fill(CAROL)
    waiting.get_by_role("button", name="Email me a code").click()
    expect(waiting.get_by_role("heading", name="Enter the code from the email")).to_be_visible()

    # Applications: one Alice allowed (her list of connected ones), one that asks her.
    forum = register_client(app, first_party=False, name=LONG_APP)
    alice.route(
        f"{REDIRECT_URI}**",
        lambda route: route.fulfill(status=200, content_type="text/plain", body="back"),
    )
    alice.goto(url + authorize_url(forum, Pkce.new()))
    alice.locator("#consent-allow").click()
    alice.wait_for_url(f"{REDIRECT_URI}**")
    blog = register_client(app, first_party=False, name="The blog")

    signed_in_pages = {
        "account": "/account",
        "name": "/account/name",
        "change-password": "/account/change_password",
        "change-email": "/account/change_email",
        "two-factor": "/account/two_factor",
        "two-factor-setup": "/account/two_factor/totp",
        "passkeys": "/account/passkeys",
        "ways-to-sign-in": "/account/signin_methods",
        "reauthenticate": "/account/reauthenticate?came_from=/account/change_email",
        "devices": "/account/sessions",
        "activity": "/account/activity",
        "connected-apps": "/account/apps",
        "export": "/account/export",
        "delete-account": "/account/delete",
        "admin-accounts": "/admin/accounts",
        "admin-accounts-filtered": "/admin/accounts?status=active&sort=email",
        "admin-accounts-search": "/admin/accounts?q=" + "o" * 64,
        "admin-new-account": "/admin/accounts/new",
        "admin-account": f"/admin/accounts/{bob_id}",
        "admin-disable": f"/admin/accounts/{bob_id}/disable",
        "admin-delete": f"/admin/accounts/{bob_id}/delete",
        "admin-clients": "/admin/clients",
        "admin-new-client": "/admin/clients/new",
        "admin-client": f"/admin/clients/{forum.client_id}",
        "admin-remove-client": f"/admin/clients/{forum.client_id}/remove",
        "oidc-consent": authorize_url(blog, Pkce.new()),
        "oidc-refused": "/oidc/authorize?client_id=unknown&response_type=code",
        "oidc-sign-out": f"/oidc/logout?client_id={forum.client_id}",
    }
    return Stage(
        signed_in=alice.context.cookies(),
        reset_link=reset_link,
        not_me_link=not_me_link,
        restore_link=restore_link,
        deleted=dora.context.cookies(),
        code_asked=waiting.context.cookies(),
        signed_in_pages=signed_in_pages,
    )


class Checker:
    """Checks pages and keeps every problem, so that one run tells them all."""

    def __init__(self, page: Any, where: str) -> None:
        self.page = page
        self.where = where
        self.problems: list[str] = []

    def __call__(self, name: str) -> None:
        try:
            check_accessibility(self.page)
        except AssertionError as exc:
            self.problems.append(f"{self.where} {name}: axe: {exc}")
        if not self.page.evaluate(NO_SIDEWAYS_SCROLL):
            wide = self.page.evaluate(WIDER_THAN_THE_SCREEN)
            self.problems.append(f"{self.where} {name}: scrolls sideways ({', '.join(wide)})")


def test_every_page_fits_every_width_in_both_schemes_with_long_data(
    live_server, context_factory, mail_server
):
    url = live_server.url
    stage = _set_up(live_server, context_factory, mail_server)
    problems: list[str] = []
    for width, viewport in WIDTHS.items():
        for scheme in SCHEMES:
            # The pages' own CSP forbids injected scripts, axe included: bypassed here.
            context = context_factory(viewport=viewport, color_scheme=scheme, bypass_csp=True)
            page = context.new_page()
            check = Checker(page, f"{width}px {scheme}")

            for name, path in ANONYMOUS_PAGES.items():
                page.goto(url + path)
                check(name)

            # Forms with their errors: every field at fault, a refused sign-in.
            page.goto(f"{url}/account/register")
            page.get_by_role("button", name="Create account").click()
            expect(page.locator("#error-summary")).to_be_visible()
            check("form-errors")
            page.goto(f"{url}/account/signin")
            page.get_by_label("Email address").fill(BOB)
            page.get_by_label("Password", exact=True).fill("not the password at all")
            page.get_by_role("button", name="Sign in", exact=True).click()
            expect(page.locator("#error-summary")).to_contain_text("incorrect")
            check("sign-in-refused")

            # Emailed links, opened in this browser.
            page.goto(stage.reset_link)
            expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
            check("choose-new-password")
            page.goto(stage.not_me_link)
            expect(page.get_by_role("heading", name="This wasn't me")).to_be_visible()
            check("not-me")
            page.goto(stage.restore_link)
            expect(page.get_by_role("heading", name="Keep your account")).to_be_visible()
            check("restore-account")

            # The browsers in the middle of something: their cookies, here.
            context.clear_cookies()
            context.add_cookies(stage.deleted)
            page.goto(f"{url}/account/deleted")
            expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
            check("account-deleted")
            context.clear_cookies()
            context.add_cookies(stage.code_asked)
            page.goto(f"{url}/account/signin/email_code/verify")
            expect(
                page.get_by_role("heading", name="Enter the code from the email")
            ).to_be_visible()
            check("sign-in-email-code-verify")
            page.get_by_role("button", name="Sign in", exact=True).click()
            expect(page.locator("#error-summary")).to_be_visible()
            check("sign-in-email-code-missing")

            context.clear_cookies()
            context.add_cookies(stage.signed_in)
            for name, path in stage.signed_in_pages.items():
                page.goto(url + path)
                expect(page.locator("h1")).to_be_visible()
                check(name)
            problems += check.problems
            context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width", [390, 1280])
def test_after_a_form_error_the_focus_is_on_the_first_field_at_fault(
    live_server, context_factory, mail_server, width
):
    url = live_server.url
    create_account(live_server.app, CAROL, STRONG_PASSWORD)
    page = context_factory(viewport=WIDTHS[width]).new_page()

    # A password too short: the password field, though the script has wrapped it with
    # its "Show" button since.
    page.goto(f"{url}/account/register")
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.locator("#password")).to_be_focused()
    expect(page.locator("#email")).to_have_value(ALICE)

    # A sign-in without its password: that field.
    page.goto(f"{url}/account/signin")
    page.get_by_label("Email address").fill(CAROL)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.locator("#password")).to_be_focused()

    # A refused sign-in is nobody's field: the summary that says so.
    page.get_by_label("Password", exact=True).fill("not the password at all")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#error-summary")).to_contain_text("incorrect")
    expect(page.locator("#error-summary")).to_be_focused()

    # A mistyped emailed code: the code's field.
    page.goto(f"{url}/account/signin/email_code")
    page.get_by_label("Email address").fill(CAROL)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("heading", name="Enter the code from the email")).to_be_visible()
    [code] = re.findall(
        r"^\s*([0-9A-Z]{4}-[0-9A-Z]{4})\s*$",
        _mail_about(mail_server, CAROL, "sign-in code").text,
        re.MULTILINE,
    )
    page.get_by_label("Code").fill("0000-0000" if code != "0000-0000" else "1111-1111")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#error-summary")).to_contain_text("not right")
    expect(page.locator("#code")).to_be_focused()
    assert page.evaluate("document.activeElement !== document.body")
