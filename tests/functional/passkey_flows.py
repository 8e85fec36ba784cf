"""Passkey ceremonies through the real app, as passkeys.js runs them: find the button,
POST for the options, let the (software) authenticator answer, POST the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import webtest

from tests.conftest import BASE_URL
from tests.passkey_authenticator import SoftAuthenticator


@dataclass
class Started:
    """A ceremony under way: the options the browser was given, where to answer, and
    the CSRF token the button carries."""

    options: dict[str, Any]
    answer_url: str
    csrf: str
    next: str | None


def authenticator(**options: Any) -> SoftAuthenticator:
    return SoftAuthenticator(origin=BASE_URL, **options)


def start(client: webtest.TestApp, page_url: str, button_id: str) -> Started:
    page = client.get(page_url)
    button = page.html.find(id=button_id)
    assert button is not None, f"no #{button_id} on {page_url}"
    options = client.post(
        button["data-options"], headers={"X-CSRF-Token": button["data-csrf"]}, status=200
    )
    assert options.content_type == "application/json"
    assert options.headers["Cache-Control"] == "no-store"
    return Started(
        options.json, button["data-answer"], button["data-csrf"], button.get("data-next")
    )


def answer(
    client: webtest.TestApp,
    started: Started,
    credential: dict[str, Any],
    status: int | str = 200,
    name: str = "",
) -> Any:
    body: dict[str, Any] = {"credential": credential, "name": name}
    if started.next:
        body["next"] = started.next
    return client.post_json(
        started.answer_url, body, headers={"X-CSRF-Token": started.csrf}, status=status
    )


def add_passkey(
    client: webtest.TestApp, device: SoftAuthenticator, name: str = "Laptop", **overrides: Any
) -> Any:
    """Add a passkey from the list page (the client is signed in, recently)."""
    started = start(client, "/account/passkeys", "passkey-add")
    return answer(client, started, device.create(started.options, **overrides), name=name)


def sign_in_with_passkey(
    client: webtest.TestApp,
    device: SoftAuthenticator,
    status: int = 200,
    page: str = "/account/signin",
    **overrides: Any,
) -> Any:
    started = start(client, page, "passkey-signin")
    return answer(client, started, device.get(started.options, **overrides), status=status)


def second_step_with_passkey(
    client: webtest.TestApp, device: SoftAuthenticator, status: int = 200, **overrides: Any
) -> Any:
    started = start(client, "/account/signin/two_factor", "passkey-verify")
    return answer(client, started, device.get(started.options, **overrides), status=status)
