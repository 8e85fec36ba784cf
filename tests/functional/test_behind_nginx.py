"""The README's nginx advice, tested: Debian's nginx runs docs/deploy/nginx.conf (only
names, addresses and certificate paths changed) over TLS in front of two app processes
on PostgreSQL, and every flow goes through it (docs/security.md 59)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.conftest import OTHER_PASSWORD, SECRET, STRONG_PASSWORD
from tests.support import UNLIMITED_RATES, free_port
from tests.support.processes import serve, stop, wait_for_http, write_config
from tests.tls_certificates import make_certificates

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "docs" / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ALICE = "alice@example.com"
NEW_PASSWORD = "a brand new passphrase 42"

pytestmark = pytest.mark.skipif(
    not os.path.exists(NGINX) and os.environ.get("CI") != "true",
    reason="nginx not found (Debian package nginx); the proxy advice is untested",
)


@pytest.fixture
def postgresql_url(postgresql_server, postgresql_template) -> Iterator[str]:
    with postgresql_server.database(postgresql_template) as dbname:
        yield postgresql_server.url(dbname)


def site_config(ports: list[int], https_port: int, http_port: int, tls: Any, log: Path) -> str:
    """The repository's file, with this machine's names, addresses and paths."""
    text = SITE.read_text()
    replacements = {
        "server 127.0.0.1:6543;\n    server 127.0.0.1:6544;": "\n    ".join(
            f"server 127.0.0.1:{port};" for port in ports
        ),
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "server_name accounts.example.com;": "server_name localhost;",
        "/etc/ssl/accounts/fullchain.pem": str(tls.server.with_suffix(".pem")),
        "/etc/ssl/accounts/privkey.pem": str(tls.server.with_suffix(".key")),
        "/var/log/nginx/accounts.access.log": str(log),
    }
    for old, new in replacements.items():
        assert old in text, f"docs/deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def start_nginx(directory: Path, site: str) -> subprocess.Popen:
    (directory / "site.conf").write_text(site)
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / temp).mkdir(exist_ok=True)
    main = f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/site.conf;
}}
"""
    (directory / "nginx.conf").write_text(main)
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(directory), "-c", str(directory / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    return subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class Browser:
    """A browser's view of the site through nginx: cookies, forms with their CSRF token."""

    def __init__(self, base_url: str, ca_file: Path) -> None:
        self.http = httpx.Client(base_url=base_url, verify=str(ca_file), timeout=30)

    def get(self, path: str, status: int = 200) -> httpx.Response:
        response = self.http.get(path)
        assert response.status_code == status, (path, response.status_code, response.text)
        return response

    def submit(
        self, page_path: str, action: str, fields: dict[str, str], status: int = 303
    ) -> httpx.Response:
        page = BeautifulSoup(self.get(page_path).text, "html.parser")
        form = page.find("form", attrs={"action": action})
        assert form is not None, f"no form posting to {action} on {page_path}"
        token = form.find("input", attrs={"name": "csrf_token"})["value"]
        response = self.http.post(action, data={"csrf_token": token, **fields})
        assert response.status_code == status, (action, response.status_code, response.text)
        return response


@pytest.fixture
def site(tmp_path, postgresql_url, smtp_server) -> Iterator[dict[str, Any]]:
    tls = make_certificates(tmp_path)
    https_port, http_port = free_port(), free_port()
    base_url = f"https://localhost:{https_port}"
    settings = {
        "sqlalchemy.url": postgresql_url,
        "app.secret": SECRET,
        "app.base_url": base_url,
        "app.secure_cookies": "true",
        "app.trusted_proxies": "127.0.0.1",
        "mail.delivery": "thread",
        "mail.poll_seconds": "0.2",
        "mail.port": str(smtp_server.port),
        "mail.tls": "none",
        **UNLIMITED_RATES,
    }
    config = write_config(tmp_path, settings)
    ports = [free_port(), free_port()]
    apps = [serve(config, port, threads=4) for port in ports]
    proxy = None
    try:
        for port, app in zip(ports, apps, strict=True):
            wait_for_http(f"http://127.0.0.1:{port}/healthz", app)
        log = tmp_path / "access.log"
        proxy = start_nginx(tmp_path, site_config(ports, https_port, http_port, tls, log))
        probe = httpx.Client(verify=str(tls.ca_file), timeout=2)
        for _ in range(100):
            try:
                probe.get(f"{base_url}/healthz")
                break
            except httpx.TransportError:
                if proxy.poll() is not None:
                    raise AssertionError(proxy.stdout.read() if proxy.stdout else "") from None
                subprocess.run(["sleep", "0.1"], check=True)
        yield {
            "base_url": base_url,
            "http_url": f"http://localhost:{http_port}",
            "ca_file": tls.ca_file,
            "access_log": log,
            "mailbox": smtp_server.mailbox,
        }
    finally:
        if proxy is not None:
            stop(proxy)
        for app in apps:
            stop(app)


def _link_code(mailbox: Any, email: str, about: str) -> str:
    for _ in range(100):
        mails = mailbox.to(email, about=about)
        if mails:
            return mails[-1].link_code
        subprocess.run(["sleep", "0.1"], check=True)
    raise AssertionError(f"no email about {about!r} reached {email}")


def test_every_flow_goes_through_nginx(site):
    base, mailbox = site["base_url"], site["mailbox"]
    browser = Browser(base, site["ca_file"])

    # Registering and confirming the address.
    registered = browser.submit(
        "/account/register",
        "/account/register",
        {"email": ALICE, "password": STRONG_PASSWORD, "confirm_password": STRONG_PASSWORD},
    )
    assert registered.headers["location"] == f"{base}/account/verify_sent"
    code = _link_code(mailbox, ALICE, "Confirm your email address")
    opened = browser.get(f"/account/verify_email/{code}", status=303)
    assert opened.headers["location"] == f"{base}/account/verify_email"
    browser.submit("/account/verify_email", "/account/verify_email", {"password": STRONG_PASSWORD})
    page = browser.get("/account")
    assert ALICE in page.text
    assert all(c.name.startswith("__Host-") for c in browser.http.cookies.jar)

    # Changing the password, signing out, signing in.
    browser.submit(
        "/account/change_password",
        "/account/change_password",
        {
            "current_password": STRONG_PASSWORD,
            "password": OTHER_PASSWORD,
            "confirm_password": OTHER_PASSWORD,
        },
    )
    browser.submit("/account", "/account/logout", {})
    browser.get("/account", status=303)
    signed_in = browser.submit(
        "/account/signin",
        "/account/signin",
        {"email": ALICE, "password": OTHER_PASSWORD, "came_from": "/account/sessions"},
    )
    assert signed_in.headers["location"] == f"{base}/account/sessions"
    assert "This device" in browser.get("/account/sessions").text

    # A forgotten password, reset from the emailed link: the path nginx once broke.
    stranger = Browser(base, site["ca_file"])
    stranger.submit("/account/forgot_password", "/account/forgot_password", {"email": ALICE})
    code = _link_code(mailbox, ALICE, "Reset your password")
    opened = stranger.get(f"/account/reset_password/{code}", status=303)
    assert opened.headers["location"] == f"{base}/account/reset_password"
    form = stranger.get("/account/reset_password")
    assert 'name="password"' in form.text
    done = stranger.submit(
        "/account/reset_password",
        "/account/reset_password",
        {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        status=200,
    )
    assert "Your password has been reset, please sign in." in done.text
    stranger.submit(
        "/account/signin", "/account/signin", {"email": ALICE, "password": NEW_PASSWORD}
    )
    assert ALICE in stranger.get("/account").text

    # The codes of emailed links stay out of nginx's log; other requests are logged with
    # the id the app answered with.
    log = site["access_log"].read_text()
    assert code not in log and "/reset_password/" not in log
    answered = stranger.get("/account")
    request_id = answered.headers["x-request-id"]
    line = logged_line(site, request_id)
    assert re.search(rf"GET /account HTTP/1.1\" 200 \d+ [\d.]+ {request_id}$", line)


def logged_line(site, request_id: str, timeout: float = 5.0) -> str:
    """nginx's access-log line of the request with this id. nginx writes it once the
    answer has gone, so it may come a moment after the client has read the answer."""
    deadline = time.monotonic() + timeout
    while True:
        lines = site["access_log"].read_text().strip().splitlines()
        found = [line for line in lines if line.endswith(request_id)]
        if found or time.monotonic() > deadline:
            return found[-1] if found else (lines[-1] if lines else "")
        time.sleep(0.05)


def test_the_operators_paths_and_limits_hold_behind_nginx(site):
    browser = Browser(site["base_url"], site["ca_file"])
    browser.get("/metrics", status=404)
    plain = httpx.get(f"{site['http_url']}/account/signin")
    assert plain.status_code == 301
    assert plain.headers["location"].startswith("https://localhost")
    token_page = BeautifulSoup(browser.get("/account/signin").text, "html.parser")
    token = token_page.find("input", attrs={"name": "csrf_token"})["value"]
    too_big = browser.http.post(
        "/account/signin", data={"csrf_token": token, "email": "x" * 70_000, "password": "p"}
    )
    assert too_big.status_code == 413
    # A client's own X-Forwarded-For is not believed: the address nginx saw counts.
    spoofed = browser.http.get("/account/signin", headers={"X-Forwarded-For": "192.0.2.66"})
    assert spoofed.status_code == 200
