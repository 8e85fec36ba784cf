"""What the account service writes down: where a code was asked from, which purpose it
serves, the event of each action, and the order the activity is shown in (each test runs
on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PURPOSE_INVITE, PURPOSE_RESET, Account, AccountEvent, OneTimeCode
from app.services.composition import Services
from app.services.kernel import audit as events
from app.services.kernel.errors import AccountNotFound, PasswordRejected
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, make_services
from tests.factories import EMAIL
from tests.support import IP, FakeClock, SignsIn


@pytest.fixture
def from_ip(dbsession: Session, clock: FakeClock, hasher: PasswordHasher) -> Services:
    return make_services(dbsession, clock, hasher, ip=IP)


def test_a_reset_code_records_the_address_it_was_asked_from(
    from_ip: Services, alice: Account, dbsession: Session
) -> None:
    assert from_ip.accounts.create_reset_code(EMAIL, "192.0.2.77") is not None

    code = dbsession.scalars(select(OneTimeCode)).one()
    assert (code.created_ip, code.purpose) == ("192.0.2.77", PURPOSE_RESET)


def test_an_emailed_link_records_the_address_it_was_asked_from(
    from_ip: Services, alice: Account, dbsession: Session
) -> None:
    from_ip.accounts.send_reset_link(alice)

    code = dbsession.scalars(select(OneTimeCode)).one()
    assert (code.account_id, code.created_ip, code.purpose) == (alice.id, IP, PURPOSE_RESET)


def test_an_invitation_link_is_an_invitation_from_the_requests_address(
    from_ip: Services, dbsession: Session, clock: FakeClock
) -> None:
    invited = from_ip.accounts.create_account("new@example.com", None)

    link = from_ip.accounts.create_invitation_link(invited)

    code = dbsession.scalars(select(OneTimeCode)).one()
    assert (code.created_ip, code.purpose) == (IP, PURPOSE_INVITE)
    assert code.expires_at - clock.now() == timedelta(days=7)
    assert link.startswith("https://accounts.example.test/account/reset_password/")
    assert from_ip.accounts.check_reset_code(link.rsplit("/", 1)[1]).account_id == invited.id


def test_registering_records_the_event_on_the_new_account(
    from_ip: Services, dbsession: Session
) -> None:
    account = from_ip.accounts.register("new@example.com", STRONG_PASSWORD)

    [event] = dbsession.scalars(select(AccountEvent)).all()
    assert (event.kind, event.account_id, event.ip) == (events.REGISTERED, account.id, IP)


def test_setting_a_password_stores_a_new_hash_under_the_policy(
    from_ip: Services, alice: Account, clock: FakeClock, signs_in: SignsIn
) -> None:
    clock.advance(hours=1)

    account = from_ip.accounts.set_password(OTHER_PASSWORD, alice.id)

    assert account is alice
    assert alice.password_changed_at == clock.now()
    assert signs_in(EMAIL, OTHER_PASSWORD) and not signs_in(EMAIL, STRONG_PASSWORD)
    with pytest.raises(PasswordRejected, match="Do not use your email address"):
        from_ip.accounts.set_password(EMAIL, alice.id)
    with pytest.raises(AccountNotFound):
        from_ip.accounts.set_password(OTHER_PASSWORD, alice.id + 1)


def test_an_accounts_activity_is_newest_first_by_time_then_by_order_of_recording(
    from_ip: Services, alice: Account, clock: FakeClock
) -> None:
    audit = from_ip.audit
    first = audit.record(events.SIGN_IN, alice.id)
    clock.advance(minutes=-5)  # a clock that stepped back: the time still decides
    earlier = audit.record(events.SIGN_OUT, alice.id)
    clock.advance(minutes=10)
    same_time_a = audit.record(events.SIGN_IN, alice.id)
    same_time_b = audit.record(events.SIGN_OUT, alice.id)
    audit.record(events.SIGN_IN, None)

    page = audit.for_account(alice.id, per_page=3)

    assert [e.id for e in page.items] == [same_time_b.id, same_time_a.id, first.id]
    assert (page.total, page.pages) == (4, 2)
    assert [e.id for e in audit.for_account(alice.id, page=2, per_page=3).items] == [earlier.id]
