"""Passkeys in Chromium, with the virtual authenticator of the Chrome DevTools Protocol
standing in for a phone or a security key."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.steps import check_accessibility, register, screenshot, sign_in
from tests.conftest import STRONG_PASSWORD

ALICE = "alice@example.com"


class VirtualAuthenticator:
    """A platform authenticator with resident keys that verifies its user at once."""

    def __init__(self, context: Any, page: Any) -> None:
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "ctap2Version": "ctap2_1",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        added = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        self.id = added["authenticatorId"]

    def credentials(self) -> list[dict[str, Any]]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def replace_with_copy(self, credential: dict[str, Any], sign_count: int) -> None:
        """Put back the same key with an older counter: what a copied key looks like."""
        self.cdp.send(
            "WebAuthn.removeCredential",
            {"authenticatorId": self.id, "credentialId": credential["credentialId"]},
        )
        copy = {
            key: credential[key]
            for key in ("credentialId", "isResidentCredential", "rpId", "privateKey", "userHandle")
        }
        self.cdp.send(
            "WebAuthn.addCredential",
            {"authenticatorId": self.id, "credential": {**copy, "signCount": sign_count}},
        )


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign in")).to_be_visible()


def _add_passkey(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/account/passkeys")
    page.get_by_label("Name (so you can tell your passkeys apart)").fill(name)
    page.locator("#passkey-add").click()
    expect(page.get_by_role("status").first).to_contain_text(f"“{name}” is added")
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()


def _registered_with_an_authenticator(
    live_server, context_factory, mail_server
) -> tuple[Any, VirtualAuthenticator]:
    context = context_factory(bypass_csp=True)
    page = context.new_page()
    authenticator = VirtualAuthenticator(context, page)
    register(page, live_server.url, mail_server, ALICE, STRONG_PASSWORD)
    return page, authenticator


def _sign_in_with_passkey(page: Any, url: str) -> None:
    page.goto(f"{url}/account/signin")
    page.locator("#passkey-signin").click()


def test_a_passkey_signs_in_alone_and_as_the_second_factor(
    live_server, context_factory, mail_server
):
    url = live_server.url
    page, authenticator = _registered_with_an_authenticator(
        live_server, context_factory, mail_server
    )

    page.get_by_role("link", name="Passkeys").click()
    check_accessibility(page)
    _add_passkey(page, url, "This laptop")
    check_accessibility(page)
    screenshot(page, "passkeys")
    assert len(authenticator.credentials()) == 1

    # Only the passkey: no email, no password.
    _sign_out(page)
    page.goto(f"{url}/account/signin")
    expect(page.locator("#passkey-signin")).to_be_visible()
    check_accessibility(page)
    page.locator("#passkey-signin").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    # The password, then the passkey as the second factor.
    _sign_out(page)
    sign_in(page, url, ALICE, STRONG_PASSWORD)
    expect(page).to_have_url(f"{url}/account/signin/two_factor")
    expect(page.locator("#passkey-verify")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "two-factor-passkey")
    page.locator("#passkey-verify").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    # Removed: the authenticator still holds the key, and the site refuses it.
    page.goto(f"{url}/account/passkeys")
    page.get_by_role("button", name="Remove This laptop").click()
    expect(page.get_by_text("You have no passkey yet.")).to_be_visible()
    _sign_out(page)
    _sign_in_with_passkey(page, url)
    expect(page.locator(".passkey-status")).to_contain_text("not known")
    page.goto(f"{url}/account")
    expect(page).to_have_url(f"{url}/account/signin?came_from=%2Faccount")


def test_a_copied_passkey_with_an_older_counter_is_refused(
    live_server, context_factory, mail_server
):
    url = live_server.url
    page, authenticator = _registered_with_an_authenticator(
        live_server, context_factory, mail_server
    )
    _add_passkey(page, url, "Security key")
    _sign_out(page)
    _sign_in_with_passkey(page, url)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    _sign_out(page)

    (credential,) = authenticator.credentials()
    assert credential["signCount"] >= 2
    authenticator.replace_with_copy(credential, sign_count=1)
    _sign_in_with_passkey(page, url)
    expect(page.locator(".passkey-status")).to_contain_text("copied")
    page.goto(f"{url}/account")
    expect(page).to_have_url(f"{url}/account/signin?came_from=%2Faccount")


def test_without_passkey_support_the_sign_in_page_shows_no_passkey_button(
    live_server, context_factory
):
    context = context_factory()
    context.add_init_script("delete window.PublicKeyCredential;")
    page = context.new_page()
    page.goto(f"{live_server.url}/account/signin")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.locator("#passkey-signin")).to_be_hidden()
