"""A flood of the same event is one line of activity: within the window, a repeat of
the same kind for the same account (or, without an account, from the same address)
is counted on the first event; anything else is an event of its own."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AccountEvent
from app.services.accounts.accounts import AccountService
from app.services.kernel import audit as events
from app.services.kernel.audit import AuditLog, RequestOrigin
from tests.conftest import STRONG_PASSWORD
from tests.support import FakeClock
from tests.support.records import account_events

WINDOW = timedelta(minutes=10)
BLOCKED = events.SIGN_IN_BLOCKED


def _accounts_and_details(dbsession: Session) -> list[tuple[int | None, dict]]:
    return [(row.account_id, row.details) for row in account_events(dbsession)]


def _two_accounts(account_service: AccountService, dbsession: Session) -> tuple[int, int]:
    alice = account_service.create_account("alice@example.com", STRONG_PASSWORD)
    bob = account_service.create_account("bob@example.com", STRONG_PASSWORD)
    dbsession.flush()
    dbsession.execute(AccountEvent.__table__.delete())  # the sign-up events
    return alice.id, bob.id


def test_a_repeat_for_the_same_account_is_counted_on_the_first_event(
    account_service: AccountService, dbsession: Session, clock: FakeClock
) -> None:
    alice, _ = _two_accounts(account_service, dbsession)
    audit = AuditLog(dbsession, clock)

    first = audit.record_once_per_window(BLOCKED, alice, WINDOW)
    clock.advance(minutes=5)
    again = audit.record_once_per_window(BLOCKED, alice, WINDOW)

    assert again is first
    assert _accounts_and_details(dbsession) == [(alice, {"repeats": 1})]


def test_the_same_event_for_another_account_is_its_own(
    account_service: AccountService, dbsession: Session, clock: FakeClock
) -> None:
    alice, bob = _two_accounts(account_service, dbsession)
    audit = AuditLog(dbsession, clock)

    audit.record_once_per_window(BLOCKED, alice, WINDOW)
    audit.record_once_per_window(BLOCKED, bob, WINDOW)
    audit.record_once_per_window(BLOCKED, None, WINDOW)

    assert _accounts_and_details(dbsession) == [(alice, {}), (bob, {}), (None, {})]


def test_without_an_account_only_a_repeat_from_the_same_address_is_counted(
    dbsession: Session, clock: FakeClock
) -> None:
    here = AuditLog(dbsession, clock, RequestOrigin(ip="192.0.2.1"))
    there = AuditLog(dbsession, clock, RequestOrigin(ip="198.51.100.7"))

    here.record_once_per_window(BLOCKED, None, WINDOW)
    here.record_once_per_window(BLOCKED, None, WINDOW)
    there.record_once_per_window(BLOCKED, None, WINDOW)

    assert _accounts_and_details(dbsession) == [(None, {"repeats": 1}), (None, {})]


def test_the_window_includes_its_last_instant_and_not_one_after(
    account_service: AccountService, dbsession: Session, clock: FakeClock
) -> None:
    alice, _ = _two_accounts(account_service, dbsession)
    audit = AuditLog(dbsession, clock)

    audit.record_once_per_window(BLOCKED, alice, WINDOW)
    clock.advance(seconds=WINDOW.total_seconds())
    audit.record_once_per_window(BLOCKED, alice, WINDOW)  # exactly the window later
    clock.advance(microseconds=1)
    audit.record_once_per_window(BLOCKED, alice, WINDOW)  # just past it

    assert _accounts_and_details(dbsession) == [(alice, {"repeats": 1}), (alice, {})]


def test_a_repeat_is_still_counted_in_the_metrics(dbsession: Session, clock: FakeClock) -> None:
    audit = AuditLog(dbsession, clock)
    labels = {"result": "rate_limited", "reason": ""}
    before = REGISTRY.get_sample_value("accounts_sign_ins_total", labels) or 0.0

    audit.record_once_per_window(BLOCKED, None, WINDOW)
    audit.record_once_per_window(BLOCKED, None, WINDOW)

    assert REGISTRY.get_sample_value("accounts_sign_ins_total", labels) == before + 2
    assert _accounts_and_details(dbsession) == [(None, {"repeats": 1})]


def test_a_repeat_is_counted_on_the_latest_such_event(
    account_service: AccountService, dbsession: Session, clock: FakeClock
) -> None:
    # A used code is also recorded on its own when a spend loses a race.
    alice, _ = _two_accounts(account_service, dbsession)
    audit = AuditLog(dbsession, clock)

    audit.record_once_per_window(events.CODE_USED, alice, WINDOW)
    clock.advance(minutes=1)
    audit.record(events.CODE_USED, alice)
    clock.advance(minutes=1)
    audit.record_once_per_window(events.CODE_USED, alice, WINDOW)

    assert _accounts_and_details(dbsession) == [(alice, {}), (alice, {"repeats": 1})]


def test_an_events_user_agent_is_kept_printable_and_cut_to_its_column(
    dbsession: Session, clock: FakeClock
) -> None:
    # Header values can carry control characters (NUL among them) and any length.
    origin = RequestOrigin(ip="192.0.2.1", user_agent="Mozilla\x00/5.0\r\n " + "x" * 600)
    event = AuditLog(dbsession, clock, origin).record(events.CODE_USED)
    dbsession.commit()

    stored = dbsession.scalars(select(AccountEvent).where(AccountEvent.id == event.id)).one()
    assert stored.user_agent == ("Mozilla/5.0 " + "x" * 600)[:512]
    assert stored.ip == "192.0.2.1"
