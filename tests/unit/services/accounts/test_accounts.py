"""AccountService: accounts, resets and password changes (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import PURPOSE_INVITE, Account, LoginSession, OneTimeCode, OutgoingEmail
from app.services.accounts.accounts import AccountService
from app.services.kernel.errors import (
    CodeUsed,
    EmailTaken,
    InvalidEmail,
    PasswordRejected,
    WrongCurrentPassword,
)
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, THIRD_PASSWORD
from tests.factories import EMAIL
from tests.support import IP, FakeClock, SignsIn
from tests.support.outbox import body_text, emails_to
from tests.support.records import count


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
    account_service.create_account("alice@caf\u00e9.example", STRONG_PASSWORD)

    with pytest.raises(EmailTaken):
        account_service.create_account("alice@cafe\u0301.example", OTHER_PASSWORD)


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


def test_the_accounts_own_address_is_refused_as_its_password(
    account_service: AccountService, dbsession: Session
) -> None:
    # Long and random enough to pass every other check.
    address = "qz7.wk3.vb9.lrx@example.com"
    with pytest.raises(PasswordRejected, match="^Do not use your email address as your password.$"):
        account_service.create_account(address, " " + address.upper())

    assert count(dbsession, Account) == 0


def test_asking_for_resets_changes_nothing_on_the_account(
    account_service: AccountService,
    alice: Account,
    dbsession: Session,
    clock: FakeClock,
    signs_in: SignsIn,
) -> None:
    dbsession.commit()
    password_hash, changed_at = alice.password_hash, alice.password_changed_at

    for _ in range(50):
        clock.advance(seconds=1)
        assert account_service.request_password_reset(EMAIL)
    dbsession.commit()
    dbsession.expire_all()

    account = dbsession.scalars(select(Account)).one()
    assert account.password_hash == password_hash
    assert account.password_changed_at == changed_at
    assert signs_in(EMAIL, STRONG_PASSWORD)
    assert len(emails_to(dbsession, EMAIL)) == 50


def test_reset_request_for_no_account_sends_nothing(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    for email in ("nobody@example.com", "alice@example.com\r\nBcc: a@evil.test", "", "\x00"):
        assert account_service.request_password_reset(email) is False, repr(email)

    assert count(dbsession, OneTimeCode) == 0
    assert count(dbsession, OutgoingEmail) == 0


def test_reset_request_for_a_disabled_account_sends_the_reason_and_no_link(
    account_service: AccountService, alice: Account, dbsession: Session
) -> None:
    alice.is_disabled = True
    dbsession.flush()

    assert account_service.request_password_reset(EMAIL) is False
    (notice,) = emails_to(dbsession, EMAIL)
    assert notice.template == "account_disabled"
    text = " ".join(body_text(notice).split())
    assert f"account {EMAIL}" in text and "The account is disabled" in text
    assert "To use it again, contact the site's administrator." in text
    assert count(dbsession, OneTimeCode) == 0


def test_reset_spends_every_other_open_code_of_the_account(
    account_service: AccountService, alice: Account, signs_in: SignsIn
) -> None:
    used = account_service.create_reset_code(EMAIL, IP)
    other_reset = account_service.create_reset_code(EMAIL, IP)
    other_invite = account_service.create_reset_code(EMAIL, IP, purpose=PURPOSE_INVITE)
    account_service.create_account("bob@example.com", THIRD_PASSWORD)
    bobs = account_service.create_reset_code("bob@example.com", IP)
    assert used and other_reset and other_invite and bobs

    account_service.reset_password(used, OTHER_PASSWORD)

    for code in (other_reset, other_invite):
        with pytest.raises(CodeUsed):
            account_service.check_reset_code(code)
        with pytest.raises(CodeUsed):
            account_service.reset_password(code, THIRD_PASSWORD)
    assert signs_in(EMAIL, OTHER_PASSWORD)
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

    account_service.reset_password(code, OTHER_PASSWORD)
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

    account_service.reset_password(code, OTHER_PASSWORD)

    notices = [m for m in emails_to(dbsession, EMAIL) if m.template == "password_changed"]
    assert len(notices) == 1
    text = body_text(notices[0])
    assert code not in text and OTHER_PASSWORD not in text
    assert "/account/reset_password/" not in text


def test_reset_replaces_the_old_password(
    account_service: AccountService,
    alice: Account,
    dbsession: Session,
    clock: FakeClock,
    signs_in: SignsIn,
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None
    clock.advance(minutes=10)

    account_service.reset_password(code, OTHER_PASSWORD)
    dbsession.commit()
    dbsession.expire_all()

    assert not signs_in(EMAIL, STRONG_PASSWORD)
    assert signs_in(EMAIL, OTHER_PASSWORD)
    assert dbsession.scalars(select(Account)).one().password_changed_at == clock.now()


def test_code_asked_for_before_a_password_change_is_refused_after_it(
    account_service: AccountService, alice: Account, signs_in: SignsIn
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    assert code is not None

    account_service.change_password(alice, STRONG_PASSWORD, OTHER_PASSWORD, None)

    with pytest.raises(CodeUsed):
        account_service.check_reset_code(code)
    with pytest.raises(CodeUsed):
        account_service.reset_password(code, THIRD_PASSWORD)
    assert signs_in(EMAIL, OTHER_PASSWORD)
    assert not signs_in(EMAIL, THIRD_PASSWORD)


def test_change_password_needs_the_current_password_and_changes_nothing_without_it(
    account_service: AccountService, alice: Account, dbsession: Session, signs_in: SignsIn
) -> None:
    code = account_service.create_reset_code(EMAIL, IP)
    token, _ = account_service.login_sessions.start(alice, IP, "browser")
    dbsession.commit()
    password_hash, changed_at = alice.password_hash, alice.password_changed_at
    assert code is not None

    with pytest.raises(WrongCurrentPassword):
        account_service.change_password(alice, THIRD_PASSWORD, OTHER_PASSWORD, None)
    dbsession.commit()
    dbsession.expire_all()

    account = dbsession.scalars(select(Account)).one()
    assert (account.password_hash, account.password_changed_at) == (password_hash, changed_at)
    assert signs_in(EMAIL, STRONG_PASSWORD)
    assert account_service.check_reset_code(code).used_at is None
    assert account_service.login_sessions.find_active(token) is not None
    assert emails_to(dbsession, EMAIL) == []


def test_change_password_of_an_invited_account_is_refused(
    account_service: AccountService,
) -> None:
    invited = account_service.create_account(EMAIL, None)

    with pytest.raises(WrongCurrentPassword):
        account_service.change_password(invited, "", OTHER_PASSWORD, None)
    assert invited.password_hash is None


def test_change_password_keeps_this_session_and_ends_the_others(
    account_service: AccountService, alice: Account, dbsession: Session, signs_in: SignsIn
) -> None:
    sessions = account_service.login_sessions
    this_token, this_session = sessions.start(alice, IP, "this browser")
    other_tokens = [sessions.start(alice, IP, f"other {n}")[0] for n in range(2)]

    account_service.change_password(alice, STRONG_PASSWORD, OTHER_PASSWORD, this_session.id)
    dbsession.commit()

    assert sessions.find_active(this_token) is not None
    assert all(sessions.find_active(token) is None for token in other_tokens)
    notices = [m for m in emails_to(dbsession, EMAIL) if m.template == "password_changed"]
    assert len(notices) == 1
    assert OTHER_PASSWORD not in body_text(notices[0])
    assert signs_in(EMAIL, OTHER_PASSWORD)
    assert not signs_in(EMAIL, STRONG_PASSWORD)


def test_change_password_to_a_weak_one_changes_nothing(
    account_service: AccountService, alice: Account, dbsession: Session, signs_in: SignsIn
) -> None:
    with pytest.raises(PasswordRejected):
        account_service.change_password(alice, STRONG_PASSWORD, "password1234", None)

    assert signs_in(EMAIL, STRONG_PASSWORD)
    assert emails_to(dbsession, EMAIL) == []
