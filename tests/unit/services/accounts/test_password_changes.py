"""Changing a password, knowing the current one: what is recorded and sent for each
outcome, and the session check that makes a change from a signed-out device fail (each
test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.models import Account
from app.services.kernel import audit as events
from app.services.kernel.errors import (
    PasswordChangedMeanwhile,
    PasswordRejected,
    WrongCurrentPassword,
)
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, make_services
from tests.factories import EMAIL
from tests.support import IP, FakeClock, SignsIn
from tests.support.hashers import HasherWithAGap
from tests.support.outbox import body_text, emails_to
from tests.support.records import recorded


def test_a_change_is_recorded_stamped_and_notified_from_the_requests_address(
    alice: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    services = make_services(dbsession, clock, hasher, ip=IP)
    _, current = services.login_sessions.start(alice, ip=IP, user_agent=None)
    clock.advance(hours=3)

    services.accounts.change_password(alice, STRONG_PASSWORD, OTHER_PASSWORD, current.id)

    dbsession.commit()
    dbsession.expire_all()
    assert alice.password_changed_at == clock.now()
    assert recorded(dbsession) == [(events.PASSWORD_CHANGED, alice.id, {})]
    [notice] = emails_to(dbsession, EMAIL)
    assert notice.template == "password_changed"
    assert f"from {IP}." in " ".join(body_text(notice).split())


def test_a_wrong_current_password_is_recorded_against_the_account(
    alice: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    services = make_services(dbsession, clock, hasher)

    with pytest.raises(WrongCurrentPassword):
        services.accounts.change_password(alice, "not the password", OTHER_PASSWORD, None)

    assert recorded(dbsession) == [(events.PASSWORD_CHANGE_FAILED, alice.id, {})]


def test_the_new_password_may_not_be_the_address(
    alice: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    services = make_services(dbsession, clock, hasher)

    with pytest.raises(PasswordRejected, match="Do not use your email address"):
        services.accounts.change_password(alice, STRONG_PASSWORD, EMAIL.upper(), None)


def test_a_change_from_a_signed_out_device_fails_while_the_owners_devices_stay_signed_in(
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
    signs_in: SignsIn,
) -> None:
    services = make_services(dbsession, clock, hasher)
    _, stolen = services.login_sessions.start(alice, None, "attacker's browser")
    services.login_sessions.start(alice, None, "owner's browser")
    dbsession.commit()
    stolen_id = stolen.id

    def owner_signs_the_device_out() -> None:
        owner = make_services(other_dbsession, clock, hasher)
        assert owner.login_sessions.revoke_by_id(alice.id, stolen_id)
        other_dbsession.commit()

    attacker = make_services(
        dbsession, clock, HasherWithAGap(before_hash=owner_signs_the_device_out)
    )
    with pytest.raises(PasswordChangedMeanwhile):
        attacker.accounts.change_password(alice, STRONG_PASSWORD, OTHER_PASSWORD, stolen_id)

    assert recorded(dbsession)[-1] == (
        events.PASSWORD_CHANGE_FAILED,
        alice.id,
        {"reason": "changed_meanwhile"},
    )
    dbsession.rollback()
    assert signs_in(EMAIL, STRONG_PASSWORD)
