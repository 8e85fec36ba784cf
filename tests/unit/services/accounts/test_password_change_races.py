"""docs/security.md 48: a password change is conditional on the hash it checked and on
the session asking being live, so it cannot silently undo a reset or outlive a
revocation that happened while it was hashing (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, LoginSession
from app.services.kernel.errors import PasswordChangedMeanwhile
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, THIRD_PASSWORD, make_services
from tests.factories import EMAIL
from tests.support import FakeClock, SignsIn
from tests.support.hashers import HasherWithAGap

ATTACKERS_PASSWORD = "attacker chosen quartz meadow"


@pytest.fixture
def alice_with_a_session(services, dbsession: Session) -> tuple[Account, int]:
    account = services.accounts.create_account(EMAIL, STRONG_PASSWORD)
    _, login_session = services.login_sessions.start(account, None, "attacker's browser")
    dbsession.commit()
    return account, login_session.id


def test_a_change_racing_a_reset_fails_and_the_reset_stands(
    alice_with_a_session,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
    signs_in: SignsIn,
) -> None:
    account, session_id = alice_with_a_session

    def owner_resets() -> None:
        owner = make_services(other_dbsession, clock, hasher).accounts
        code = owner.create_reset_code(EMAIL, None)
        assert code is not None
        owner.reset_password(code, OTHER_PASSWORD)
        other_dbsession.commit()

    attacker = make_services(dbsession, clock, HasherWithAGap(before_hash=owner_resets)).accounts
    with pytest.raises(PasswordChangedMeanwhile):
        attacker.change_password(account, STRONG_PASSWORD, ATTACKERS_PASSWORD, session_id)
    dbsession.rollback()

    assert signs_in(EMAIL, OTHER_PASSWORD)
    assert not signs_in(EMAIL, ATTACKERS_PASSWORD)


def test_a_change_from_a_session_revoked_meanwhile_fails(
    alice_with_a_session,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
    signs_in: SignsIn,
) -> None:
    account, session_id = alice_with_a_session

    def owner_signs_the_device_out() -> None:
        owner = make_services(other_dbsession, clock, hasher)
        assert owner.login_sessions.revoke_by_id(account.id, session_id)
        other_dbsession.commit()

    attacker = make_services(
        dbsession, clock, HasherWithAGap(before_hash=owner_signs_the_device_out)
    )
    with pytest.raises(PasswordChangedMeanwhile):
        attacker.accounts.change_password(account, STRONG_PASSWORD, ATTACKERS_PASSWORD, session_id)
    dbsession.rollback()

    assert signs_in(EMAIL, STRONG_PASSWORD)
    assert not signs_in(EMAIL, ATTACKERS_PASSWORD)


def test_a_change_waits_for_a_revocation_in_progress_and_then_fails(
    alice_with_a_session, dbsession: Session, db_url: str, clock: FakeClock, hasher, signs_in
) -> None:
    """The revocation has written but not committed when the change reaches its UPDATE:
    the change must wait for it and then fail, not go ahead on what it read before."""
    from app.models import get_engine, get_session_factory

    account, session_id = alice_with_a_session
    engine = get_engine({"sqlalchemy.url": db_url})
    revoking = get_session_factory(engine)()
    result: list[BaseException | None] = []
    try:
        owner = make_services(revoking, clock, hasher)
        assert owner.login_sessions.revoke_by_id(account.id, session_id)  # not committed

        def change() -> None:
            try:
                attacker = make_services(dbsession, clock, hasher).accounts
                attacker.change_password(account, STRONG_PASSWORD, THIRD_PASSWORD, session_id)
                dbsession.commit()
                result.append(None)
            except BaseException as exc:  # noqa: BLE001 - checked below
                dbsession.rollback()
                result.append(exc)

        thread = threading.Thread(target=change)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "the change did not wait for the revocation in progress"
        revoking.commit()
        thread.join(30)
    finally:
        revoking.close()
        engine.dispose()

    assert len(result) == 1 and isinstance(result[0], PasswordChangedMeanwhile)
    assert signs_in(EMAIL, STRONG_PASSWORD)
    with Session(bind=dbsession.get_bind()) as check:
        revoked = check.scalar(select(LoginSession.revoked_at).where(LoginSession.id == session_id))
    assert revoked is not None
