"""Signing in with another provider in Chromium, the whole round trip: this site's
button, the upstream's sign-in page (another instance of this app), back here; someone
new confirms their account, and the owner of an existing account proves it before the
upstream is linked to it. The pages on the way are axe-clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.steps import check_accessibility
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD
from tests.factories import make_account
from tests.functional.upstream.instance import NAME, UpstreamInstance, start_upstream
from tests.support import free_port

NEWCOMER = "newcomer@upstream.example"
OWNER = "owner@upstream.example"


@pytest.fixture
def live_server_port() -> int:
    return free_port()


@pytest.fixture
def upstream(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, live_server_port: int
) -> Iterator[UpstreamInstance]:
    callback = f"http://localhost:{live_server_port}/account/signin/with/{NAME}/callback"
    yield from start_upstream(
        tmp_path_factory.mktemp("upstream"), sqlite_template, callback=callback
    )


@pytest.fixture
def live_server_settings(upstream: UpstreamInstance) -> dict[str, str]:
    return upstream.settings()


def leave_for_the_upstream(page, url: str, upstream: UpstreamInstance, email: str) -> None:
    page.goto(f"{url}/account/signin")
    page.get_by_role("button", name="Sign in with Upstream").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url.startswith(f"{upstream.issuer}/account/signin")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_someone_new_signs_in_with_the_upstream_and_gets_an_account(
    live_server, upstream, context_factory
):
    upstream.add_account(NEWCOMER, STRONG_PASSWORD)
    page = context_factory(bypass_csp=True).new_page()
    leave_for_the_upstream(page, live_server.url, upstream, NEWCOMER)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    assert page.url == f"{live_server.url}/account/signin/with/{NAME}/new"
    expect(page.get_by_text(NEWCOMER)).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text(NEWCOMER).first).to_be_visible()
    # Its ways to sign in: no password yet, the provider linked.
    page.get_by_role("link", name="Ways to sign in").click()
    expect(page.get_by_role("heading", name="Ways to sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Email me a link to choose a password")).to_be_visible()
    expect(page.get_by_role("button", name="Unlink Upstream")).to_be_visible()
    check_accessibility(page)
    # An answer this browser did not ask for is refused on a page of its own.
    page.goto(f"{live_server.url}/account/signin/with/{NAME}/callback?code=x&state=y")
    expect(
        page.get_by_role("heading", name="Signing in with Upstream did not work")
    ).to_be_visible()
    check_accessibility(page)


def test_the_owner_of_an_address_proves_the_account_before_it_is_linked(
    live_server, upstream, context_factory
):
    upstream.add_account(OWNER, STRONG_PASSWORD)
    app = live_server.app
    with app.registry["dbsession_factory"]() as session, session.begin():
        make_account(app.registry["services"].services(session), OWNER, OTHER_PASSWORD)
    page = context_factory(bypass_csp=True).new_page()
    leave_for_the_upstream(page, live_server.url, upstream, OWNER)
    expect(page.get_by_role("heading", name="You already have an account here")).to_be_visible()
    check_accessibility(page)
    # The upstream's password is not this account's.
    page.get_by_label("Password of this account").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in and link").click()
    expect(page.locator("#password-error")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Password of this account").fill(OTHER_PASSWORD)
    page.get_by_role("button", name="Sign in and link").click()
    expect(page.get_by_text("Signing in with Upstream is now linked")).to_be_visible()
    # From now on the upstream alone signs in.
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/account/signin")
    page.get_by_role("button", name="Sign in with Upstream").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
