"""Emails leave through the outbox after commit, survive an SMTP outage, and in
development land as files with the link in the log."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from app.models import Account
from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, forgot_password, open_link, queued_emails
from tests.support import SMTPServer

ALICE = "alice@example.com"


def _wait_until(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_background_sender_delivers_the_reset_email_after_commit(make_app, app_settings):
    smtp = SMTPServer()
    smtp.start()
    try:
        settings = {**app_settings, "mail.port": str(smtp.port), "mail.delivery": "thread"}
        wsgi_app = make_app(settings, use_fake_clock=False)
        create_account(wsgi_app, ALICE, STRONG_PASSWORD)
        forgot_password(new_client(wsgi_app), ALICE)
        [mail] = smtp.mailbox.wait_for(1)
        assert mail.recipients == [ALICE]
        assert mail.link.startswith(f"{BASE_URL}/account/reset_password/")
        open_link(new_client(wsgi_app), mail.link_code, status=303)
    finally:
        smtp.stop()


def test_email_survives_smtp_being_down_and_arrives_exactly_once(make_app, app_settings):
    smtp = SMTPServer()  # not started: nothing listens on its port yet
    settings = {
        **app_settings,
        "mail.port": str(smtp.port),
        "mail.delivery": "thread",
        "mail.retry_seconds": "0.2",
        "mail.poll_seconds": "0.1",
    }
    wsgi_app = make_app(settings, use_fake_clock=False)
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)

    response = forgot_password(new_client(wsgi_app), ALICE)
    assert response.status_int == 303
    assert _wait_until(lambda: any(m.attempts >= 2 for m in queued_emails(wsgi_app)))
    [pending] = queued_emails(wsgi_app)
    assert pending.sent_at is None and pending.last_error

    smtp.start()
    try:
        assert _wait_until(lambda: len(smtp.mailbox.messages) >= 1)
        time.sleep(1.0)  # time for any duplicate to show up
        assert [m.recipients for m in smtp.mailbox.messages] == [[ALICE]]
        [sent] = queued_emails(wsgi_app)
        assert sent.sent_at is not None
        assert sent.payload is None
    finally:
        smtp.stop()


def test_smtp_being_down_does_not_change_the_page(make_app, app_settings):
    down = SMTPServer()
    wsgi_app = make_app({**app_settings, "mail.port": str(down.port)})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    response = forgot_password(new_client(wsgi_app), ALICE)
    assert response.status_int == 303
    assert wsgi_app.registry["outbox_sender"].deliver_due() == 0
    assert new_client(wsgi_app).get(response.location).status_int == 200


def test_development_writes_emails_to_files_and_logs_the_link(
    make_app, app_settings, tmp_path, caplog
):
    mail_dir = tmp_path / "mail"
    settings = {
        **app_settings,
        "mail.transport": "file",
        "mail.file_directory": str(mail_dir),
        "app.log_reset_links": "true",
    }
    wsgi_app = make_app(settings)
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with caplog.at_level(logging.INFO, logger="app"):
        forgot_password(new_client(wsgi_app), ALICE)
    logged = [r.getMessage() for r in caplog.records if "reset_password/" in r.getMessage()]
    assert len(logged) == 1
    link = logged[0].rsplit(" ", 1)[1]
    assert link.startswith(f"{BASE_URL}/account/reset_password/")
    with db(wsgi_app) as session:
        alice_id = session.scalars(select(Account.id)).one()
    assert logged[0] == f"Development only: reset link for account {alice_id}: {link}"

    assert wsgi_app.registry["outbox_sender"].deliver_due() == 1
    [written] = list(mail_dir.glob("*.eml"))
    assert ALICE in written.read_text()
    [readable] = list(mail_dir.glob("*.txt"))
    assert readable.stem == written.stem and ALICE in readable.read_text()


def test_production_settings_never_log_the_link(wsgi_app, caplog):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with caplog.at_level(logging.DEBUG):
        forgot_password(new_client(wsgi_app), ALICE)
        wsgi_app.registry["outbox_sender"].deliver_due()
    # "mail.log" is the test's own SMTP server, which logs what it receives.
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert ours
    assert not [r for r in ours if "reset_password/" in r.getMessage()]
