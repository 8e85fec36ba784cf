"""AccountService on a real database (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from passlib.hash import pbkdf2_sha256
from sqlalchemy import MetaData, func, select
from sqlalchemy.orm import Session

from app.models import (
    PURPOSE_INVITE,
    Account,
    LoginSession,
    OutgoingEmail,
    PasswordReset,
    get_engine,
    get_session_factory,
)
from app.services.accounts import (
    AccountError,
    AccountService,
    EmailTaken,
    ResetCodeExpired,
    ResetCodeInvalid,
    ResetCodeUnknown,
    ResetCodeUsed,
)
from app.services.codes import digest
from app.services.email_addresses import InvalidEmail
from app.services.outbox import outbox_cipher
from app.services.passwords import (
    PasswordHasher,
    PasswordRejected,
    make_crypt_context,
)
from tests.conftest import (
    OTHER_PASSWORD,
    SECRET,
    STRONG_PASSWORD,
    make_account_service,
)
from tests.support import LINK_PATTERN, FakeClock

EMAIL = "alice@example.com"
IP = "198.51.100.23"
THIRD_PASSWORD = "violet harbor mosaic drifting"


class CountingContext:
    """A CryptContext stand-in that counts every password verification it performs."""

    def __init__(self) -> None:
        self._context = make_crypt_context()
        self.verifications = 0

    def hash(self, secret: str) -> str:
        return self._context.hash(secret)

    def verify(self, secret: str, stored: str) -> bool:
        self.verifications += 1
        return self._context.verify(secret, stored)

    def verify_and_update(self, secret: str, stored: str) -> tuple[bool, str | None]:
        self.verifications += 1
        return self._context.verify_and_update(secret, stored)


class InterruptedHasher(PasswordHasher):
    """Runs `meanwhile` once, at the start of the first hash: the moment a reset has
    checked its code but not yet spent it."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        super().__init__()
        self.meanwhile: Callable[[], None] | None = meanwhile

    def hash(self, password: str) -> str:
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return super().hash(password)


@pytest.fixture
def other_dbsession(db_url: str) -> Iterator[Session]:
    """A second connection to the same database, as a second request would have."""
    engine = get_engine({"sqlalchemy.url": db_url})
    session = get_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def alice(account_service: AccountService) -> Account:
    return account_service.create_account(EMAIL, STRONG_PASSWORD)


def signs_in(account_service: AccountService, email: str, password: str) -> bool:
    return account_service.get_authenticated_account(email, password) is not None


def emails_to(dbsession: Session, recipient: str) -> list[OutgoingEmail]:
    return list(
        dbsession.scalars(
            select(OutgoingEmail)
            .where(OutgoingEmail.recipient == recipient)
            .order_by(OutgoingEmail.id)
        )
    )


def body_text(message: OutgoingEmail) -> str:
    assert message.body_text is not None
    return outbox_cipher(SECRET).decrypt(message.body_text).decode("utf-8")


def count(dbsession: Session, model: Any) -> int:
    return dbsession.scalar(select(func.count()).select_from(model))


# Accounts


def test_email_is_stored_lower_cased_and_trimmed(
    account_service: AccountService, dbsession: Session
) -> None:
    account = account_service.create_account("  Alice@Example.COM ", STRONG_PASSWORD)
    dbsession.commit()
    dbsession.expire_all()

    assert account.email == EMAIL
    assert dbsession.scalars(select(Account.email)).all() == [EMAIL]


def test_new_password_is_stored_as_argon2id_only(alice: Account, dbsession: Session) -> None:
    dbsession.flush()

    assert alice.password_hash is not None
    assert alice.password_hash.startswith("$argon2id$")
    assert STRONG_PASSWORD not in alice.password_hash
    assert alice.password_changed_at is not None


def test_email_differing_only_in_case_or_spaces_is_taken(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    for variant in ("Alice@Example.com", " ALICE@EXAMPLE.COM", "alice@example.com\t"):
        with pytest.raises(EmailTaken):
            account_service.create_account(variant, OTHER_PASSWORD)

    assert count(dbsession, Account) == 1


def test_combining_and_precomposed_accent_are_the_same_address(
    account_service: AccountService,
) -> None:
    account_service.create_account("jos\u00e9@example.com", STRONG_PASSWORD)

    with pytest.raises(EmailTaken):
        account_service.create_account("jose\u0301@example.com", OTHER_PASSWORD)


def test_invalid_email_creates_no_account(
    account_service: AccountService, dbsession: Session
) -> None:
    with pytest.raises(InvalidEmail):
        account_service.create_account("v@x.com\r\nBcc: a@evil.test", STRONG_PASSWORD)

    assert count(dbsession, Account) == 0


def test_weak_password_creates_no_account(
    account_service: AccountService, dbsession: Session
) -> None:
    with pytest.raises(PasswordRejected):
        account_service.create_account(EMAIL, "password1234")

    assert count(dbsession, Account) == 0


# Sign-in


def test_right_password_signs_in(account_service: AccountService, alice: Account) -> None:
    assert account_service.get_authenticated_account(" Alice@Example.com", STRONG_PASSWORD) is alice


def test_wrong_password_does_not_sign_in(account_service: AccountService, alice: Account) -> None:
    assert account_service.get_authenticated_account(EMAIL, OTHER_PASSWORD) is None


def test_unknown_email_does_not_sign_in(account_service: AccountService, alice: Account) -> None:
    assert account_service.get_authenticated_account("bob@example.com", STRONG_PASSWORD) is None


def test_disabled_account_does_not_sign_in(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    alice.is_disabled = True
    dbsession.flush()

    assert account_service.get_authenticated_account(EMAIL, STRONG_PASSWORD) is None


def test_invited_account_without_password_does_not_sign_in(
    account_service: AccountService,
) -> None:
    account_service.create_account(EMAIL, None)

    assert account_service.get_authenticated_account(EMAIL, "") is None
    assert account_service.get_authenticated_account(EMAIL, STRONG_PASSWORD) is None


def test_every_sign_in_costs_exactly_one_hash_verification(
    dbsession: Session, clock: FakeClock
) -> None:
    # Unknown emails and accounts without a password get a dummy verification, so that
    # timing does not reveal who has an account.
    context = CountingContext()
    service = make_account_service(dbsession, clock, PasswordHasher(context=context))  # type: ignore[arg-type]
    service.create_account(EMAIL, STRONG_PASSWORD)
    service.create_account("invited@example.com", None)
    service.create_account("disabled@example.com", STRONG_PASSWORD).is_disabled = True
    dbsession.flush()
    attempts = {
        "right password": (EMAIL, STRONG_PASSWORD, True),
        "wrong password": (EMAIL, OTHER_PASSWORD, False),
        "unknown email": ("nobody@example.com", STRONG_PASSWORD, False),
        "invited account": ("invited@example.com", STRONG_PASSWORD, False),
        "disabled account": ("disabled@example.com", STRONG_PASSWORD, False),
        "not an email": ("v@x.com\r\nBcc: a@evil.test", STRONG_PASSWORD, False),
    }

    for case, (email, password, succeeds) in attempts.items():
        context.verifications = 0
        account = service.get_authenticated_account(email, password)
        assert (account is not None) == succeeds, case
        assert context.verifications == 1, case


def test_password_expanding_under_nfkc_answers_the_same_for_known_and_unknown_emails(
    account_service: AccountService, alice: Account
) -> None:
    # 228 x U+FDFA: 228 code points, 4,104 after NFKC (passlib refuses over 4,096).
    password = "\ufdfa" * 228

    assert account_service.get_authenticated_account(EMAIL, password) is None
    assert account_service.get_authenticated_account("nobody@example.com", password) is None


def test_pbkdf2_hash_is_upgraded_to_argon2id_at_sign_in(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    alice.password_hash = pbkdf2_sha256.hash(STRONG_PASSWORD)
    dbsession.commit()

    assert account_service.get_authenticated_account(EMAIL, STRONG_PASSWORD) is alice
    dbsession.commit()
    dbsession.expire_all()

    stored = dbsession.scalars(select(Account.password_hash)).one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert signs_in(account_service, EMAIL, STRONG_PASSWORD)
    assert not signs_in(account_service, EMAIL, OTHER_PASSWORD)


def test_wrong_password_does_not_upgrade_an_old_hash(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    old_hash = pbkdf2_sha256.hash(STRONG_PASSWORD)
    alice.password_hash = old_hash
    dbsession.commit()

    assert account_service.get_authenticated_account(EMAIL, OTHER_PASSWORD) is None
    dbsession.commit()
    dbsession.expire_all()

    assert dbsession.scalars(select(Account.password_hash)).one() == old_hash


# Reset codes: creation


def test_no_code_for_an_unknown_email(account_service: AccountService, dbsession: Session) -> None:
    assert account_service.create_reset_code("nobody@example.com", IP) is None
    assert count(dbsession, PasswordReset) == 0


def test_only_the_sha256_of_a_code_is_stored(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None

    reset = dbsession.scalars(select(PasswordReset)).one()
    assert reset.code_hash == digest(code)
    for column in PasswordReset.__table__.columns:
        assert code not in str(getattr(reset, column.key))


def test_emailed_code_appears_nowhere_in_the_database(
    account_service: AccountService, alice: Account, dbsession: Session, db_url: str
) -> None:
    assert account_service.request_password_reset(EMAIL, IP)
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


def test_asking_for_resets_changes_nothing_on_the_account(
    account_service: AccountService, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    dbsession.commit()
    password_hash, changed_at = alice.password_hash, alice.password_changed_at

    for _ in range(50):
        clock.advance(seconds=1)
        assert account_service.request_password_reset(EMAIL, IP)
    dbsession.commit()
    dbsession.expire_all()

    account = dbsession.scalars(select(Account)).one()
    assert account.password_hash == password_hash
    assert account.password_changed_at == changed_at
    assert signs_in(account_service, EMAIL, STRONG_PASSWORD)
    assert len(emails_to(dbsession, EMAIL)) == 50


def test_reset_request_for_no_account_sends_nothing(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    for email in ("nobody@example.com", "alice@example.com\r\nBcc: a@evil.test", "", "\x00"):
        assert account_service.request_password_reset(email, IP) is False, repr(email)

    assert count(dbsession, PasswordReset) == 0
    assert count(dbsession, OutgoingEmail) == 0


def test_reset_request_for_a_disabled_account_sends_nothing(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    alice.is_disabled = True
    dbsession.flush()

    assert account_service.request_password_reset(EMAIL, IP) is False
    assert count(dbsession, OutgoingEmail) == 0


# Reset codes: checking and spending


def test_code_works_one_second_before_expiry(
    account_service: AccountService, alice: Account, clock: FakeClock
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    clock.advance(minutes=59, seconds=59)

    assert account_service.check_reset_code(code).account_id == alice.id
    account_service.reset_password(code, OTHER_PASSWORD, IP)
    assert signs_in(account_service, EMAIL, OTHER_PASSWORD)


def test_code_is_refused_at_expiry_plus_one_second(
    account_service: AccountService, alice: Account, clock: FakeClock
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    clock.advance(minutes=60, seconds=1)

    with pytest.raises(ResetCodeExpired):
        account_service.check_reset_code(code)
    with pytest.raises(ResetCodeExpired):
        account_service.use_reset_code(code, IP)
    with pytest.raises(ResetCodeExpired):
        account_service.reset_password(code, OTHER_PASSWORD, IP)
    assert signs_in(account_service, EMAIL, STRONG_PASSWORD)
    assert not signs_in(account_service, EMAIL, OTHER_PASSWORD)


def test_code_is_refused_at_the_exact_expiry_time(
    account_service: AccountService, alice: Account, clock: FakeClock
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    clock.advance(minutes=60)

    with pytest.raises(ResetCodeExpired):
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
    with pytest.raises(ResetCodeExpired):
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
    with pytest.raises(ResetCodeUsed):
        account_service.use_reset_code(code, "192.0.2.99")
    with pytest.raises(ResetCodeUsed):
        account_service.check_reset_code(code)
    assert reset.used_ip == IP


def test_second_reset_with_the_same_code_is_refused(
    account_service: AccountService, alice: Account
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    account_service.reset_password(code, OTHER_PASSWORD, IP)

    with pytest.raises(ResetCodeUsed):
        account_service.reset_password(code, THIRD_PASSWORD, IP)
    assert signs_in(account_service, EMAIL, OTHER_PASSWORD)
    assert not signs_in(account_service, EMAIL, THIRD_PASSWORD)


def test_code_spent_by_another_request_during_our_reset_is_refused(
    account_service: AccountService,
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
    hasher: PasswordHasher,
) -> None:
    # Two requests with one code: ours has checked the code and is hashing the new
    # password when the other one spends the code and commits. The conditional UPDATE,
    # not the earlier check, must decide, and the other request's password must stay.
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    dbsession.commit()

    def competing_request() -> None:
        other_service = make_account_service(other_dbsession, clock, hasher)
        other_service.reset_password(code, OTHER_PASSWORD, "192.0.2.2")
        other_dbsession.commit()

    service = make_account_service(dbsession, clock, InterruptedHasher(competing_request))
    with pytest.raises(ResetCodeUsed):
        service.reset_password(code, THIRD_PASSWORD, IP)
    dbsession.rollback()

    assert signs_in(account_service, EMAIL, OTHER_PASSWORD)
    assert not signs_in(account_service, EMAIL, THIRD_PASSWORD)
    assert dbsession.scalars(select(PasswordReset.used_ip)).one() == "192.0.2.2"


def test_use_is_recorded_in_the_database(
    account_service: AccountService, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    account_service.use_reset_code(code, IP)
    dbsession.commit()
    dbsession.expire_all()

    stored = dbsession.scalars(select(PasswordReset)).one()
    assert (stored.used_at, stored.used_ip) == (clock.now(), IP)


def test_altered_code_is_unknown(account_service: AccountService, alice: Account) -> None:
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
        with pytest.raises(ResetCodeUnknown):
            account_service.check_reset_code(wrong)
        with pytest.raises(ResetCodeUnknown):
            account_service.reset_password(wrong, OTHER_PASSWORD, IP)
        assert signs_in(account_service, EMAIL, STRONG_PASSWORD), case
    assert account_service.check_reset_code(code).used_at is None


def test_code_of_a_disabled_account_is_refused(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    alice.is_disabled = True
    dbsession.flush()

    with pytest.raises(ResetCodeInvalid):
        account_service.reset_password(code, OTHER_PASSWORD, IP)


def test_weak_password_at_reset_keeps_the_code(
    account_service: AccountService, alice: Account
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None

    with pytest.raises(PasswordRejected):
        account_service.reset_password(code, "password1234", IP)

    assert account_service.check_reset_code(code).used_at is None
    assert signs_in(account_service, EMAIL, STRONG_PASSWORD)


# Reset: what it ends


def test_reset_spends_every_other_open_code_of_the_account(
    account_service: AccountService, alice: Account
) -> None:
    used = account_service.create_reset_code(EMAIL, IP)
    other_reset = account_service.create_reset_code(EMAIL, IP)
    other_invite = account_service.create_reset_code(EMAIL, IP, purpose=PURPOSE_INVITE)
    account_service.create_account("bob@example.com", THIRD_PASSWORD)
    bobs = account_service.create_reset_code("bob@example.com", IP)
    assert used and other_reset and other_invite and bobs

    account_service.reset_password(used, OTHER_PASSWORD, IP)

    for code in (other_reset, other_invite):
        with pytest.raises(ResetCodeUsed):
            account_service.check_reset_code(code)
        with pytest.raises(ResetCodeUsed):
            account_service.reset_password(code, THIRD_PASSWORD, IP)
    assert signs_in(account_service, EMAIL, OTHER_PASSWORD)
    # Another account's code is left alone.
    assert account_service.check_reset_code(bobs).used_at is None


def test_reset_ends_every_login_session(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    sessions = account_service.login_sessions
    tokens = [sessions.start(alice, IP, f"browser {n}")[0] for n in range(3)]
    bob = account_service.create_account("bob@example.com", THIRD_PASSWORD)
    bobs_token, _ = sessions.start(bob, IP, "bob's browser")
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None

    account_service.reset_password(code, OTHER_PASSWORD, IP)
    dbsession.commit()
    dbsession.expire_all()

    assert all(sessions.find_active(token) is None for token in tokens)
    assert sessions.list_active(alice.id) == []
    assert (
        dbsession.scalar(
            select(func.count())
            .select_from(LoginSession)
            .where(LoginSession.account_id == alice.id, LoginSession.revoked_at.is_(None))
        )
        == 0
    )
    assert sessions.find_active(bobs_token) is not None


def test_reset_queues_a_password_changed_notice_without_secrets(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None

    account_service.reset_password(code, OTHER_PASSWORD, IP)

    notices = [m for m in emails_to(dbsession, EMAIL) if m.subject == "Your password was changed"]
    assert len(notices) == 1
    text = body_text(notices[0])
    assert code not in text and OTHER_PASSWORD not in text
    assert "/account/reset_password/" not in text


def test_reset_replaces_the_old_password(
    account_service: AccountService, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    clock.advance(minutes=10)

    account_service.reset_password(code, OTHER_PASSWORD, IP)
    dbsession.commit()
    dbsession.expire_all()

    assert not signs_in(account_service, EMAIL, STRONG_PASSWORD)
    assert signs_in(account_service, EMAIL, OTHER_PASSWORD)
    assert dbsession.scalars(select(Account)).one().password_changed_at == clock.now()


# Changing the password


def test_code_asked_for_before_a_password_change_is_refused_after_it(
    account_service: AccountService, alice: Account
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None

    account_service.change_password(alice, STRONG_PASSWORD, OTHER_PASSWORD, IP, None)

    with pytest.raises(ResetCodeUsed):
        account_service.check_reset_code(code)
    with pytest.raises(ResetCodeUsed):
        account_service.reset_password(code, THIRD_PASSWORD, IP)
    assert signs_in(account_service, EMAIL, OTHER_PASSWORD)
    assert not signs_in(account_service, EMAIL, THIRD_PASSWORD)


def test_change_password_needs_the_current_password_and_changes_nothing_without_it(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    token, _ = account_service.login_sessions.start(alice, IP, "browser")
    dbsession.commit()
    password_hash, changed_at = alice.password_hash, alice.password_changed_at
    assert code is not None

    with pytest.raises(AccountError):
        account_service.change_password(alice, THIRD_PASSWORD, OTHER_PASSWORD, IP, None)
    dbsession.commit()
    dbsession.expire_all()

    account = dbsession.scalars(select(Account)).one()
    assert (account.password_hash, account.password_changed_at) == (password_hash, changed_at)
    assert signs_in(account_service, EMAIL, STRONG_PASSWORD)
    assert account_service.check_reset_code(code).used_at is None
    assert account_service.login_sessions.find_active(token) is not None
    assert emails_to(dbsession, EMAIL) == []


def test_change_password_of_an_invited_account_is_refused(
    account_service: AccountService,
) -> None:
    invited = account_service.create_account(EMAIL, None)

    with pytest.raises(AccountError):
        account_service.change_password(invited, "", OTHER_PASSWORD, IP, None)
    assert invited.password_hash is None


def test_change_password_keeps_this_session_and_ends_the_others(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    sessions = account_service.login_sessions
    this_token, this_session = sessions.start(alice, IP, "this browser")
    other_tokens = [sessions.start(alice, IP, f"other {n}")[0] for n in range(2)]

    account_service.change_password(alice, STRONG_PASSWORD, OTHER_PASSWORD, IP, this_session.id)
    dbsession.commit()

    assert sessions.find_active(this_token) is not None
    assert all(sessions.find_active(token) is None for token in other_tokens)
    notices = [m for m in emails_to(dbsession, EMAIL) if m.subject == "Your password was changed"]
    assert len(notices) == 1
    assert OTHER_PASSWORD not in body_text(notices[0])
    assert signs_in(account_service, EMAIL, OTHER_PASSWORD)
    assert not signs_in(account_service, EMAIL, STRONG_PASSWORD)


def test_change_password_to_a_weak_one_changes_nothing(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    with pytest.raises(PasswordRejected):
        account_service.change_password(alice, STRONG_PASSWORD, "password1234", IP, None)

    assert signs_in(account_service, EMAIL, STRONG_PASSWORD)
    assert emails_to(dbsession, EMAIL) == []
