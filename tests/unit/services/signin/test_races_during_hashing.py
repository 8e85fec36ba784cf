"""Guards that only a race exercises: something changes in the database while a request
is busy hashing or checking a password (each test runs on SQLite and PostgreSQL).

Each test lets the other party act at the one moment that matters, from inside the hash
computation, on a second connection that commits before the first request goes on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from passlib.hash import pbkdf2_sha256
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Account, OneTimeCode, OutgoingEmail
from app.services.kernel import audit as events
from app.services.kernel.errors import CodeExpired, SignInFailed
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, make_services
from tests.factories import EMAIL
from tests.support import IP, FakeClock, SignsIn
from tests.support.hashers import HasherWithAGap, Meanwhile
from tests.support.records import account_events


def _committed_elsewhere(session: Session, change: Callable[[Session], None]) -> Meanwhile:
    def act() -> None:
        change(session)
        session.commit()

    return act


@pytest.mark.parametrize("hashing_seconds", [1, 2], ids=["to the expiry", "past it"])
def test_a_code_that_expires_while_the_new_password_is_hashed_is_refused(
    alice: Account,
    dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
    signs_in: SignsIn,
    hashing_seconds: int,
) -> None:
    # The code is checked a second before it expires; hashing the new password takes
    # one second (to the very second of expiry) or two. The spending UPDATE, not the
    # earlier check, has the last word.
    code = make_services(dbsession, clock, hasher).accounts.create_reset_code(EMAIL, IP)
    assert code is not None
    dbsession.commit()
    clock.advance(minutes=59, seconds=59)

    slow = HasherWithAGap(before_hash=lambda: clock.advance(seconds=hashing_seconds))
    services = make_services(dbsession, clock, slow, ip=IP)
    with pytest.raises(CodeExpired):
        services.accounts.reset_password(code, OTHER_PASSWORD)

    assert dbsession.scalars(select(OneTimeCode.used_at)).one() is None
    [expired] = account_events(dbsession, events.CODE_EXPIRED)
    assert (expired.account_id, expired.details) == (alice.id, {"purpose": "reset"})
    dbsession.rollback()
    assert signs_in(EMAIL, STRONG_PASSWORD)
    assert not signs_in(EMAIL, OTHER_PASSWORD)


def test_an_account_disabled_while_a_sign_in_checks_its_password_gets_no_session(
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
) -> None:
    dbsession.commit()
    disable = _committed_elsewhere(
        other_dbsession,
        lambda s: s.execute(update(Account).values(is_disabled=True)),
    )
    services = make_services(dbsession, clock, HasherWithAGap(before_verify=disable))

    with pytest.raises(SignInFailed):
        services.signin.with_password(EMAIL, STRONG_PASSWORD)

    [failed] = account_events(dbsession, events.SIGN_IN_FAILED)
    assert (failed.account_id, failed.details) == (alice.id, {"reason": "password_changed"})
    assert account_events(dbsession, events.SIGN_IN) == []
    dbsession.commit()
    dbsession.expire_all()
    assert (alice.login_count, alice.last_login_at) == (0, None)


def test_a_password_changed_while_a_sign_in_checks_the_old_one_gets_no_session(
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
) -> None:
    dbsession.commit()
    new_hash = hasher.hash(OTHER_PASSWORD)
    change = _committed_elsewhere(
        other_dbsession,
        lambda s: s.execute(update(Account).values(password_hash=new_hash)),
    )
    services = make_services(dbsession, clock, HasherWithAGap(before_verify=change))

    with pytest.raises(SignInFailed):
        services.signin.with_password(EMAIL, STRONG_PASSWORD)

    dbsession.commit()
    dbsession.expire_all()
    assert alice.login_count == 0
    assert alice.password_hash == new_hash


def test_an_old_hash_upgraded_at_sign_in_never_undoes_a_reset_made_meanwhile(
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
) -> None:
    # The stored pbkdf2 hash is right, so the sign-in computes an argon2id upgrade; a
    # reset commits a new password before the upgrade is written. The upgrade must not
    # put the old password back, and the sign-in must not start a session.
    alice.password_hash = pbkdf2_sha256.hash(STRONG_PASSWORD)
    dbsession.commit()
    reset_hash = hasher.hash(OTHER_PASSWORD)
    reset = _committed_elsewhere(
        other_dbsession,
        lambda s: s.execute(update(Account).values(password_hash=reset_hash)),
    )
    services = make_services(dbsession, clock, HasherWithAGap(before_verify=reset))

    with pytest.raises(SignInFailed):
        services.signin.with_password(EMAIL, STRONG_PASSWORD)

    [failed] = account_events(dbsession, events.SIGN_IN_FAILED)
    assert (failed.account_id, failed.details) == (alice.id, {"reason": "password_changed"})
    dbsession.commit()
    dbsession.expire_all()
    assert alice.password_hash == reset_hash
    assert alice.login_count == 0


def test_upgrading_one_accounts_old_hash_leaves_another_account_with_the_same_hash_alone(
    alice: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    # Two accounts imported with the very same stored hash string.
    shared = pbkdf2_sha256.hash(STRONG_PASSWORD)
    bob = make_services(dbsession, clock, hasher).accounts.create_account("bob@example.com", None)
    alice.password_hash = bob.password_hash = shared
    dbsession.commit()

    services = make_services(dbsession, clock, hasher)
    assert services.signin.with_password(EMAIL, STRONG_PASSWORD).account is alice
    dbsession.commit()
    dbsession.expire_all()

    assert alice.password_hash is not None and alice.password_hash.startswith("$argon2id$")
    assert bob.password_hash == shared


def test_an_address_changed_while_the_new_password_is_hashed_gets_the_notice(
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
) -> None:
    # The owner confirms a new address in another tab while a password change hashes
    # the new password: the "password changed" notice goes to the address the account
    # has now, not to the one it had when the change began.
    dbsession.commit()
    moved = "alice.new@example.com"
    move = _committed_elsewhere(
        other_dbsession, lambda s: s.execute(update(Account).values(email=moved))
    )
    services = make_services(dbsession, clock, HasherWithAGap(before_hash=move), ip=IP)

    services.accounts.change_password(alice, STRONG_PASSWORD, OTHER_PASSWORD, None)

    notices = dbsession.scalars(
        select(OutgoingEmail.recipient).where(OutgoingEmail.template == "password_changed")
    ).all()
    assert notices == [moved]
