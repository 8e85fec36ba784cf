"""Running the app's own programs in a test: their configuration file, waiting for a
server to answer, stopping it, and a browser for several servers behind one address."""

from __future__ import annotations

import http.cookiejar
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def program(name: str) -> str:
    """The path of one of the app's console scripts (or pserve) in this environment."""
    return str(Path(sys.executable).with_name(name))


def write_config(tmp_path: Path, settings: dict[str, str]) -> Path:
    """An .ini file with these app settings, logging warnings to stderr."""
    lines = ["[app:main]", "use = call:app:main"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    lines += [
        "",
        "[loggers]",
        "keys = root",
        "[handlers]",
        "keys = console",
        "[formatters]",
        "keys = generic",
        "[logger_root]",
        "level = WARN",
        "handlers = console",
        "[handler_console]",
        "class = StreamHandler",
        "args = (sys.stderr,)",
        "formatter = generic",
        "[formatter_generic]",
        "format = %%(levelname)s %%(message)s",
    ]
    path = tmp_path / "test.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


def serve(config: Path, port: int, threads: int = 8) -> subprocess.Popen:
    """pserve with this configuration, on a loopback port of its own."""
    served = config.with_name(f"serve-{port}.ini")
    served.write_text(
        config.read_text()
        + f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\n"
        + f"threads = {threads}\n"
    )
    return subprocess.Popen(
        [program("pserve"), str(served)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class _SameServer(urllib.request.HTTPRedirectHandler):
    """Follows a redirect on the server it came from, as the reverse proxy in front of
    several app processes would: the app's redirects name its one public address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target, origin = urllib.parse.urlsplit(newurl), urllib.parse.urlsplit(req.full_url)
        newurl = urllib.parse.urlunsplit(
            (origin.scheme, origin.netloc, target.path, target.query, "")
        )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Browser:
    """A cookie-keeping HTTP client for app servers run as processes."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _SameServer()
        )

    def get(self, url: str) -> str:
        with self.opener.open(url, timeout=30) as response:
            return response.read().decode()

    def post(self, url: str, fields: dict[str, str]) -> int:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(url, data=data, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
