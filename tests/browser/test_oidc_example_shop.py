"""The example relying party (examples/shop/shop.py), run as its README says, signs
people in with the provider in Chromium: a password, then a second factor asked for
with acr_values=mfa, then signing out at the provider ends the shop's session by
back-channel logout, and the shop's own Sign out goes through the end-session
endpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models import OidcLogoutDelivery
from tests.browser.conftest import LiveServer
from tests.conftest import STRONG_PASSWORD
from tests.factories import make_account
from tests.support import free_port
from tests.support.processes import stop, wait_for_http

SHOP_MODULE = Path(__file__).resolve().parents[2] / "examples" / "shop" / "shop.py"
ALICE = "alice@example.com"
SIGNED_OUT = "You are signed out."


@dataclass(frozen=True)
class Shop:
    url: str


@pytest.fixture
def shop(live_server: LiveServer) -> Iterator[Shop]:
    """The shop registered with the provider (first party, with its back-channel and
    post-logout addresses), Alice's account, and the shop started on a port of its own."""
    port = free_port()
    url = f"http://localhost:{port}"
    app = live_server.app
    with app.registry["dbsession_factory"]() as session, session.begin():
        services = app.registry["services"].services(session)
        made = services.oidc_clients.register(
            "The shop",
            [f"{url}/callback"],
            first_party=True,
            backchannel_logout_uri=f"{url}/backchannel-logout",
            post_logout_redirect_uris=[f"{url}/"],
        )
        client_id, secret = made.client.client_id, made.secret
        make_account(services, ALICE)
    environment = os.environ | {
        "ISSUER": live_server.url,
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": secret,
        "SHOP_URL": url,
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, str(SHOP_MODULE)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"{url}/", process)
        yield Shop(url)
    finally:
        stop(process)
        # Shown when the test fails.
        print("The shop's output:\n" + process.stdout.read())


def _sign_in_at_the_provider(page: Any, provider: str, code: str | None = None) -> None:
    expect(page).to_have_url(re.compile(re.escape(f"{provider}/account/signin?came_from=")))
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if code is not None:
        expect(page).to_have_url(f"{provider}/account/signin/two_factor")
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Sign in", exact=True).click()


def _signed_in_at_the_shop(page: Any, shop: Shop, acr: str) -> None:
    expect(page).to_have_url(f"{shop.url}/")
    expect(page.get_by_text(f"Signed in as {ALICE}")).to_be_visible()
    expect(page.get_by_text(f"acr: {acr}")).to_be_visible()


def _turn_on_the_authenticator_app(page: Any, provider: str) -> pyotp.TOTP:
    page.goto(f"{provider}/account")
    page.get_by_role("link", name="Two-factor sign-in").click()
    page.get_by_role("link", name="Set up an authenticator app").click()
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    return totp


def _logouts_owed(live_server: LiveServer) -> int:
    with live_server.app.registry["dbsession_factory"]() as session:
        return session.scalar(
            select(func.count()).where(
                OidcLogoutDelivery.delivered_at.is_(None), OidcLogoutDelivery.failed_at.is_(None)
            )
        )


def _wait_until(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_the_example_shop_signs_in_steps_up_and_is_signed_out_from_the_provider(
    live_server, shop, page
):
    provider = live_server.url
    # Shown when the test fails: what Chromium refused (a Content-Security-Policy, say).
    page.on("console", lambda message: print(f"console {message.type}: {message.text}"))
    page.goto(shop.url)
    expect(page.get_by_text(SIGNED_OUT)).to_be_visible()

    # Signing in with the password alone.
    page.get_by_role("link", name="Sign in with the shop's account").click()
    _sign_in_at_the_provider(page, provider)
    _signed_in_at_the_shop(page, shop, "pwd")

    # The shop's own Sign out goes through the provider's end-session endpoint (which
    # ends the provider's session too) and comes back to the shop.
    with page.expect_request(re.compile(re.escape(f"{provider}/oidc/logout?"))) as sent:
        page.get_by_role("button", name="Sign out").click()
    assert "id_token_hint=" in sent.value.url
    expect(page).to_have_url(f"{shop.url}/")
    expect(page.get_by_text(SIGNED_OUT)).to_be_visible()
    page.goto(f"{provider}/account")
    expect(page).to_have_url(re.compile(re.escape(f"{provider}/account/signin?came_from=")))

    page.goto(shop.url)
    page.get_by_role("link", name="Sign in with the shop's account").click()
    _sign_in_at_the_provider(page, provider)
    _signed_in_at_the_shop(page, shop, "pwd")

    # Stepping up: the authenticator app is turned on at the provider, and the shop asks
    # for a second factor.
    totp = _turn_on_the_authenticator_app(page, provider)
    page.goto(shop.url)
    page.get_by_role("link", name="Sign in with a second factor").click()
    # A code of the next time step: the one used at set-up cannot be used again.
    _sign_in_at_the_provider(page, provider, code=totp.at(time.time() + 30))
    _signed_in_at_the_shop(page, shop, "mfa")
    # The provider tells the shop that the session the step-up replaced has ended; the
    # shop's session, now of the new one, stays.
    assert _wait_until(lambda: _logouts_owed(live_server) == 0)
    page.reload()
    _signed_in_at_the_shop(page, shop, "mfa")

    # Signing out at the provider ends the shop's session by back-channel logout.
    page.goto(f"{provider}/account")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign in")).to_be_visible()

    def shop_signed_out() -> bool:
        page.goto(shop.url)
        return page.get_by_text(SIGNED_OUT).is_visible()

    assert _wait_until(shop_signed_out), "the shop's session outlived the provider's"
    expect(page.get_by_text(f"Signed in as {ALICE}")).to_have_count(0)
