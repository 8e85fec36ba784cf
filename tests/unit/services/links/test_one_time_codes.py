"""One-time codes: made, checked, spent once (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session

from app.models import PURPOSE_INVITE, Account, OneTimeCode
from app.services.accounts.accounts import AccountService
from app.services.kernel.codes import digest
from app.services.kernel.errors import (
    CodeExpired,
    CodeInvalid,
    CodeUnknown,
    CodeUsed,
    PasswordRejected,
)
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, THIRD_PASSWORD, make_services
from tests.factories import EMAIL
from tests.support import IP, LINK_PATTERN, FakeClock, SignsIn
from tests.support.hashers import HasherWithAGap
from tests.support.outbox import body_text, emails_to
from tests.support.records import count


def test_no_code_for_an_unknown_email(account_service: AccountService, dbsession: Session) -> None:
    assert account_service.create_reset_code("nobody@example.com", IP) is None
    assert count(dbsession, OneTimeCode) == 0


def test_only_the_sha256_of_a_code_is_stored(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None

    reset = dbsession.scalars(select(OneTimeCode)).one()
    assert reset.code_hash == digest(code)
    for column in OneTimeCode.__table__.columns:
        assert code not in str(getattr(reset, column.key))


def test_emailed_code_appears_nowhere_in_the_database(
    account_service: AccountService, alice: Account, dbsession: Session, db_url: str
) -> None:
    assert account_service.request_password_reset(EMAIL)
    dbsession.commit()
    (message,) = emails_to(dbsession, EMAIL)
    match = LINK_PATTERN.search(body_text(message))
    assert match is not None
    code = match.group(1)

    tables = MetaData()
    tables.reflect(bind=dbsession.connection())
    for table in tables.sorted_tables:
        for row in dbsession.execute(table.select()):
            for value in row:
                as_bytes = value if isinstance(value, bytes) else str(value).encode()
                assert code.encode() not in as_bytes, table.name
    if db_url.startswith("sqlite:///"):
        # Also the raw file and its write-ahead log, free pages included.
        database = Path(db_url.removeprefix("sqlite:///"))
        for path in [database, *database.parent.glob(database.name + "-*")]:
            assert code.encode() not in path.read_bytes(), path.name


def test_code_works_one_second_before_expiry(
    account_service: AccountService, alice: Account, clock: FakeClock, signs_in: SignsIn
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    clock.advance(minutes=59, seconds=59)

    assert account_service.check_reset_code(code).account_id == alice.id
    account_service.reset_password(code, OTHER_PASSWORD)
    assert signs_in(EMAIL, OTHER_PASSWORD)


def test_code_is_refused_at_expiry_plus_one_second(
    account_service: AccountService, alice: Account, clock: FakeClock, signs_in: SignsIn
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    clock.advance(minutes=60, seconds=1)

    with pytest.raises(CodeExpired):
        account_service.check_reset_code(code)
    with pytest.raises(CodeExpired):
        account_service.use_reset_code(code, IP)
    with pytest.raises(CodeExpired):
        account_service.reset_password(code, OTHER_PASSWORD)
    assert signs_in(EMAIL, STRONG_PASSWORD)
    assert not signs_in(EMAIL, OTHER_PASSWORD)


def test_code_is_refused_at_the_exact_expiry_time(
    account_service: AccountService, alice: Account, clock: FakeClock
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    clock.advance(minutes=60)

    with pytest.raises(CodeExpired):
        account_service.check_reset_code(code)


def test_invitation_code_lives_seven_days(
    account_service: AccountService, clock: FakeClock
) -> None:
    invited = account_service.create_account(EMAIL, None)
    first = account_service.create_reset_code(EMAIL, IP, purpose=PURPOSE_INVITE)
    second = account_service.create_reset_code(EMAIL, IP, purpose=PURPOSE_INVITE)
    assert first is not None and second is not None

    clock.advance(days=7, seconds=-1)
    assert account_service.check_reset_code(first).account_id == invited.id
    clock.advance(seconds=2)
    with pytest.raises(CodeExpired):
        account_service.check_reset_code(second)


def test_second_use_of_a_code_is_refused(
    account_service: AccountService, alice: Account, clock: FakeClock
) -> None:
    code = account_service.create_reset_code(EMAIL, "192.0.2.1")
    assert code is not None
    clock.advance(minutes=5)

    reset = account_service.use_reset_code(code, IP)

    assert reset.used_at == clock.now()
    assert reset.used_ip == IP
    clock.advance(minutes=1)
    with pytest.raises(CodeUsed):
        account_service.use_reset_code(code, "192.0.2.99")
    with pytest.raises(CodeUsed):
        account_service.check_reset_code(code)
    assert reset.used_ip == IP


def test_second_reset_with_the_same_code_is_refused(
    account_service: AccountService, alice: Account, signs_in: SignsIn
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    account_service.reset_password(code, OTHER_PASSWORD)

    with pytest.raises(CodeUsed):
        account_service.reset_password(code, THIRD_PASSWORD)
    assert signs_in(EMAIL, OTHER_PASSWORD)
    assert not signs_in(EMAIL, THIRD_PASSWORD)


def test_code_spent_by_another_request_during_our_reset_is_refused(
    account_service: AccountService,
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
    signs_in: SignsIn,
) -> None:
    # Two requests with one code: ours has checked the code and is hashing the new
    # password when the other one spends the code and commits. The conditional UPDATE,
    # not the earlier check, must decide, and the other request's password must stay.
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    dbsession.commit()

    def competing_request() -> None:
        other_service = make_services(other_dbsession, clock, hasher, ip="192.0.2.2").accounts
        other_service.reset_password(code, OTHER_PASSWORD)
        other_dbsession.commit()

    service = make_services(
        dbsession, clock, HasherWithAGap(before_hash=competing_request)
    ).accounts
    with pytest.raises(CodeUsed):
        service.reset_password(code, THIRD_PASSWORD)
    dbsession.rollback()

    assert signs_in(EMAIL, OTHER_PASSWORD)
    assert not signs_in(EMAIL, THIRD_PASSWORD)
    assert dbsession.scalars(select(OneTimeCode.used_ip)).one() == "192.0.2.2"


def test_use_is_recorded_in_the_database(
    account_service: AccountService, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    account_service.use_reset_code(code, IP)
    dbsession.commit()
    dbsession.expire_all()

    stored = dbsession.scalars(select(OneTimeCode)).one()
    assert (stored.used_at, stored.used_ip) == (clock.now(), IP)


def test_altered_code_is_unknown(
    account_service: AccountService, alice: Account, signs_in: SignsIn
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    altered = {
        "empty": "",
        "truncated": code[:-1],
        "case-changed": code.swapcase(),
        "trailing newline": code + "\n",
        "NUL byte": code + "\x00",
        "1 MB": code * 30_000,
    }

    for case, wrong in altered.items():
        with pytest.raises(CodeUnknown):
            account_service.check_reset_code(wrong)
        with pytest.raises(CodeUnknown):
            account_service.reset_password(wrong, OTHER_PASSWORD)
        assert signs_in(EMAIL, STRONG_PASSWORD), case
    assert account_service.check_reset_code(code).used_at is None


def test_code_of_a_disabled_account_is_refused(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    alice.is_disabled = True
    dbsession.flush()

    with pytest.raises(CodeInvalid):
        account_service.reset_password(code, OTHER_PASSWORD)


def test_weak_password_at_reset_keeps_the_code(
    account_service: AccountService, alice: Account, signs_in: SignsIn
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None

    with pytest.raises(PasswordRejected):
        account_service.reset_password(code, "password1234")

    assert account_service.check_reset_code(code).used_at is None
    assert signs_in(EMAIL, STRONG_PASSWORD)
