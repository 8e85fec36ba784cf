"""HTTP by hand over one keep-alive connection, like one browser: the checks before each
scenario and the sequential latency measurements."""

from __future__ import annotations

import http.client
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import quote_plus

from bench.common import HOST, BenchError


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def session_cookie(self) -> str | None:
        """The `session=...` pair of the answer's Set-Cookie headers, if it sets one."""
        cookies = [v.split(";", 1)[0] for k, v in self.headers if k.lower() == "set-cookie"]
        return next((c for c in cookies if c.startswith("session=")), None)


class Client:
    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        cookie: str = "",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        headers = dict(headers or {})
        if cookie:
            headers["Cookie"] = cookie
        body = None
        if form is not None:
            body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in form.items())
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        seconds = time.perf_counter() - started
        return Answer(response.status, response.getheaders(), data, seconds)

    def expect(
        self,
        status: int,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        cookie: str = "",
        location: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        answer = self.request(method, path, form, cookie, headers)
        where = answer.header("Location") or ""
        if answer.status != status or (location is not None and not where.endswith(location)):
            raise BenchError(
                f"{method} {path} answered {answer.status} {where} instead of {status}"
                f" {location or ''}: {answer.body[:300]!r}"
            )
        return answer

    def expect_json(self, status: int, path: str, document: dict[str, object]) -> Answer:
        """POST `document` as JSON (the JSON API), expecting `status`."""
        started = time.perf_counter()
        self.connection.request(
            "POST", path, body=json.dumps(document), headers={"Content-Type": "application/json"}
        )
        response = self.connection.getresponse()
        answer = Answer(
            response.status, response.getheaders(), response.read(), time.perf_counter() - started
        )
        if answer.status != status:
            raise BenchError(
                f"POST {path} answered {answer.status} instead of {status}: {answer.body[:300]!r}"
            )
        return answer

    def close(self) -> None:
        self.connection.close()


@dataclass
class FormSession:
    """A session cookie and its CSRF token, from one GET of the sign-in form. The session
    is a signed cookie, so every request that sends it back is accepted."""

    cookie: str
    token: str


def open_form_session(port: int) -> FormSession:
    client = Client(port)
    try:
        answer = client.expect(200, "GET", "/account/signin")
    finally:
        client.close()
    session = answer.session_cookie()
    token = re.search(rb'name="csrf_token" value="([^"]+)"', answer.body)
    if session is None or token is None:
        raise BenchError("the sign-in form gave no session cookie or no CSRF token")
    return FormSession(session, token.group(1).decode())
