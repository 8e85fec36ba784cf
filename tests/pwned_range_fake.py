"""A local stand-in for the Pwned Passwords range API, speaking its protocol over real
HTTP: GET /range/{first five hex characters of the SHA-1} answers one "SUFFIX:COUNT" line
per known hash with that prefix, and, asked with `Add-Padding: true`, decoy lines with a
count of 0. It records every request, and can be told to hang or to fail."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = re.compile(r"^/range/([0-9A-Fa-f]{5})$")
PADDING_LINES = 400


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


class FakeRangeAPI:
    def __init__(self) -> None:
        # Hash -> times seen.
        self.breached: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        # Connections opened to it (a client that keeps its connection opens one).
        self.connections = 0
        # "answer", "hang" (say nothing for hang_seconds) or "fail" (503).
        self.mode = "answer"
        self.hang_seconds = 10.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/range/"

    def add(self, password: str, times: int = 12_345) -> None:
        self.breached[sha1_hex(password)] = times

    def start(self) -> FakeRangeAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                fake.connections += 1

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                fake.requests.append({"path": self.path, "headers": dict(self.headers)})
                if fake.mode == "hang":
                    time.sleep(fake.hang_seconds)
                if fake.mode == "fail":
                    self._answer(503, "Service Unavailable")
                    return
                match = PREFIX.match(self.path)
                if match is None:
                    self._answer(400, "The hash prefix was not in a valid format")
                    return
                prefix = match.group(1).upper()
                lines = [
                    f"{digest[5:]}:{count}"
                    for digest, count in fake.breached.items()
                    if digest.startswith(prefix)
                ]
                if self.headers.get("Add-Padding", "").lower() == "true":
                    lines += [f"{i:035X}:0" for i in range(PADDING_LINES)]
                self._answer(200, "\r\n".join(lines))

            def _answer(self, status: int, body: str) -> None:
                data = body.encode("ascii")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        return Handler
