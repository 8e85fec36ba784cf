"""A real waitress server with the app, a real SMTP server, and Debian's Chromium
driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from waitress.server import create_server

from app import main
from tests.conftest import SECRET
from tests.support import SMTPServer, free_port

HERE = Path(__file__).resolve().parent
AXE_SCRIPT = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE.parent.parent / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        _missing("Chromium not found (Debian package chromium); browser tests need it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[testing]')")
    # Playwright gives each launch a fresh, empty profile of its own.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def mail_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


class LiveServer:
    def __init__(self, app: Any, url: str) -> None:
        self.app = app
        self.url = url


@pytest.fixture
def live_server_settings() -> dict[str, str]:
    """Settings the live server's app gets besides its own; a test module overrides
    this fixture to add some."""
    return {}


@pytest.fixture
def live_server_port() -> int:
    """The live server's port; a test module that must name its address in advance (to
    another server) overrides this fixture."""
    return free_port()


@pytest.fixture
def live_server(
    sqlite_template: Path,
    tmp_path: Path,
    mail_server: SMTPServer,
    live_server_settings: dict[str, str],
    live_server_port: int,
) -> Iterator[LiveServer]:
    database = tmp_path / "browser.sqlite"
    shutil.copy(sqlite_template, database)
    port = live_server_port
    # localhost, not 127.0.0.1: passkeys need a host name (WebAuthn refuses IP addresses).
    url = f"http://localhost:{port}"
    app = main(
        {},
        **{
            "sqlalchemy.url": f"sqlite:///{database}",
            "app.secret": SECRET,
            "app.base_url": url,
            "mail.transport": "smtp",
            "mail.host": "127.0.0.1",
            "mail.port": str(mail_server.port),
            "mail.tls": "none",
            "mail.delivery": "thread",
            "mail.poll_seconds": "0.2",
            **live_server_settings,
        },
    )
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield LiveServer(app, url)
    server.close()
    thread.join(5)
    if app.registry["outbox_thread"] is not None:
        app.registry["outbox_thread"].stop()
    app.registry["db_engine"].dispose()


@pytest.fixture
def context_factory(browser) -> Iterator[Any]:
    contexts = []

    def new_context(**kwargs: Any) -> Any:
        context = browser.new_context(**kwargs)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield new_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(context_factory) -> Any:
    return context_factory().new_page()
