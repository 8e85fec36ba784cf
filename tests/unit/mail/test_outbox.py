"""The outbox: encrypted at rest, delivered once, retried with backoff, leased."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.mail.sender import OutboxSender
from app.mail.templates import MailTemplates
from app.models import OutgoingEmail, get_engine, get_session_factory
from app.services.notices.outbox import Outbox, outbox_cipher
from tests.conftest import SECRET
from tests.support import FakeClock
from tests.support.outbox import (
    LEASE_SECONDS,
    RETRY_SECONDS,
    SENDER,
    FakeTransport,
    make_sender,
    stored,
)

CANARY = "https://accounts.example.test/account/reset_password/canary-code-0123456789"


class ProcessDied(BaseException):
    """Stands for the sending process being killed in the middle of a delivery."""


class DyingTransport:
    def send_immediately(self, message: Any) -> None:
        raise ProcessDied


@pytest.fixture
def outbox(dbsession: Session, clock: FakeClock) -> Outbox:
    return Outbox(dbsession, outbox_cipher(SECRET), clock)


def content(n: int = 0) -> tuple[str, dict[str, Any]]:
    """A reset email as it is queued: the email's name and its parameters."""
    return "password_reset", {
        "email": f"user{n}@example.com",
        "link": f"{CANARY}/{n}",
        "minutes": 60,
    }


def _queue_resets(outbox: Outbox, dbsession: Session, count: int) -> None:
    """Queue and commit `count` reset emails, to user0@example.com and on."""
    for n in range(count):
        outbox.queue(f"user{n}@example.com", *content(n))
    dbsession.commit()


# Queueing


def test_messages_are_stored_encrypted(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session]
) -> None:
    message = outbox.queue("alice@example.com", *content())
    dbsession.commit()

    with session_factory() as session:
        row = session.execute(
            text("SELECT template, payload FROM outgoing_emails WHERE id = :id"),
            {"id": message.id},
        ).one()
    assert row.template == "password_reset"
    raw = bytes(row.payload)
    assert CANARY.encode() not in raw
    assert b"canary-code" not in raw
    # With the language it is to be written in (the recipient's, or the request's).
    assert json.loads(outbox_cipher(SECRET).decrypt(raw)) == {**content()[1], "locale": "en"}


def test_bodies_cannot_be_read_with_another_secret(outbox: Outbox) -> None:
    from cryptography.fernet import InvalidToken

    message = outbox.queue("alice@example.com", *content())

    assert message.payload is not None
    with pytest.raises(InvalidToken):
        outbox_cipher("another secret").decrypt(message.payload)


def test_queueing_a_message_wakes_the_sender(dbsession: Session, clock: FakeClock) -> None:
    # The request wakes the sending thread (after its commit) instead of it waiting
    # for its next poll.
    woken: list[str] = []
    outbox = Outbox(dbsession, outbox_cipher(SECRET), clock, on_queued=lambda: woken.append("x"))

    outbox.queue("alice@example.com", *content())
    outbox.queue("bob@example.com", *content(1))

    assert woken == ["x", "x"]


def test_queued_message_is_due_at_once(outbox: Outbox, clock: FakeClock) -> None:
    message = outbox.queue("alice@example.com", *content())

    assert message.next_attempt_at == clock.now()
    assert (message.attempts, message.sent_at, message.failed_at) == (0, None, None)


# Sending


def test_due_messages_are_rendered_sent_and_erased(
    outbox: Outbox,
    dbsession: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    ids = [outbox.queue(f"user{n}@example.com", *content(n)).id for n in range(3)]
    dbsession.commit()
    transport = FakeTransport()
    clock.advance(seconds=5)

    assert make_sender(session_factory, transport, clock).deliver_due() == 3

    assert [mail.recipients for mail in transport.sent] == [
        [f"user{n}@example.com"] for n in range(3)
    ]
    assert all(mail.sender == SENDER for mail in transport.sent)
    assert f"{CANARY}/0" in transport.sent[0].body
    assert f'href="{CANARY}/0"' in transport.sent[0].html
    assert transport.sent[0].subject == "Reset your password"
    for message_id in ids:
        message = stored(session_factory, message_id)
        assert message.sent_at == clock.now()
        assert message.payload is None
        assert message.subject == "Reset your password"
        assert message.last_error is None


def test_sent_message_is_not_sent_again(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    message_id = outbox.queue("alice@example.com", *content()).id
    dbsession.commit()
    transport = FakeTransport()
    sender = make_sender(session_factory, transport, clock)
    sender.deliver_due()
    sent = stored(session_factory, message_id)

    clock.advance(days=1)

    assert sender.deliver_due() == 0
    assert transport.calls == 1
    # Not even claimed again once its lease is long over.
    again = stored(session_factory, message_id)
    assert (again.attempts, again.sent_at, again.failed_at) == (1, sent.sent_at, None)


def test_message_queued_for_later_is_not_sent_early(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    message = outbox.queue("alice@example.com", *content())
    message.next_attempt_at = clock.now() + timedelta(minutes=1)
    dbsession.commit()
    transport = FakeTransport()

    assert make_sender(session_factory, transport, clock).deliver_due() == 0
    assert transport.calls == 0


def test_uncommitted_message_is_not_sent(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    outbox.queue("alice@example.com", *content())
    transport = FakeTransport()

    assert make_sender(session_factory, transport, clock).deliver_due() == 0
    dbsession.rollback()
    assert make_sender(session_factory, transport, clock).deliver_due() == 0
    assert transport.calls == 0


# Failures and retries


def test_failure_is_recorded_and_retried_with_exponential_backoff(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    message_id = outbox.queue("alice@example.com", *content()).id
    dbsession.commit()
    transport = FakeTransport(failures=3)
    sender = make_sender(session_factory, transport, clock)

    for attempt in (1, 2, 3):
        failed_at = clock.now()
        assert sender.deliver_due() == 0
        message = stored(session_factory, message_id)
        backoff = timedelta(seconds=RETRY_SECONDS * 2 ** (attempt - 1))
        assert message.attempts == attempt
        assert message.last_error is not None and "smtp server down" in message.last_error
        assert message.next_attempt_at == failed_at + backoff
        assert message.sent_at is None and message.failed_at is None
        assert message.payload is not None

        # Not due again a second before the backoff ends.
        clock.advance(seconds=backoff.total_seconds() - 1)
        assert sender.deliver_due() == 0
        assert transport.calls == attempt
        clock.advance(seconds=1)

    assert sender.deliver_due() == 1
    assert transport.calls == 4
    message = stored(session_factory, message_id)
    assert message.sent_at == clock.now()
    assert message.payload is None


def test_backoff_is_capped(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    message_id = outbox.queue("alice@example.com", *content()).id
    dbsession.commit()
    sender = make_sender(session_factory, FakeTransport(failures=100), clock)

    for _ in range(10):
        sender.deliver_due()
        clock.advance(hours=2)
    message = stored(session_factory, message_id)

    assert message.attempts == 10
    assert message.next_attempt_at - (clock.now() - timedelta(hours=2)) == timedelta(hours=1)


def test_message_is_given_up_after_the_retry_period_and_erased(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    message_id = outbox.queue("alice@example.com", *content()).id
    dbsession.commit()
    transport = FakeTransport(failures=100)
    sender = make_sender(session_factory, transport, clock, retry_for=timedelta(hours=4))

    for _ in range(3):
        assert sender.deliver_due() == 0
        clock.advance(hours=2)
    message = stored(session_factory, message_id)

    assert message.attempts == 3
    assert message.failed_at is not None
    assert message.sent_at is None
    assert message.payload is None
    assert message.last_error is not None
    clock.advance(days=30)
    assert sender.deliver_due() == 0
    assert transport.calls == 3
    # Not even claimed again: the record of the attempts is left as it was.
    again = stored(session_factory, message_id)
    assert (again.attempts, again.failed_at, again.last_error) == (
        3,
        message.failed_at,
        message.last_error,
    )


def test_one_failing_message_does_not_hold_up_the_others(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    ids = [outbox.queue(f"user{n}@example.com", *content(n)).id for n in range(3)]
    dbsession.commit()
    transport = FakeTransport(failures=1)

    assert make_sender(session_factory, transport, clock).deliver_due() == 2

    assert stored(session_factory, ids[0]).sent_at is None
    assert all(stored(session_factory, i).sent_at is not None for i in ids[1:])


def test_message_that_cannot_be_decrypted_is_a_failure_not_a_crash(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    message_id = outbox.queue("alice@example.com", *content()).id
    dbsession.commit()
    transport = FakeTransport()
    sender = OutboxSender(
        session_factory,
        outbox_cipher("a rotated secret"),
        MailTemplates(),
        transport,
        clock,
        SENDER,
        retry_for=timedelta(hours=48),
        retry_seconds=RETRY_SECONDS,
    )

    assert sender.deliver_due() == 0

    assert transport.calls == 0
    message = stored(session_factory, message_id)
    assert message.attempts == 1
    assert message.last_error == "Undeliverable: the message cannot be decrypted with this secret"


# Leases and concurrency


def test_claimed_but_unfinished_message_is_due_again_after_the_lease(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    message_id = outbox.queue("alice@example.com", *content()).id
    dbsession.commit()
    with pytest.raises(ProcessDied):
        make_sender(session_factory, DyingTransport(), clock).deliver_due()
    transport = FakeTransport()
    other_sender = make_sender(session_factory, transport, clock)

    clock.advance(seconds=LEASE_SECONDS - 1)
    assert other_sender.deliver_due() == 0
    assert transport.calls == 0

    clock.advance(seconds=1)
    assert other_sender.deliver_due() == 1
    assert [mail.recipients for mail in transport.sent] == [["alice@example.com"]]
    assert stored(session_factory, message_id).sent_at == clock.now()


def test_two_senders_in_parallel_send_each_message_exactly_once(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    _queue_resets(outbox, dbsession, 50)
    transport = FakeTransport(delay=0.002)
    senders = [make_sender(session_factory, transport, clock) for _ in range(2)]
    start = threading.Barrier(len(senders))
    results: list[int] = []
    errors: list[BaseException] = []

    def run(sender: OutboxSender) -> None:
        try:
            start.wait()
            results.append(sender.deliver_due())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    recipients = [mail.recipients[0] for mail in transport.sent]
    assert sorted(recipients) == sorted(f"user{n}@example.com" for n in range(50))
    assert transport.calls == 50
    assert sum(results) == 50
    # Both senders took part, so the test did exercise two of them racing.
    assert len(results) == 2 and min(results) > 0
    with session_factory() as session:
        rows = session.scalars(select(OutgoingEmail)).all()
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)


class ClaimRace:
    """Lets another sender take one message, with its own connection, right after
    `sender` has picked its candidate and before it claims it."""

    CANDIDATE_SELECT = "SELECT outgoing_emails.id, outgoing_emails.attempts"

    def __init__(self, sender: OutboxSender, other: OutboxSender, times: int) -> None:
        self.engine = sender.session_factory.kw["bind"]
        self.other = other
        self.times = times
        self.taken: list[int] = []

    def __enter__(self) -> ClaimRace:
        event.listen(self.engine, "after_cursor_execute", self._other_takes_one)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine, "after_cursor_execute", self._other_takes_one)

    def _other_takes_one(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(self.CANDIDATE_SELECT) or len(self.taken) == self.times:
            return
        # In a thread, so that if the other sender waited for this one's lock the test
        # would fail on the timeout below instead of hanging.
        thread = threading.Thread(target=lambda: self.taken.append(self.other.deliver_due(1)))
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the other sender waited for this one's claim"


@pytest.fixture
def other_sender(db_url: str, clock: FakeClock) -> Iterator[tuple[OutboxSender, FakeTransport]]:
    """A second sender with its own engine, as another worker process would have."""
    engine = get_engine({"sqlalchemy.url": db_url})
    transport = FakeTransport()
    yield make_sender(get_session_factory(engine), transport, clock), transport
    engine.dispose()


def test_a_sender_claiming_while_another_claims_takes_a_different_message(
    outbox: Outbox,
    dbsession: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    other_sender: tuple[OutboxSender, FakeTransport],
) -> None:
    # On PostgreSQL the first sender's SELECT locks only the message it picked and the
    # other skips to the next; on SQLite the other takes the same one first and the
    # first sender's claim fails, so it looks again.
    _queue_resets(outbox, dbsession, 2)
    transport = FakeTransport()
    sender = make_sender(session_factory, transport, clock)
    other, other_transport = other_sender

    with ClaimRace(sender, other, times=1) as race:
        assert sender.deliver_due() == 1

    assert race.taken == [1]
    recipients = [mail.recipients[0] for mail in transport.sent + other_transport.sent]
    assert sorted(recipients) == ["user0@example.com", "user1@example.com"]
    with session_factory() as session:
        rows = session.scalars(select(OutgoingEmail)).all()
    assert [(row.attempts, row.sent_at is not None) for row in rows] == [(1, True), (1, True)]


@pytest.mark.backends("sqlite")
def test_a_sender_that_loses_twenty_claims_in_a_row_leaves_the_rest_to_its_next_run(
    outbox: Outbox,
    dbsession: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    other_sender: tuple[OutboxSender, FakeTransport],
    db_backend: str,
) -> None:
    # Only SQLite: on PostgreSQL the other sender cannot take the message picked.
    _queue_resets(outbox, dbsession, 25)
    transport = FakeTransport()
    sender = make_sender(session_factory, transport, clock)
    other, other_transport = other_sender

    with ClaimRace(sender, other, times=25) as race:
        assert sender.deliver_due() == 0

    assert race.taken == [1] * 20
    assert transport.calls == 0
    assert [mail.recipients[0] for mail in other_transport.sent] == [
        f"user{n}@example.com" for n in range(20)
    ]
    with session_factory() as session:
        untouched = session.scalars(select(OutgoingEmail).where(OutgoingEmail.attempts == 0))
        assert [row.recipient for row in untouched] == [
            f"user{n}@example.com" for n in range(20, 25)
        ]
    # The next run sends them.
    assert sender.deliver_due() == 5


def test_messages_go_out_in_the_order_they_fell_due(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # The first message fails and is due again in 30 s; the second, queued 10 s
    # later, fell due before that, so it goes first.
    outbox.queue("user0@example.com", *content(0))
    dbsession.commit()
    transport = FakeTransport(failures=1)
    sender = make_sender(session_factory, transport, clock)
    assert sender.deliver_due() == 0
    clock.advance(seconds=10)
    outbox.queue("user1@example.com", *content(1))
    dbsession.commit()
    clock.advance(seconds=RETRY_SECONDS)

    assert sender.deliver_due() == 2
    assert [mail.recipients[0] for mail in transport.sent] == [
        "user1@example.com",
        "user0@example.com",
    ]


def test_messages_due_at_the_same_instant_go_out_in_the_order_they_were_queued(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    _queue_resets(outbox, dbsession, 3)
    # Moving the first message's due time away and back makes PostgreSQL store the row
    # anew, after the others in the table and in the index, so neither order gives it.
    first = dbsession.scalars(select(OutgoingEmail).order_by(OutgoingEmail.id)).first()
    assert first is not None
    due = first.next_attempt_at
    for moved in (due - timedelta(seconds=1), due):
        dbsession.execute(
            update(OutgoingEmail).where(OutgoingEmail.id == first.id).values(next_attempt_at=moved)
        )
    dbsession.commit()
    transport = FakeTransport()

    assert make_sender(session_factory, transport, clock).deliver_due() == 3
    assert [mail.recipients[0] for mail in transport.sent] == [
        f"user{n}@example.com" for n in range(3)
    ]


def test_a_message_queued_rendered_by_the_previous_version_is_still_sent(
    dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    cipher = outbox_cipher(SECRET)
    dbsession.add(
        OutgoingEmail(
            recipient="alice@example.com",
            subject="Reset your password",
            body_text=cipher.encrypt(f"Open {CANARY}/old".encode()),
            body_html=cipher.encrypt(f'<a href="{CANARY}/old">reset</a>'.encode()),
            created_at=clock.now(),
            attempts=0,
            next_attempt_at=clock.now(),
        )
    )
    dbsession.commit()
    transport = FakeTransport()
    sent_before = _emails_sent("rendered")

    assert make_sender(session_factory, transport, clock).deliver_due() == 1
    assert transport.sent[0].body == f"Open {CANARY}/old"
    # Counted under "rendered", as it has no email name.
    assert _emails_sent("rendered") == sent_before + 1
    with session_factory() as session:
        message = session.scalars(select(OutgoingEmail)).one()
    assert (message.body_text, message.body_html) == (None, None)


def _emails_sent(template: str) -> float:
    return REGISTRY.get_sample_value("accounts_emails_sent_total", {"template": template}) or 0.0


class DeletingTransport(FakeTransport):
    """Deletes the message's row (as someone might by hand) while it is being sent."""

    def __init__(self, session_factory: sessionmaker[Session], failures: int = 0) -> None:
        super().__init__(failures)
        self.session_factory = session_factory

    def send_immediately(self, message: Any) -> None:
        with self.session_factory() as session, session.begin():
            session.execute(delete(OutgoingEmail))
        super().send_immediately(message)


@pytest.mark.parametrize(("failures", "sent"), [(0, 1), (1, 0)])
def test_a_message_deleted_while_it_is_sent_is_counted_by_its_outcome_and_not_recorded(
    outbox: Outbox,
    dbsession: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    failures: int,
    sent: int,
) -> None:
    outbox.queue("alice@example.com", *content())
    dbsession.commit()
    transport = DeletingTransport(session_factory, failures)

    assert make_sender(session_factory, transport, clock).deliver_due() == sent
    assert len(transport.sent) == sent
    with session_factory() as session:
        assert session.scalars(select(OutgoingEmail)).all() == []


def test_a_message_that_cannot_be_rendered_is_given_up_with_the_reason(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # An email name this version does not know (queued by another one).
    message_id = outbox.queue("alice@example.com", "no_such_email", {}).id
    dbsession.commit()
    transport = FakeTransport()

    assert make_sender(session_factory, transport, clock).deliver_due() == 0

    assert transport.calls == 0
    message = stored(session_factory, message_id)
    assert message.failed_at is not None
    assert message.last_error == "Undeliverable: the message cannot be rendered: UnknownEmail"


def test_one_round_sends_at_most_a_hundred_messages(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    _queue_resets(outbox, dbsession, 101)
    sender = make_sender(session_factory, FakeTransport(), clock)

    assert sender.deliver_due() == 100
    assert sender.deliver_due() == 1


def test_a_sender_told_to_stop_says_how_many_it_sent_before(
    outbox: Outbox, dbsession: Session, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    _queue_resets(outbox, dbsession, 3)
    transport = FakeTransport()

    sent = make_sender(session_factory, transport, clock).deliver_due(
        should_stop=lambda: transport.calls >= 2
    )

    assert sent == 2
