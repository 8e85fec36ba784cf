"""Another instance of this app, run as a process on a loopback port, as the OpenID
Connect provider people sign in with: the tests' own upstream. Its accounts sign in on
its pages through a cookie-keeping HTTP client, as a browser would."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from app import main
from tests.conftest import BASE_URL, SECRET
from tests.functional.flows import create_account, services
from tests.support import UNLIMITED_RATES, free_port
from tests.support.processes import serve, stop, wait_for_http, write_config

NAME = "upstream"
CALLBACK = f"{BASE_URL}/account/signin/with/{NAME}/callback"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class UpstreamInstance:
    issuer: str
    helper: Any
    client_id: str
    client_secret: str
    process: Any = field(repr=False)

    def settings(self, **extra: str) -> dict[str, str]:
        """The settings that make the app under test offer this instance."""
        prefix = f"signin.provider.{NAME}."
        return {
            "signin.providers": NAME,
            prefix + "issuer": self.issuer,
            prefix + "client_id": self.client_id,
            prefix + "client_secret": self.client_secret,
            prefix + "label": "Upstream",
            **{prefix + key: value for key, value in extra.items()},
        }

    def add_account(self, email: str, password: str, confirmed: bool = True) -> None:
        create_account(self.helper, email, password, confirmed=confirmed)

    def browser(self) -> UpstreamBrowser:
        return UpstreamBrowser(self)


class UpstreamBrowser:
    """A person's browser at the upstream: signs in there when the authorization
    endpoint asks, and hands back where the upstream finally sends them."""

    def __init__(self, instance: UpstreamInstance) -> None:
        self.instance = instance
        self.http = httpx.Client(timeout=30)

    def authorize(self, url: str, email: str, password: str) -> str:
        """Follow the authorization URL; sign in when asked; the URL of the callback
        the upstream redirects to (on the app under test)."""
        response = self.http.get(url)
        for _ in range(10):
            if response.status_code in (302, 303):
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(BASE_URL):
                    return location
                response = self.http.get(location)
                continue
            assert response.status_code == 200, response.text
            path = urlsplit(str(response.url)).path
            assert path == "/account/signin", path
            token = CSRF.search(response.text).group(1)
            came_from = parse_qs(urlsplit(str(response.url)).query)["came_from"][0]
            response = self.http.post(
                f"{self.instance.issuer}/account/signin",
                data={
                    "csrf_token": token,
                    "came_from": came_from,
                    "email": email,
                    "password": password,
                },
            )
        raise AssertionError("the upstream never sent the person back")

    def close(self) -> None:
        self.http.close()


def start_upstream(
    tmp: Path,
    sqlite_template: Path,
    extra: dict[str, str] | None = None,
    callback: str = CALLBACK,
) -> Iterator[UpstreamInstance]:
    """This app started as the upstream, with the app under test registered as its
    first-party client (called back at `callback`)."""
    database = tmp / "upstream.sqlite"
    shutil.copy(sqlite_template, database)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    settings = {
        "sqlalchemy.url": f"sqlite:///{database}",
        "app.secret": SECRET + "-upstream",
        "app.base_url": issuer,
        "mail.delivery": "manual",
        **UNLIMITED_RATES,
        **(extra or {}),
    }
    helper = main({}, **settings)
    with helper.registry["dbsession_factory"]() as session, session.begin():
        made = services(helper, session).oidc_clients.register(
            "The app under test", [callback], public=False, first_party=True
        )
        client_id, secret = made.client.client_id, made.secret
    process = serve(write_config(tmp, settings), port)
    try:
        wait_for_http(f"{issuer}/healthz", process)
        yield UpstreamInstance(issuer, helper, client_id, secret, process)
    finally:
        stop(process)
        helper.registry["db_engine"].dispose()
    output = process.stdout.read()
    assert "Traceback" not in output, output
