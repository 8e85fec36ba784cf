"""A local stand-in for GitHub that speaks its OAuth web flow and the two API calls the
app makes, over real HTTP on a loopback port: the authorize page (which approves at once,
for the person it is told to be), the token endpoint (which checks the client's secret,
the code and the PKCE verifier), `/user` and `/user/emails`."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "Iv1.fake"
CLIENT_SECRET = "fake-github-secret"


@dataclass
class GitHubUser:
    id: int
    login: str
    emails: list[dict[str, Any]]


@dataclass
class FakeGitHub:
    port: int = 0
    # Who approves at the next authorize request.
    next_user: GitHubUser | None = None
    codes: dict[str, tuple[GitHubUser, str, str]] = field(default_factory=dict)
    tokens: dict[str, GitHubUser] = field(default_factory=dict)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, body: Any = None, headers: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/login/oauth/authorize":
                    user = fake.next_user
                    assert user is not None and query["client_id"] == CLIENT_ID
                    assert query["code_challenge_method"] == "S256"
                    code = secrets.token_hex(10)
                    fake.codes[code] = (user, query["code_challenge"], query["redirect_uri"])
                    target = (
                        query["redirect_uri"]
                        + "?"
                        + urlencode({"code": code, "state": query["state"]})
                    )
                    return self.answer(302, headers={"Location": target})
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                user = fake.tokens.get(token)
                if user is None:
                    return self.answer(401, {"message": "Bad credentials"})
                if url.path == "/api/user":
                    return self.answer(200, {"id": user.id, "login": user.login})
                if url.path == "/api/user/emails":
                    return self.answer(200, user.emails)
                return self.answer(404, {"message": "Not Found"})

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != "/login/oauth/access_token":
                    return self.answer(404, {"message": "Not Found"})
                # GitHub answers 200 with an error in the body.
                if (form.get("client_id"), form.get("client_secret")) != (
                    CLIENT_ID,
                    CLIENT_SECRET,
                ):
                    return self.answer(200, {"error": "incorrect_client_credentials"})
                found = fake.codes.pop(form.get("code", ""), None)
                if found is None:
                    return self.answer(200, {"error": "bad_verification_code"})
                user, challenge, redirect_uri = found
                verifier = form.get("code_verifier", "").encode()
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest())
                if digest.rstrip(b"=").decode() != challenge or form.get("redirect_uri") != (
                    redirect_uri
                ):
                    return self.answer(200, {"error": "bad_verification_code"})
                token = secrets.token_hex(20)
                fake.tokens[token] = user
                return self.answer(
                    200, {"access_token": token, "token_type": "bearer", "scope": "read:user"}
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, name: str = "github") -> dict[str, str]:
        prefix = f"signin.provider.{name}."
        return {
            "signin.providers": name,
            prefix + "kind": "github",
            prefix + "issuer": self.url,
            prefix + "api_url": f"{self.url}/api",
            prefix + "client_id": CLIENT_ID,
            prefix + "client_secret": CLIENT_SECRET,
            prefix + "label": "GitHub",
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
