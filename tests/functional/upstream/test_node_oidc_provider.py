"""Signing in with an outside upstream: Node's oidc-provider (panva's OpenID Certified
provider), run with its development sign-in pages. Its ID tokens leave the address out
when an access token is issued, so the address comes from its userinfo endpoint."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from sqlalchemy import select

from app.models import Account, UpstreamIdentity
from tests.conftest import BASE_URL, new_client
from tests.functional.flows import db, is_signed_in
from tests.support import form_by_action, free_port
from tests.support.processes import stop

OP_DIR = Path(__file__).resolve().parents[2] / "oidc_op"
NAME = "node"
CALLBACK = f"{BASE_URL}/account/signin/with/{NAME}/callback"
FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"')


@dataclass(frozen=True)
class NodeProvider:
    issuer: str
    client_id: str = "the-app-under-test"
    client_secret: str = "a-secret-for-the-tests-only"

    def settings(self) -> dict[str, str]:
        prefix = f"signin.provider.{NAME}."
        return {
            "signin.providers": NAME,
            prefix + "issuer": self.issuer,
            prefix + "client_id": self.client_id,
            prefix + "client_secret": self.client_secret,
            prefix + "label": "Node",
        }


@pytest.fixture(scope="module")
def node_provider() -> Iterator[NodeProvider]:
    node = shutil.which("node")
    if node is None or not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        reason = f"Node.js and `npm ci --prefix {OP_DIR}` are needed for oidc-provider"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    port = free_port()
    provider = NodeProvider(f"http://127.0.0.1:{port}")
    environment = os.environ | {
        "PORT": str(port),
        "CLIENT_ID": provider.client_id,
        "CLIENT_SECRET": provider.client_secret,
        "CALLBACK": CALLBACK,
    }
    process = subprocess.Popen(
        [node, str(OP_DIR / "op.mjs")],
        cwd=OP_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        while line and not line.startswith("ready"):
            line = process.stdout.readline()
        assert line.startswith("ready"), "oidc-provider did not start"
        yield provider
    finally:
        stop(process)


@pytest.fixture
def app(make_app: Any, app_settings: dict[str, Any], node_provider: NodeProvider) -> Any:
    return make_app({**app_settings, **node_provider.settings()})


def through_the_provider(client: Any, login: str, cancel: bool = False) -> Any:
    """The button here, the provider's login (and consent) pages, the callback here."""
    page = client.get("/account/signin")
    location = form_by_action(page, f"/account/signin/with/{NAME}").submit(status=303).location
    with httpx.Client(timeout=30) as browser:
        response = browser.get(location)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(BASE_URL):
                    callback = urlsplit(location)
                    return client.get(f"{callback.path}?{callback.query}", status="*")
                response = browser.get(location)
                continue
            assert response.status_code == 200, response.text
            if cancel:
                abort = str(response.url).rstrip("/") + "/abort"
                response = browser.get(abort)
                continue
            action = urljoin(str(response.url), unescape(FORM.search(response.text).group(1)))
            if 'name="login"' in response.text:
                fields = {"prompt": "login", "login": login, "password": "anything"}
            else:
                fields = {"prompt": "consent"}
            response = browser.post(action, data=fields)
    raise AssertionError("the provider never sent the person back")


def test_someone_new_from_oidc_provider_gets_an_account(app):
    email = "newcomer@node.example"
    client = new_client(app)
    arrived = through_the_provider(client, email)
    assert arrived.status_int == 303, arrived.text
    assert arrived.location.endswith(f"/account/signin/with/{NAME}/new")
    page = client.get(arrived.location)
    assert email in page.text
    form_by_action(page, f"/account/signin/with/{NAME}/new").submit(status=303)
    assert is_signed_in(client)
    with db(app) as session:
        [link] = session.scalars(select(UpstreamIdentity)).all()
        assert (link.provider, link.subject) == (NAME, email)
    # The link signs in the next time.
    other = new_client(app)
    assert urlsplit(through_the_provider(other, email).location).path == "/account"


def test_an_address_oidc_provider_did_not_verify_makes_nothing(app):
    client = new_client(app)
    refused = through_the_provider(client, "unverified@node.example")
    assert refused.status_int == 400 and "did not confirm your email address" in refused.text
    with db(app) as session:
        assert session.scalars(select(Account)).all() == []


def test_cancelling_at_oidc_provider_is_said_and_changes_nothing(app):
    client = new_client(app)
    refused = through_the_provider(client, "anyone@node.example", cancel=True)
    assert refused.status_int == 400 and "cancelled at Node" in refused.text
    assert not is_signed_in(client)
