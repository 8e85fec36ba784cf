"""A shop's single-page app (tests/browser/spa/) served from another origin of the same
site signs in through the JSON API in browser mode: CORS with credentials for the
origin of api.allowed_origins, the session cookie, and the CSRF token of
GET /api/v1/session (docs/security.md 69)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import STRONG_PASSWORD
from tests.functional.flows import create_account

SPA = Path(__file__).resolve().parent / "spa"
ALICE = "alice@example.com"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer:
    """The SPA's files, from a port of localhost of their own: another origin than
    the app's, on the same site."""

    def __init__(self) -> None:
        handler = partial(QuietHandler, directory=str(SPA))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def spa_server() -> Iterator[StaticServer]:
    with StaticServer() as server:
        yield server


@pytest.fixture
def live_server_settings(spa_server: StaticServer) -> dict[str, str]:
    return {"api.allowed_origins": spa_server.url}


def test_a_single_page_app_on_another_origin_signs_in_the_browser(live_server, spa_server, page):
    create_account(live_server.app, ALICE, STRONG_PASSWORD)
    page.goto(f"{spa_server.url}/index.html?api={live_server.url}")
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_have_text(f"Signed in as {ALICE}")

    # The session the API started is the browser's: the app's own pages are signed in.
    page.goto(f"{live_server.url}/account")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text(ALICE).first).to_be_visible()


def test_a_wrong_password_shows_the_api_s_message(live_server, spa_server, page):
    create_account(live_server.app, ALICE, STRONG_PASSWORD)
    page.goto(f"{spa_server.url}/index.html?api={live_server.url}")
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_have_text("Email or password is incorrect.")
    page.goto(f"{live_server.url}/account")
    expect(page.get_by_role("heading", name="Your account")).not_to_be_visible()
