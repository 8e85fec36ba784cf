"""Production shape: several real app processes and mail workers on one PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Account, get_engine, get_session_factory
from app.services.notices.outbox import Outbox, outbox_cipher
from app.services.passwords.passwords import PasswordHasher
from tests.conftest import SECRET, STRONG_PASSWORD
from tests.support import UNLIMITED_RATES, Mailbox, SMTPServer, free_port
from tests.support.processes import Browser, program, serve, stop, wait_for_http, write_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgresql_url(postgresql_server, postgresql_template) -> Iterator[str]:
    with postgresql_server.database(postgresql_template) as dbname:
        yield postgresql_server.url(dbname)


def test_forty_clients_on_two_app_processes_race_one_code_and_one_wins(
    postgresql_url, tmp_path, smtp_server
):
    engine = get_engine({"sqlalchemy.url": postgresql_url})
    factory = get_session_factory(engine)
    from tests.functional.flows import account_service

    settings = {
        "sqlalchemy.url": postgresql_url,
        "app.secret": SECRET,
        "app.base_url": "http://127.0.0.1",
        "mail.delivery": "manual",
        "mail.port": str(smtp_server.port),
        "mail.tls": "none",
        **UNLIMITED_RATES,
    }
    config = write_config(tmp_path, settings)
    ports = [free_port(), free_port()]
    servers = [serve(config, port) for port in ports]
    try:
        for port, server in zip(ports, servers, strict=True):
            wait_for_http(f"http://127.0.0.1:{port}/account/signin", server)

        from app import main

        helper_app = main({}, **settings)
        try:
            with factory() as session, session.begin():
                service = account_service(helper_app, session)
                service.create_account("alice@example.com", STRONG_PASSWORD)
                session.flush()
                code = service.create_reset_code("alice@example.com", "127.0.0.1")
        finally:
            helper_app.registry["db_engine"].dispose()

        passwords = [f"forty racing clients number {i:02d}" for i in range(40)]
        prepared = []
        for index, password in enumerate(passwords):
            base = f"http://127.0.0.1:{ports[index % 2]}"
            browser = Browser()
            page = browser.get(f"{base}/account/reset_password/{code}")  # follows the 303
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            prepared.append((browser, base, token, password))

        barrier = threading.Barrier(len(prepared))
        statuses: list[int] = [0] * len(prepared)

        def race(index: int) -> None:
            browser, base, token, password = prepared[index]
            barrier.wait()
            statuses[index] = browser.post(
                f"{base}/account/reset_password",
                {"csrf_token": token, "password": password, "confirm_password": password},
            )

        threads = [threading.Thread(target=race, args=(i,)) for i in range(len(prepared))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

        assert sorted(statuses) == [200] + [400] * 39, statuses
        winner = passwords[statuses.index(200)]
        with factory() as session:
            stored = session.scalars(select(Account.password_hash)).one()
        hasher = PasswordHasher()
        assert [p for p in passwords if hasher.verify(p, stored)[0]] == [winner]
    finally:
        for server in servers:
            stop(server)
        engine.dispose()
        for server in servers:
            output = server.stdout.read()
            if "Traceback" in output or "ERROR" in output:
                print(output)


class FlakyMailbox(Mailbox):
    """Refuses every third delivery until it has refused `refusals` of them."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals_left = refusals
        self.calls = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.calls += 1
            refuse = self.calls % 3 == 0 and self.refusals_left > 0
            if refuse:
                self.refusals_left -= 1
        if refuse:
            return "451 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_three_mail_workers_deliver_300_messages_exactly_once(postgresql_url, tmp_path):
    smtp = SMTPServer()
    smtp.mailbox = FlakyMailbox(refusals=60)
    smtp.start()
    engine = get_engine({"sqlalchemy.url": postgresql_url})
    factory = get_session_factory(engine)
    workers: list[subprocess.Popen] = []
    try:
        from app.services.kernel.clock import SystemClock

        with factory() as session, session.begin():
            outbox = Outbox(session, outbox_cipher(SECRET), SystemClock())
            for number in range(300):
                recipient = f"user{number}@example.com"
                link = f"http://127.0.0.1/account/reset_password/code{number}"
                outbox.queue(
                    recipient, "password_reset", {"email": recipient, "link": link, "minutes": 60}
                )
        config = write_config(
            tmp_path,
            {
                "sqlalchemy.url": postgresql_url,
                "app.secret": SECRET,
                "app.base_url": "http://127.0.0.1",
                "mail.delivery": "worker",
                "mail.host": "127.0.0.1",
                "mail.port": str(smtp.port),
                "mail.tls": "none",
                "mail.retry_seconds": "0.2",
                "mail.poll_seconds": "0.1",
                "mail.max_attempts": "20",
            },
        )
        workers = [
            subprocess.Popen(
                [program("app-mail-worker"), str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(smtp.mailbox.messages) < 300:
            time.sleep(0.2)
        time.sleep(2)  # room for any duplicate to arrive
        links = [m.link_code for m in smtp.mailbox.messages]
        assert len(links) == 300, f"{len(links)} delivered"
        assert len(set(links)) == 300
        assert smtp.mailbox.refusals_left == 0  # the server really did refuse some
    finally:
        for worker in workers:
            stop(worker)
        smtp.stop()
        engine.dispose()
    for worker in workers:
        assert worker.returncode == 0, worker.stderr.read()


def test_make_runs_port_moves_the_server_and_the_base_url(tmp_path):
    """`make run PORT=...` is `pserve development.ini http_port=...`: the server listens
    there, and the addresses it redirects to follow."""
    port = free_port()
    config = tmp_path / "development.ini"
    config.write_text((ROOT / "development.ini").read_text())
    (tmp_path / "var" / "mail").mkdir(parents=True)
    subprocess.run([program("alembic"), "-c", str(config), "upgrade", "head"], check=True)
    server = subprocess.Popen(
        [program("pserve"), str(config), f"http_port={port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"http://localhost:{port}/account/signin", server)
        request = urllib.request.Request(f"http://localhost:{port}/account")  # noqa: S310
        opener = urllib.request.build_opener(_NoRedirects)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(request)
        assert redirect.value.code == 303
        location = redirect.value.headers["Location"]
        assert location.startswith(f"http://localhost:{port}/account/signin")
    finally:
        stop(server)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_pserve_production_ini_serves_the_sign_in_page(db_url, tmp_path):
    port = free_port()
    # production.ini as shipped, on a free port instead of 6543.
    text = (ROOT / "production.ini").read_text()
    text = re.sub(r"^listen = .*$", f"listen = 127.0.0.1:{port}", text, flags=re.M)
    config = tmp_path / "production.ini"
    config.write_text(text)
    environment = {
        **os.environ,
        "APP_SECRET": SECRET,
        "DATABASE_URL": db_url,
        "APP_BASE_URL": "https://accounts.example.test",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),
    }
    server = subprocess.Popen(
        [program("pserve"), str(config)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/account/signin") as response:  # noqa: S310
            assert response.headers["Server"] == "waitress"
            assert "Strict-Transport-Security" in response.headers
            assert "Sign in" in response.read().decode()
            request_id = response.headers["X-Request-ID"]
        assert _answer_to_a_huge_upload_before_sending_it(port).startswith(b"HTTP/1.1 413")
    finally:
        stop(server)
    # The log is JSON lines (pserve's own "Starting server" aside): one per request but
    # the health checks' (waitress refused the upload before the app saw it).
    output = server.stdout.read().splitlines()
    lines = [json.loads(line) for line in output if line.startswith("{")]
    [access] = [line for line in lines if line["logger"] == "app.access"]
    assert (access["route"], access["path"], access["status"]) == (
        "account.signin",
        "/account/signin",
        200,
    )
    assert access["request_id"] == request_id and access["client_ip"] == "127.0.0.1"


def _answer_to_a_huge_upload_before_sending_it(port: int) -> bytes:
    """docs/security.md 37: announce a 100 MB body and send none of it. A server that
    means to read it first would wait here for the body, and the read times out."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"POST /account/signin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        return connection.recv(200)


def test_production_ini_without_app_secret_stops_with_a_clear_message(db_url):
    environment = {k: v for k, v in os.environ.items() if k != "APP_SECRET"}
    environment["DATABASE_URL"] = db_url
    result = subprocess.run(
        [program("pserve"), str(ROOT / "production.ini")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "APP_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_request_that_hits_a_serialization_failure_is_retried(wsgi_app, monkeypatch):
    import psycopg.errors
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from app.services.accounts.accounts import AccountService
    from tests.conftest import new_client
    from tests.functional.flows import forgot_password

    original = AccountService.request_password_reset
    calls: list[int] = []

    def conflicting_once(self, email):
        calls.append(1)
        if len(calls) == 1:
            self.dbsession.execute(text("SELECT 1"))  # the session is in the transaction
            raise OperationalError(
                "UPDATE ...", {}, psycopg.errors.SerializationFailure("could not serialize")
            )
        return original(self, email)

    monkeypatch.setattr(AccountService, "request_password_reset", conflicting_once)
    response = forgot_password(new_client(wsgi_app), "alice@example.com")
    assert response.status_int == 303
    assert len(calls) == 2


def test_pages_answer_503_while_postgresql_is_down_and_recover_by_themselves(
    postgresql_server, tmp_path
):
    from app import main
    from tests.conftest import alembic_config
    from tests.postgres import PostgresServer

    # A server of this test's own: stopping the shared one would disturb other tests.
    server = PostgresServer(postgresql_server.bin_dir)
    server.start()
    app = None
    try:
        server.janitor("outage").init()
        from alembic import command

        command.upgrade(alembic_config(server.url("outage")), "head")
        app = main(
            {},
            **{
                "sqlalchemy.url": server.url("outage"),
                "app.secret": SECRET,
                "app.base_url": "http://127.0.0.1",
                "mail.delivery": "manual",
            },
        )
        from tests.conftest import new_client
        from tests.functional.flows import create_account, sign_in

        create_account(app, "alice@example.com", STRONG_PASSWORD)
        client = new_client(app)
        sign_in(client, "alice@example.com", STRONG_PASSWORD)
        assert client.get("/account").status_int == 200

        server.pause()
        for url in ("/account", "/account/signin", "/"):
            down = client.get(url, status="*")
            assert down.status_int == 503, url
            assert down.headers["Retry-After"] == "30"
            assert "Back in a moment" in down.text
            assert "Traceback" not in down.text
        page = new_client(app).get("/account/forgot_password", status="*")
        form_post = new_client(app).post(
            "/account/forgot_password", {"email": "alice@example.com"}, status="*"
        )
        assert page.status_int == 200  # needs no database
        assert form_post.status_int in (400, 503)

        server.resume()
        assert client.get("/account").status_int == 200
        sign_in(new_client(app), "alice@example.com", STRONG_PASSWORD)
    finally:
        if app is not None:
            app.registry["db_engine"].dispose()
        server.stop()
