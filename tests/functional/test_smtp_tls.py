"""docs/security.md 47 and 51: mail goes to the SMTP server over verified TLS,
credentials never travel in clear, and what cannot be delivered is told apart from what
can be later. Against a real SMTP server (aiosmtpd) with STARTTLS and certificates made
by the test: one signed by a CA of its own, and a self-signed one for another name."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pyramid_mailer.message import Message

from app.mail.smtp_transport import SMTPTransport
from app.settings import AppSettings, SettingsError, SmtpSettings
from tests.conftest import SECRET, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, deliver_mail, forgot_password, queued_emails
from tests.support import RefusingRecipients, SMTPServer
from tests.tls_certificates import Certificates, make_certificates

ALICE = "alice@example.com"
USER, PASSWORD = "accounts-mailer", "smtp-canary-password-9Qx"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def tls_server(request, certificates: Certificates) -> Iterator[SMTPServer]:
    """A server offering STARTTLS with a certificate for localhost (or, asked for as
    'impostor', a self-signed one for another name), and requiring a login over TLS."""
    which = getattr(request, "param", "server")
    server = SMTPServer(tls_context=certificates.server_context(which), require_starttls=True)
    server.options["authenticator"] = server.mailbox.authenticator(USER, PASSWORD)
    server.options["auth_required"] = True
    server.start()
    yield server
    server.stop()


def _settings(app_settings, server: SMTPServer, certificates: Certificates, **more) -> dict:
    return {
        **{k: v for k, v in app_settings.items() if k != "mail.tls"},
        "mail.host": "localhost",
        "mail.port": str(server.port),
        "mail.username": USER,
        "mail.password": PASSWORD,
        "mail.tls_ca_file": str(certificates.ca_file),
        **more,
    }


def _queue_a_reset(wsgi_app) -> None:
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), ALICE)


def test_mail_goes_over_verified_starttls_by_default_and_logs_in_only_then(
    make_app, app_settings, tls_server, certificates
):
    wsgi_app = make_app(_settings(app_settings, tls_server, certificates))
    _queue_a_reset(wsgi_app)
    assert deliver_mail(wsgi_app) == 1
    assert tls_server.mailbox.over_tls == [True]
    assert tls_server.mailbox.logins == [(USER, True)]
    assert tls_server.mailbox.to(ALICE)[0].link_code


@pytest.mark.parametrize("tls_server", ["impostor"], indirect=True)
def test_a_certificate_that_does_not_verify_is_refused_and_the_email_kept(
    make_app, app_settings, tls_server, certificates, clock, caplog
):
    wsgi_app = make_app(_settings(app_settings, tls_server, certificates))
    _queue_a_reset(wsgi_app)
    with caplog.at_level(logging.WARNING, logger="app"):
        assert deliver_mail(wsgi_app) == 0
    assert tls_server.mailbox.messages == []
    assert tls_server.mailbox.logins == []  # the password never left
    [pending] = queued_emails(wsgi_app)
    assert pending.sent_at is None and pending.failed_at is None
    assert "SSLCertVerificationError" in pending.last_error
    assert any("not delivered" in r.getMessage() for r in caplog.records)


def test_credentials_are_never_sent_to_a_server_without_starttls(
    make_app, app_settings, smtp_server, certificates
):
    # The plain test server offers no STARTTLS: the transport stops before any login.
    settings = _settings(app_settings, smtp_server, certificates)
    wsgi_app = make_app(settings)
    _queue_a_reset(wsgi_app)
    assert deliver_mail(wsgi_app) == 0
    assert smtp_server.mailbox.messages == []
    [pending] = queued_emails(wsgi_app)
    assert pending.failed_at is None
    assert pending.last_error == (
        "TLSUnavailable: localhost does not offer STARTTLS; nothing is sent in clear"
    )


@pytest.fixture
def implicit_tls_server(request, certificates: Certificates) -> Iterator[SMTPServer]:
    """A server speaking TLS from the first byte (SMTPS, usually port 465), with a
    certificate for localhost or, asked for as 'impostor', a self-signed one."""
    which = getattr(request, "param", "server")
    server = SMTPServer(ssl_context=certificates.server_context(which))
    server.start()
    yield server
    server.stop()


def _transport(
    port: int, certificates: Certificates, host: str = "localhost", **settings
) -> SMTPTransport:
    return SMTPTransport(
        SmtpSettings(host=host, port=port, ca_file=str(certificates.ca_file), **settings)
    )


def _a_message() -> Message:
    return Message(subject="Hello", sender="no-reply@example.test", recipients=[ALICE], body="Hi")


def test_implicit_tls_delivers_over_a_verified_connection(implicit_tls_server, certificates):
    _transport(implicit_tls_server.port, certificates, tls="ssl").send_immediately(_a_message())
    [caught] = implicit_tls_server.mailbox.messages
    assert caught.recipients == [ALICE]  # the server speaks nothing but TLS


@pytest.mark.parametrize("implicit_tls_server", ["impostor"], indirect=True)
def test_implicit_tls_refuses_a_certificate_that_does_not_verify(implicit_tls_server, certificates):
    transport = _transport(implicit_tls_server.port, certificates, tls="ssl")
    with pytest.raises(ssl.SSLCertVerificationError):
        transport.send_immediately(_a_message())
    assert implicit_tls_server.mailbox.messages == []


@pytest.mark.parametrize("tls", ["none", "starttls", "ssl"])
def test_a_server_that_never_answers_is_given_up_after_the_timeout(certificates, tls):
    # A port that takes connections (the kernel completes them) but never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        transport = _transport(port, certificates, "127.0.0.1", tls=tls, timeout_seconds=0.2)
        raised: list[BaseException] = []

        def send() -> None:
            try:
                transport.send_immediately(_a_message())
            except BaseException as exc:  # noqa: BLE001 - kept for the assertion below
                raised.append(exc)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        sender.join(timeout=10)
        assert not sender.is_alive(), "the transport waited past its timeout"
    # smtplib words a timeout while it waits for the greeting as a disconnection.
    [error] = raised
    assert "timed out" in str(error)


def test_credentials_without_tls_are_refused_at_start_up():
    with pytest.raises(SettingsError, match="never sent without TLS"):
        AppSettings.from_settings(
            {
                "app.secret": SECRET,
                "app.base_url": "https://accounts.example.test",
                "mail.tls": "none",
                "mail.username": USER,
            }
        )
    settings = AppSettings.from_settings(
        {"app.secret": SECRET, "app.base_url": "https://accounts.example.test"}
    )
    assert settings.smtp.tls == "starttls"


def test_the_smtp_password_is_kept_out_of_the_settings_repr():
    settings = AppSettings.from_settings(
        {
            "app.secret": SECRET,
            "app.base_url": "https://accounts.example.test",
            "mail.username": USER,
            "mail.password": PASSWORD,
        }
    )
    assert PASSWORD not in repr(settings)


# Item 51: what is accepted can be delivered; what cannot is failed at once


def test_an_address_with_a_non_ascii_local_part_is_refused_with_the_reason(wsgi_app):
    from tests.functional.flows import register

    page = register(new_client(wsgi_app), "j\u00fcrgen@example.com", STRONG_PASSWORD, status=400)
    assert "before the @" in page.text


def test_an_internationalised_domain_is_sent_in_its_ascii_form(wsgi_app, smtp_server):
    create_account(wsgi_app, "alice@b\u00fccher.example", STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), "alice@b\u00fccher.example")
    assert deliver_mail(wsgi_app) == 1
    assert smtp_server.mailbox.messages[0].recipients == ["alice@xn--bcher-kva.example"]


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("550 5.1.1 No such mailbox", True), ("451 4.3.0 Try again later", False)],
)
def test_a_permanent_refusal_fails_the_email_at_once_and_a_temporary_one_is_retried(
    make_app, app_settings, reply, permanent
):
    server = SMTPServer()
    server.mailbox = RefusingRecipients(reply)  # type: ignore[assignment]
    server.start()
    try:
        wsgi_app = make_app({**app_settings, "mail.port": str(server.port)})
        _queue_a_reset(wsgi_app)
        deliver_mail(wsgi_app)
    finally:
        server.stop()
    [message] = queued_emails(wsgi_app)
    assert (message.failed_at is not None) is permanent
    assert (message.payload is None) is permanent


def test_a_temporary_failure_is_retried_for_retry_hours_then_given_up(
    make_app, app_settings, clock
):
    down = SMTPServer()  # never started: nothing listens on its port
    wsgi_app = make_app({**app_settings, "mail.port": str(down.port), "mail.retry_hours": "48"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        from tests.functional.flows import services

        services(wsgi_app, session).mail.password_changed(ALICE, clock.now(), None)
    for _ in range(60):  # an hour apart: the backoff is capped at an hour
        deliver_mail(wsgi_app)
        clock.advance(hours=1)
        [message] = queued_emails(wsgi_app)
        if message.failed_at is not None:
            break
    assert message.failed_at is not None
    assert message.failed_at - message.created_at >= timedelta(hours=48)
    assert message.attempts > 10


def test_a_link_that_expired_while_waiting_is_not_sent(make_app, app_settings, smtp_server, clock):
    wsgi_app = make_app(app_settings)
    _queue_a_reset(wsgi_app)
    clock.advance(minutes=61)  # the reset link lives 60 minutes
    assert deliver_mail(wsgi_app) == 0
    assert smtp_server.mailbox.messages == []
    [message] = queued_emails(wsgi_app)
    assert message.failed_at is not None and "expired" in message.last_error
    assert message.payload is None
