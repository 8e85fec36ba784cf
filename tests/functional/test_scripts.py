"""The console scripts, run as a person would run them."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Account, OneTimeCode, OutgoingEmail
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import choose_password, db, forgot_password, open_link, sign_in
from tests.support import Mailbox, SMTPServer
from tests.support.processes import program, write_config

ROOT = Path(__file__).resolve().parents[2]


def test_create_admin_prints_a_link_that_lets_the_admin_choose_a_password(
    wsgi_app, app_settings, tmp_path
):
    config = write_config(tmp_path, app_settings)
    result = subprocess.run(
        [program("app-create-admin"), str(config), " Admin@Example.com "],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    link = next(line for line in result.stdout.splitlines() if "/account/reset_password/" in line)
    code = link.rsplit("/", 1)[1]

    client = new_client(wsgi_app)
    open_link(client, code)
    page = client.get("/account/reset_password")
    assert "Choose your password" in page.text
    done = choose_password(client, STRONG_PASSWORD)
    assert "please sign in" in done.text
    assert urlsplit(sign_in(client, "admin@example.com", STRONG_PASSWORD).location).path == (
        "/account"
    )
    with db(wsgi_app) as session:
        admin = session.scalars(select(Account)).one()
    assert admin.is_admin and admin.email == "admin@example.com"
    assert "admin@example.com" in client.get("/admin/accounts").text
    client.get("/admin/accounts/new", status=200)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.ini", "admin@example.com"], "No such config file"),
        (["CONFIG", "not an email"], "not a usable email address"),
    ],
)
def test_create_admin_refuses_bad_arguments_clearly(app_settings, tmp_path, arguments, message):
    config = write_config(tmp_path, app_settings)
    arguments = [str(config) if a == "CONFIG" else a for a in arguments]
    result = subprocess.run(
        [program("app-create-admin"), *arguments], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_mail_worker_delivers_the_outbox(make_app, app_settings, tmp_path, smtp_server):
    from tests.functional.flows import create_account

    # The worker runs on the real clock; links made on the test's clock would have expired.
    wsgi_app = make_app(app_settings, use_fake_clock=False)
    create_account(wsgi_app, "alice@example.com", STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), "alice@example.com")
    config = write_config(tmp_path, {**app_settings, "mail.delivery": "worker"})
    result = subprocess.run(
        [program("app-mail-worker"), str(config), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [mail] = smtp_server.mailbox.to("alice@example.com")
    assert mail.link_code
    with db(wsgi_app) as session:
        assert session.scalars(select(OutgoingEmail)).one().sent_at is not None


def test_promoting_an_account_grants_nothing_to_whoever_registered_it(
    wsgi_app, app_settings, tmp_path, capsys
):
    """docs/security.md 32: someone registers the future administrator's address first,
    with a password of their own, and stays signed in. The operator then runs
    app-create-admin for that address: the squatter's password, session and links all
    stop working, and only the printed link makes the account usable."""
    from app.scripts.create_admin import main as create_admin
    from tests.functional.flows import create_account

    create_account(wsgi_app, "ceo@example.com", "squatters own chosen passphrase")
    squatter = new_client(wsgi_app)
    sign_in(squatter, "ceo@example.com", "squatters own chosen passphrase")
    forgot_password(squatter, "ceo@example.com")
    with db(wsgi_app) as session:
        [early_code] = session.scalars(select(OneTimeCode.code_hash)).all()

    config = write_config(tmp_path, app_settings)
    assert create_admin([str(config), "ceo@example.com"]) == 0
    printed = capsys.readouterr().out
    assert "was cleared" in printed and "7 days" in printed

    squatter.get("/account", status=303)
    squatter.get("/admin/accounts", status=303)
    sign_in(new_client(wsgi_app), "ceo@example.com", "squatters own chosen passphrase", status=400)
    with db(wsgi_app) as session:
        early = session.scalars(
            select(OneTimeCode).where(OneTimeCode.code_hash == early_code)
        ).one()
        assert early.used_at is not None
        account = session.scalars(select(Account)).one()
        assert account.is_admin and account.password_hash is None

    link = next(line for line in printed.splitlines() if "/account/reset_password/" in line)
    owner = new_client(wsgi_app)
    open_link(owner, link.rsplit("/", 1)[1])
    choose_password(owner, STRONG_PASSWORD)
    sign_in(owner, "ceo@example.com", STRONG_PASSWORD)
    owner.get("/admin/accounts", status=200)


class SlowMailbox(Mailbox):
    """A server that takes its time over each message, and says when one has begun."""

    def __init__(self) -> None:
        super().__init__()
        self.begun = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        self.begun.set()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await asyncio.sleep(1.5)
        return await super().handle_DATA(server, session, envelope)


def test_a_mail_worker_told_to_stop_finishes_the_message_in_hand_and_no_other(
    wsgi_app, app_settings, tmp_path
):
    """docs/security.md 52: SIGTERM while a message is being sent: that one is delivered
    and recorded, the others wait for the next worker, and the worker exits at once."""
    from tests.functional.flows import services

    slow = SMTPServer()
    slow.mailbox = SlowMailbox()
    slow.start()
    try:
        with db(wsgi_app) as session, session.begin():
            mail = services(wsgi_app, session).mail
            for n in range(5):
                mail.password_changed(f"user{n}@example.com", datetime.now(UTC), None)
        settings = {**app_settings, "mail.port": str(slow.port), "mail.delivery": "worker"}
        worker = subprocess.Popen(
            [program("app-mail-worker"), str(write_config(tmp_path, settings))],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert slow.mailbox.begun.wait(30), "the worker sent nothing"
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    finally:
        slow.stop()
    assert worker.returncode == 0, worker.stderr.read()
    assert len(slow.mailbox.messages) == 1
    with db(wsgi_app) as session:
        messages = session.scalars(select(OutgoingEmail)).all()
    assert sorted(m.sent_at is not None for m in messages) == [False] * 4 + [True]
    assert all(m.failed_at is None for m in messages)


def test_create_admin_restores_a_disabled_account_through_its_link(
    wsgi_app, app_settings, tmp_path, capsys
):
    """docs/security.md 50: with every administrator disabled, app-create-admin still
    gives access back, with the guarantees of a promotion."""
    from app.scripts.create_admin import main as create_admin
    from tests.functional.flows import create_account

    create_account(wsgi_app, "boss@example.com", "the old password of the boss")
    with db(wsgi_app) as session, session.begin():
        session.scalars(select(Account)).one().is_disabled = True
    assert create_admin([str(write_config(tmp_path, app_settings)), "boss@example.com"]) == 0
    link = next(line for line in capsys.readouterr().out.splitlines() if "/account/" in line)
    owner = new_client(wsgi_app)
    open_link(owner, link.rsplit("/", 1)[1])
    choose_password(owner, STRONG_PASSWORD)
    sign_in(owner, "boss@example.com", STRONG_PASSWORD)
    owner.get("/admin/accounts", status=200)


def test_create_admin_says_clearly_when_the_database_cannot_be_reached(tmp_path):
    from tests.support import free_port

    unreachable = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/accounts"
    config = write_config(
        tmp_path,
        {
            "sqlalchemy.url": unreachable,
            "app.secret": "a-long-enough-test-secret",
            "app.base_url": "https://accounts.example.test",
            "mail.delivery": "manual",
        },
    )
    result = subprocess.run(
        [program("app-create-admin"), str(config), "admin@example.com"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr
