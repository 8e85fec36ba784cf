"""An email whose link stops working while it waits in the outbox (the mail server was
away) is given up, never sent with a dead link; one still in time goes out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.models import OutgoingEmail
from app.services.notices.account_mail import AccountMail
from app.services.notices.outbox import Outbox, outbox_cipher
from tests.conftest import SECRET
from tests.support import FakeClock
from tests.support.outbox import FakeTransport, make_sender

ALICE = "alice@example.com"


@pytest.fixture
def mail(dbsession: Session, clock: FakeClock) -> AccountMail:
    return AccountMail(
        Outbox(dbsession, outbox_cipher(SECRET), clock), "http://localhost", "the help desk"
    )


def _queued_then_delivered(mail, dbsession, session_factory, clock, queue, waited) -> FakeTransport:
    """Queue the email, let it wait `waited` (the mail server away), then deliver."""
    queue(mail, clock)
    dbsession.commit()
    clock.advance(seconds=waited.total_seconds())
    transport = FakeTransport()
    make_sender(session_factory, transport, clock).deliver_due()
    return transport


def _only_message(session_factory) -> OutgoingEmail:
    with session_factory() as session:
        [message] = session.query(OutgoingEmail).all()
        return message


def _reset_link(mail: AccountMail, clock: FakeClock) -> None:
    mail.link(
        ALICE, "reset", "http://localhost/r/code", 60, expires_at=clock.now() + timedelta(hours=1)
    )


def _new_device(mail: AccountMail, clock: FakeClock) -> None:
    mail.new_device(
        ALICE,
        when=clock.now(),
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ip="198.51.100.7",
        not_me_link="http://localhost/n/code",
        expires_at=clock.now() + timedelta(days=7),
    )


@pytest.mark.parametrize(
    "queue, waited",
    [(_reset_link, timedelta(minutes=59)), (_new_device, timedelta(days=6, hours=23))],
    ids=["reset link", "not-me link"],
)
def test_an_email_whose_link_still_works_is_sent(
    mail, dbsession, session_factory, clock, queue, waited
) -> None:
    transport = _queued_then_delivered(mail, dbsession, session_factory, clock, queue, waited)

    assert [m.recipients for m in transport.sent] == [[ALICE]]
    assert _only_message(session_factory).sent_at == clock.now()


@pytest.mark.parametrize(
    "queue, waited",
    [(_reset_link, timedelta(hours=1)), (_new_device, timedelta(days=7, seconds=1))],
    ids=["reset link", "not-me link"],
)
def test_an_email_whose_link_expired_while_it_waited_is_given_up_unsent(
    mail, dbsession, session_factory, clock, queue, waited
) -> None:
    transport = _queued_then_delivered(mail, dbsession, session_factory, clock, queue, waited)

    assert transport.sent == []
    message = _only_message(session_factory)
    assert (message.sent_at, message.failed_at) == (None, clock.now())
    assert message.last_error == "Undeliverable: its link expired before it could be sent"
    assert message.payload is None
