"""Steps a person takes in the browser, and the checks every page gets."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AXE_SCRIPT, SCREENSHOTS
from tests.support import SMTPServer


def mail_for(server: SMTPServer, address: str, count: int = 1) -> Any:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = server.mailbox.to(address)
        if len(found) >= count:
            return found[count - 1]
        time.sleep(0.05)
    raise AssertionError(f"no email #{count} for {address}")


def check_accessibility(page: Any) -> None:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"axe-core missing: run `npm install --prefix {AXE_SCRIPT.parents[2]}`")
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("async () => await axe.run(document)")
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], page.url


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def register(page: Any, url: str, mail_server: SMTPServer, email: str, password: str) -> None:
    """Register, then confirm the address from the emailed link: signed in."""
    page.goto(f"{url}/account/register")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(mail_for(mail_server, email).link)
    expect(page).to_have_url(f"{url}/account/verify_email")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()


def sign_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/account/signin")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def make_admin(app: Any, email: str) -> None:
    from sqlalchemy import update

    from app.models import Account

    with app.registry["dbsession_factory"]() as session, session.begin():
        session.execute(update(Account).where(Account.email == email).values(is_admin=True))
