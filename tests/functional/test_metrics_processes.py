"""Metrics in production's shape: two app processes and a mail worker, each a real
process, sharing one PROMETHEUS_MULTIPROC_DIR; either app process answers for all."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from app import main
from tests.conftest import SECRET, STRONG_PASSWORD
from tests.functional.flows import create_account
from tests.metrics_reading import Samples
from tests.support import UNLIMITED_RATES, free_port
from tests.support.processes import Browser, program, stop, wait_for_http, write_config

ALICE = "alice@example.com"


@pytest.fixture
def shared_sqlite(tmp_path, sqlite_template) -> str:
    """One SQLite file for every process of the test (they only need to agree)."""
    path = tmp_path / "shared.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _serve(config: Path, port: int, environment: dict[str, str]) -> subprocess.Popen:
    served = config.with_name(f"serve-{port}.ini")
    served.write_text(
        config.read_text()
        + f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\nthreads = 4\n"
    )
    return subprocess.Popen(
        [program("pserve"), str(served)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _metrics(base: str) -> Samples:
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:  # noqa: S310
        return Samples(response.read().decode())


def _form_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_a_sign_in_a_reset_and_a_429_each_count_once_across_processes(
    shared_sqlite, tmp_path, smtp_server
):
    settings = {
        "sqlalchemy.url": shared_sqlite,
        "app.secret": SECRET,
        "app.base_url": "http://127.0.0.1",
        "mail.delivery": "manual",
        "mail.host": "127.0.0.1",
        "mail.port": str(smtp_server.port),
        "mail.tls": "none",
        **UNLIMITED_RATES,
        # The second request for the same address is refused (in the process counting it).
        "ratelimit.forgot_per_email": "1/hour",
    }
    config = write_config(tmp_path, settings)
    helper = main({}, **settings)
    try:
        create_account(helper, ALICE, STRONG_PASSWORD)
    finally:
        helper.registry["db_engine"].dispose()

    directory = tmp_path / "metrics"
    directory.mkdir()
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    ports = [free_port(), free_port()]
    servers = [_serve(config, port, environment) for port in ports]
    first, second = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        for base, server in zip((first, second), servers, strict=True):
            wait_for_http(f"{base}/healthz", server)
        before = _metrics(first)

        # A sign-in on the first process.
        browser = Browser()
        token = _form_token(browser.get(f"{first}/account/signin"))
        fields = {"csrf_token": token, "email": ALICE, "password": STRONG_PASSWORD}
        assert browser.post(f"{first}/account/signin", fields) == 200  # the account page

        # A reset asked for twice on the second process: sent, then refused with 429.
        browser = Browser()
        token = _form_token(browser.get(f"{second}/account/forgot_password"))
        assert (
            browser.post(f"{second}/account/forgot_password", {"csrf_token": token, "email": ALICE})
            == 200
        )
        assert (
            browser.post(f"{second}/account/forgot_password", {"csrf_token": token, "email": ALICE})
            == 429
        )

        # A mail worker, a third process, sends the link; it is used on the first.
        worker = subprocess.run(
            [program("app-mail-worker"), str(config), "--once"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert worker.returncode == 0, worker.stderr
        [email] = smtp_server.mailbox.wait_for(1)
        browser = Browser()
        token = _form_token(browser.get(f"{first}/account/reset_password/{email.link_code}"))
        password = "a new password for alice"
        fields = {"csrf_token": token, "password": password, "confirm_password": password}
        assert browser.post(f"{first}/account/reset_password", fields) == 200

        after_first, after_second = _metrics(first), _metrics(second)
    finally:
        for server in servers:
            stop(server)
    for server in servers:
        output = server.stdout.read()
        assert "Traceback" not in output, output

    # Either process answers for every process.
    assert _counters(after_first) == _counters(after_second)
    assert before.changes(after_first) == {
        "accounts_sign_ins_total{reason=,result=success}": 1,
        "accounts_password_resets_requested_total{}": 1,
        "accounts_rate_limited_total{limit=forgot_per_email}": 1,
        "accounts_password_resets_done_total{}": 1,
        "accounts_emails_queued_total{template=password_reset}": 1,
        "accounts_emails_sent_total{template=password_reset}": 1,
        "accounts_emails_queued_total{template=password_changed}": 1,
    }
    # Each process wrote its own files; the worker's are among them.
    assert len({path.name.rsplit("_", 1)[1] for path in directory.glob("*.db")}) == 3


def _counters(samples: Samples) -> dict:
    """The app's counters, without the requests of the /metrics calls themselves."""
    return {
        key: value
        for key, value in samples.values.items()
        if key[0].startswith("accounts_")
        and key[0].endswith("_total")
        and key[0] != "accounts_http_responses_total"
    }
