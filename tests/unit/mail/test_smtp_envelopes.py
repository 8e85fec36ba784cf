"""What the SMTP transport puts on the envelope, against a real SMTP server (aiosmtpd)
that offers SMTPUTF8 or not: an address whose local part is not ASCII goes only to a
server that takes UTF-8, with the SMTPUTF8 option, and is otherwise given up at once
with the reason; an all-ASCII message never asks for SMTPUTF8; and a refusal is told
apart as permanent or worth retrying."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pyramid_mailer.message import Message

from app.mail.smtp_transport import PermanentFailure, SMTPTransport, envelope_address
from app.settings import SmtpSettings
from tests.support import RefusingRecipients, SMTPServer

SENDER = "no-reply@example.test"
JURGEN = "j\u00fcrgen@example.com"


@dataclass
class Envelope:
    mail_from: str
    mail_options: list[str]
    recipients: list[str]


@dataclass
class EnvelopeLog:
    """An aiosmtpd handler that keeps each accepted envelope's sender, MAIL options
    and recipients."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(
            Envelope(envelope.mail_from, list(envelope.mail_options), list(envelope.rcpt_tos))
        )
        return "250 Message accepted for delivery"


def _server(handler, **options) -> Iterator[SMTPServer]:
    server = SMTPServer(**options)
    server.mailbox = handler
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def log() -> EnvelopeLog:
    return EnvelopeLog()


@pytest.fixture
def utf8_server(log: EnvelopeLog) -> Iterator[SMTPServer]:
    yield from _server(log, enable_SMTPUTF8=True)


@pytest.fixture
def ascii_server(log: EnvelopeLog) -> Iterator[SMTPServer]:
    yield from _server(log, enable_SMTPUTF8=False)


def _send(server: SMTPServer, to: str) -> None:
    transport = SMTPTransport(SmtpSettings(host="127.0.0.1", port=server.port, tls="none"))
    message = Message(subject="Hello", sender=SENDER, recipients=[to], body="Hello.")
    transport.send_immediately(message)


def _upper(options: list[str]) -> list[str]:
    # SMTP's keywords are case-insensitive (RFC 5321, 2.4).
    return [option.upper() for option in options]


def test_a_non_ascii_local_part_goes_as_utf8_to_a_server_that_offers_smtputf8(
    utf8_server: SMTPServer, log: EnvelopeLog
):
    _send(utf8_server, JURGEN)
    [envelope] = log.envelopes
    assert envelope.recipients == [JURGEN]
    assert envelope.mail_from == SENDER
    assert "SMTPUTF8" in _upper(envelope.mail_options)


def test_a_non_ascii_local_part_is_given_up_with_the_reason_when_the_server_lacks_smtputf8(
    ascii_server: SMTPServer, log: EnvelopeLog
):
    with pytest.raises(PermanentFailure) as refused:
        _send(ascii_server, JURGEN)
    assert str(refused.value) == "the address needs SMTPUTF8, which the server does not offer"
    assert log.envelopes == []


@pytest.mark.parametrize("server", ["utf8_server", "ascii_server"])
def test_an_all_ascii_message_never_asks_for_smtputf8(request, server: str, log: EnvelopeLog):
    _send(request.getfixturevalue(server), "alice@b\u00fccher.example")
    [envelope] = log.envelopes
    assert envelope.recipients == ["alice@xn--bcher-kva.example"]
    assert "SMTPUTF8" not in _upper(envelope.mail_options)


def test_a_sender_that_cannot_be_encoded_even_as_utf8_is_given_up_with_the_reason(
    utf8_server: SMTPServer, log: EnvelopeLog
):
    # A lone surrogate, as an undecodable byte becomes in a Python string: retrying
    # could never send it, so it is permanent rather than an error left to retry.
    transport = SMTPTransport(SmtpSettings(host="127.0.0.1", port=utf8_server.port, tls="none"))
    message = Message(
        subject="Hello", sender="no-reply\udcff@example.test", recipients=[JURGEN], body="Hi."
    )
    with pytest.raises(PermanentFailure) as refused:
        transport.send_immediately(message)
    assert str(refused.value).startswith("cannot be encoded for this server: 'utf-8' codec")
    assert log.envelopes == []


def test_an_address_that_cannot_be_delivered_is_given_up_with_the_reason():
    with pytest.raises(PermanentFailure, match="^not a deliverable address: "):
        envelope_address("no-at-sign.example.com", smtputf8=True)


@pytest.mark.parametrize(
    ("reply", "raised"),
    [
        ("550 5.1.1 No such mailbox", PermanentFailure),
        ("451 4.3.0 Try again later", smtplib.SMTPRecipientsRefused),
    ],
)
def test_a_refused_recipient_is_permanent_on_5xx_and_left_to_retry_on_4xx(reply, raised):
    for server in _server(RefusingRecipients(reply)):
        with pytest.raises(raised):
            _send(server, "alice@example.com")


@dataclass
class RefusingSender:
    """An aiosmtpd handler that answers MAIL FROM with this reply."""

    reply: str

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        return self.reply


def test_a_5xx_answer_is_permanent_with_the_servers_words_and_a_4xx_one_is_not() -> None:
    for server in _server(RefusingSender("500 5.5.2 Syntax error")):
        with pytest.raises(PermanentFailure) as refused:
            _send(server, "alice@example.com")
    assert str(refused.value) == "500 b'5.5.2 Syntax error'"
    for server in _server(RefusingSender("499 4.0.0 Not now")):
        with pytest.raises(smtplib.SMTPSenderRefused):
            _send(server, "alice@example.com")
