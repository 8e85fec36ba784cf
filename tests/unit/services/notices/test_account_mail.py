"""What the emails say: the password-changed notice, the new sign-in alert, and messages
queued already rendered by a version before migration 0005 (each test with a database
runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.mail.smtp_transport import PermanentFailure
from app.mail.templates import MailTemplates, describe_minutes
from app.models import OutgoingEmail
from app.services.notices.account_mail import AccountMail
from app.services.notices.outbox import Outbox, outbox_cipher
from tests.conftest import BASE_URL, SECRET
from tests.support import FakeClock
from tests.support.outbox import FakeTransport, body_text, emails_to, make_sender, stored

WHEN = datetime(2026, 3, 7, 14, 5, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ip", "shown"),
    [("198.51.100.23", "from 198.51.100.23."), (None, "from an unknown address.")],
)
def test_the_password_changed_notice_says_when_in_utc_and_from_where(
    dbsession: Session, clock: FakeClock, ip: str | None, shown: str
) -> None:
    mail = AccountMail(Outbox(dbsession, outbox_cipher(SECRET), clock), BASE_URL, "the help desk")

    mail.password_changed("alice@example.com", WHEN, ip)

    [message] = emails_to(dbsession, "alice@example.com")
    text = " ".join(body_text(message).split())
    assert "was changed on Mar 7, 2026, 2:05 PM UTC " + shown in text


def test_a_message_queued_already_rendered_is_sent_as_it_was_rendered(
    dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    cipher = outbox_cipher(SECRET)
    old = OutgoingEmail(
        recipient="alice@example.com",
        template=None,
        subject="Reset your password (rendered before 0005)",
        body_text=cipher.encrypt("Text body, caf\u00e9".encode()),
        body_html=cipher.encrypt("<p>HTML body, caf\u00e9</p>".encode()),
        created_at=clock.now(),
        attempts=0,
        next_attempt_at=clock.now(),
    )
    dbsession.add(old)
    dbsession.commit()
    transport = FakeTransport()

    assert make_sender(session_factory, transport, clock).deliver_due() == 1

    [sent] = transport.sent
    assert sent.subject == "Reset your password (rendered before 0005)"
    assert sent.body == "Text body, caf\u00e9"
    assert sent.html == "<p>HTML body, caf\u00e9</p>"
    after = stored(session_factory, old.id)
    assert (after.body_text, after.body_html, after.payload) == (None, None, None)


def test_the_templates_render_each_email_with_its_subject() -> None:
    templates = MailTemplates()

    changed = templates.render(
        "password_changed",
        {"email": "a@example.com", "when": WHEN.isoformat(), "ip": "192.0.2.1"},
    )

    assert changed.subject == "Your password was changed"
    assert "a@example.com" in changed.text and "Mar 7, 2026" in changed.html


def test_an_email_names_the_site_it_comes_from() -> None:
    disabled = MailTemplates().render(
        "account_disabled", {"email": "a@example.com", "contact": "the help desk"}
    )

    text = " ".join(disabled.text.split())
    assert "the password of the Accounts account a@example.com" in text
    assert "contact the help desk" in text


NEW_DEVICE = {
    "email": "alice@example.com",
    "when": WHEN.isoformat(),
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "ip": None,
    "link": f"{BASE_URL}/not-me/abc",
    "expires": (WHEN + timedelta(days=7)).isoformat(),
    "site": BASE_URL,
}


@pytest.mark.parametrize(
    ("locale", "browser", "address"),
    [
        ("en", "Browser: Firefox 128 on Linux", "Address: an unknown address"),
        ("de", "Browser: Firefox 128 auf Linux", "IP-Adresse: unbekannt"),
        # French puts a narrow no-break space before the colon.
        (
            "fr",
            "Navigateur\u202f: Firefox 128 sous Linux",
            "Adresse IP\u202f: une adresse inconnue",
        ),
    ],
)
def test_a_new_sign_in_alert_describes_the_browser_and_an_unknown_address_in_its_language(
    locale: str, browser: str, address: str
) -> None:
    alert = MailTemplates().render("new_device", {**NEW_DEVICE, "locale": locale})

    lines = alert.text.splitlines()
    assert browser in lines
    assert address in lines


def test_a_new_sign_in_alert_queued_with_its_browser_described_shows_that_description() -> None:
    queued = {**NEW_DEVICE, "user_agent": None, "device": "Safari on macOS", "ip": "192.0.2.1"}

    alert = MailTemplates().render("new_device", queued)

    lines = alert.text.splitlines()
    assert "Browser: Safari on macOS" in lines
    assert "Address: 192.0.2.1" in lines


class RefusingTransport:
    """Fails every message with the exception it was given."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def send_immediately(self, message: object) -> None:
        raise self.error


def _queue(dbsession: Session, clock: FakeClock) -> int:
    outbox = Outbox(dbsession, outbox_cipher(SECRET), clock)
    message = outbox.queue(
        "alice@example.com",
        "password_changed",
        {"email": "alice@example.com", "when": WHEN.isoformat(), "ip": None},
    )
    dbsession.commit()
    return message.id


def test_the_log_says_which_email_failed_how_and_when_it_is_tried_again(
    dbsession: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    message_id = _queue(dbsession, clock)
    down = RefusingTransport(ConnectionRefusedError("smtp server down " + "x" * 2000))
    sender = make_sender(session_factory, down, clock, retry_for=timedelta(minutes=1))

    with caplog.at_level(logging.WARNING, logger="app.mail.sender"):
        sender.deliver_due()
        clock.advance(minutes=2)
        sender.deliver_due()

    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"Email {message_id} not delivered (attempt 1), retrying in 30.0 s:"
            " ConnectionRefusedError",
        ),
        ("ERROR", f"Giving up on email {message_id} after 2 attempts: ConnectionRefusedError"),
    ]
    last_error = stored(session_factory, message_id).last_error
    assert last_error is not None and len(last_error) == 1000
    assert last_error.startswith("ConnectionRefusedError: smtp server down xxx")


def test_a_permanent_refusal_is_logged_with_the_servers_answer(
    dbsession: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    message_id = _queue(dbsession, clock)
    refused = RefusingTransport(PermanentFailure("recipient refused (550)"))

    with caplog.at_level(logging.WARNING, logger="app.mail.sender"):
        make_sender(session_factory, refused, clock).deliver_due()

    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", f"Giving up on email {message_id} after 1 attempts: recipient refused (550)")
    ]


def test_a_message_queued_rendered_without_a_subject_is_sent_with_an_empty_one(
    dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    cipher = outbox_cipher(SECRET)
    dbsession.add(
        OutgoingEmail(
            recipient="alice@example.com",
            template=None,
            subject=None,
            body_text=cipher.encrypt(b"Text"),
            body_html=cipher.encrypt(b"<p>HTML</p>"),
            created_at=clock.now(),
            attempts=0,
            next_attempt_at=clock.now(),
        )
    )
    dbsession.commit()
    transport = FakeTransport()

    make_sender(session_factory, transport, clock).deliver_due()

    assert [message.subject for message in transport.sent] == [""]


@pytest.mark.parametrize(
    ("left", "says"),
    [(1, "1 recovery code left."), (3, "3 recovery codes left."), (0, "0 recovery codes left.")],
)
def test_the_recovery_code_notice_says_how_many_codes_are_left(left: int, says: str) -> None:
    notice = MailTemplates().render(
        "recovery_code_used",
        {"email": "a@example.com", "site": BASE_URL, "when": WHEN.isoformat(), "left": left},
    )

    assert says in notice.text
    assert f"<strong>{says}</strong>" in notice.html


def test_a_security_notice_without_a_count_of_codes_says_nothing_of_them() -> None:
    notice = MailTemplates().render(
        "recovery_codes_renewed",
        {"email": "a@example.com", "site": BASE_URL, "when": WHEN.isoformat()},
    )

    assert "recovery code left" not in notice.text and "codes left" not in notice.text


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (1, "1 minute"),
        (90, "90 minutes"),
        (60, "1 hour"),
        (120, "2 hours"),
        (1500, "25 hours"),
        (1440, "1 day"),
        (7 * 1440, "7 days"),
    ],
)
def test_a_links_lifetime_is_said_in_the_largest_whole_unit(minutes: int, said: str) -> None:
    assert describe_minutes(minutes, MailTemplates().formats("en")) == said
