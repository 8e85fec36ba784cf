"""AccountService: accounts, passwords and one-time reset codes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import PURPOSE_INVITE, PURPOSE_RESET, Account, PasswordReset

from . import audit as events
from .audit import AuditLog
from .clock import Clock
from .codes import digest, new_code
from .email_addresses import InvalidEmail, clean_email
from .login_sessions import LoginSessionService
from .mail_templates import MailTemplates
from .outbox import Outbox
from .passwords import PasswordHasher, PasswordPolicy

log = logging.getLogger(__name__)

# Codes longer than this cannot be ours; refusing them early keeps a megabyte of text
# away from hashing and the database.
MAX_CODE_LENGTH = 100


class AccountError(Exception):
    """Base of the domain errors; the message is meant for the user."""


class EmailTaken(AccountError):
    pass


class ResetCodeInvalid(AccountError):
    """Base of the ways a reset or invitation code can be refused."""


class ResetCodeUnknown(ResetCodeInvalid):
    pass


class ResetCodeUsed(ResetCodeInvalid):
    pass


class ResetCodeExpired(ResetCodeInvalid):
    pass


# The columns record_sign_in() updates or depends on.
_SIGN_IN_CHECKED_COLUMNS = [
    "password_hash",
    "is_disabled",
    "last_login_at",
    "last_login_ip",
    "login_count",
]


class CodeState(NamedTuple):
    """What decides whether a reset or invitation code can still be used."""

    account_id: int
    purpose: str
    used_at: datetime | None
    expires_at: datetime
    account_disabled: bool


_resets = PasswordReset.__table__
_accounts = Account.__table__
# One prebuilt Core query for opening an emailed link, the hot path of the reset flow:
# the same answer as loading the code and its account through the ORM, for less work.
_CODE_STATE = (
    select(
        _resets.c.account_id,
        _resets.c.purpose,
        _resets.c.used_at,
        _resets.c.expires_at,
        _accounts.c.is_disabled,
    )
    .join_from(_resets, _accounts, _resets.c.account_id == _accounts.c.id)
    .where(_resets.c.code_hash == bindparam("code_hash"))
)


@dataclass(frozen=True)
class AccountPolicy:
    reset_code_lifetime: timedelta = timedelta(minutes=60)
    invite_code_lifetime: timedelta = timedelta(days=7)
    base_url: str = "http://localhost:6543"
    log_reset_links: bool = False


class AccountService:
    def __init__(
        self,
        dbsession: Session,
        clock: Clock,
        hasher: PasswordHasher,
        password_policy: PasswordPolicy,
        outbox: Outbox,
        mail_templates: MailTemplates,
        login_sessions: LoginSessionService,
        audit: AuditLog | None = None,
        policy: AccountPolicy | None = None,
    ) -> None:
        self.dbsession = dbsession
        self.clock = clock
        self.hasher = hasher
        self.password_policy = password_policy
        self.outbox = outbox
        self.mail_templates = mail_templates
        self.login_sessions = login_sessions
        self.audit = audit or AuditLog(dbsession, clock)
        self.policy = policy or AccountPolicy()

    # Accounts

    def create_account(
        self, email: str, plain_text_password: str | None, is_admin: bool = False
    ) -> Account:
        """Create an account; the email is stored lower-cased and trimmed.

        A password of None makes an invited account that has to choose one first.
        Raises EmailTaken when the address already has an account."""
        email = clean_email(email)
        if self.find_account_by_email(email) is not None:
            raise EmailTaken("An account with this email address already exists.")
        now = self.clock.now()
        values = {
            "email": email,
            "password_hash": None,
            "is_admin": is_admin,
            "is_disabled": False,
            "created_at": now,
            "login_count": 0,
        }
        if plain_text_password is not None:
            self.password_policy.check(plain_text_password, email)
            values["password_hash"] = self.hasher.hash(plain_text_password)
            values["password_changed_at"] = now
        # Two requests may register one address at the same moment: the unique index
        # decides, and the loser's insert does nothing (no savepoint, no broken
        # transaction), which it learns from getting no id back.
        insert = sqlite_insert if self.dbsession.get_bind().dialect.name == "sqlite" else pg_insert
        account_id = self.dbsession.scalar(
            insert(Account)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[Account.email])
            .returning(Account.id)
        )
        if account_id is None:
            raise EmailTaken("An account with this email address already exists.")
        account = self.dbsession.get(Account, account_id)
        assert account is not None
        return account

    def find_account_by_email(self, email: str) -> Account | None:
        try:
            email = clean_email(email)
        except InvalidEmail:
            # Not an address at all (or one with NUL bytes, which PostgreSQL refuses):
            # there is nothing to look up.
            return None
        return self.dbsession.scalars(select(Account).where(Account.email == email)).first()

    def find_account_by_id(self, account_id: int) -> Account | None:
        return self.dbsession.get(Account, account_id)

    def get_authenticated_account(self, email: str, plain_text_password: str) -> Account | None:
        """The account if the password is right, else None, with the same cost either way.

        Unknown emails, accounts without a password and disabled accounts still cost one
        hash verification, so timing does not reveal which addresses have accounts. An
        outdated hash is upgraded on success."""
        if len(plain_text_password) > self.password_policy.max_length * 4:
            return None
        account = self.find_account_by_email(email)
        if account is None or account.password_hash is None:
            self.hasher.dummy_verify(plain_text_password)
            self.audit.record(
                events.SIGN_IN_FAILED, account.id if account else None, reason="no_account"
            )
            return None
        matches, new_hash = self.hasher.verify(plain_text_password, account.password_hash)
        if not matches or account.is_disabled:
            reason = "wrong_password" if not matches else "disabled"
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason=reason)
            return None
        if new_hash is not None and not self._replace_hash(
            account, account.password_hash, new_hash
        ):
            # The password changed while this one was being checked: it is not valid now.
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason="password_changed")
            return None
        return account

    def _replace_hash(self, account: Account, old_hash: str, new_hash: str) -> bool:
        """Store an upgraded hash only if the stored one is still the one that was checked,
        so that an upgrade can never undo a reset that committed in the meantime."""
        result = self.dbsession.execute(
            update(Account)
            .where(Account.id == account.id, Account.password_hash == old_hash)
            .values(password_hash=new_hash)
            .execution_options(synchronize_session=False)
        )
        # Reloaded only if something reads it again (a SELECT saved on every sign-in).
        self.dbsession.expire(account, ["password_hash"])
        return result.rowcount == 1

    def record_sign_in(self, account: Account, ip: str | None) -> bool:
        """Count the sign-in, if the password checked is still the account's password
        and the account is still enabled; False if not.

        A reset or a password change that commits while a sign-in is checking the old
        password would otherwise let that sign-in start a session after every session
        was ended. The conditional UPDATE waits for such a change to commit (it locks the
        same row) and then finds the hash different."""
        result = self.dbsession.execute(
            update(Account)
            .where(
                Account.id == account.id,
                Account.password_hash == account.password_hash,
                Account.is_disabled.is_(False),
            )
            .values(
                last_login_at=self.clock.now(),
                last_login_ip=ip,
                login_count=Account.login_count + 1,
            )
            .execution_options(synchronize_session=False)
        )
        # What the UPDATE counted or found changed is reloaded only if something reads
        # it again; a sign-in answers with a redirect, so it usually costs no SELECT.
        self.dbsession.expire(account, _SIGN_IN_CHECKED_COLUMNS)
        if result.rowcount != 1:
            self.audit.record(events.SIGN_IN_FAILED, account.id, reason="password_changed")
            return False
        self.audit.record(events.SIGN_IN, account.id)
        return True

    def set_password(self, plain_text_password: str, account_id: int) -> Account:
        """Store an argon2id hash of the password (which must meet the policy)."""
        account = self.find_account_by_id(account_id)
        if account is None:
            raise AccountError("No such account.")
        self.password_policy.check(plain_text_password, account.email)
        account.password_hash = self.hasher.hash(plain_text_password)
        account.password_changed_at = self.clock.now()
        self.dbsession.flush()
        return account

    # Reset and invitation codes

    def create_reset_code(
        self, email: str, ip: str | None, purpose: str = PURPOSE_RESET
    ) -> str | None:
        """A new one-time code for the account, or None if there is no such account.

        Only the code's SHA-256 is stored; the plain code is returned once, for the email."""
        account = self.find_account_by_email(email)
        if account is None:
            return None
        return self._new_code(account, ip, purpose)

    def _new_code(self, account: Account, ip: str | None, purpose: str) -> str:
        lifetime = self._lifetime(purpose)
        code = new_code()
        now = self.clock.now()
        self.dbsession.add(
            PasswordReset(
                account_id=account.id,
                purpose=purpose,
                code_hash=digest(code),
                created_at=now,
                expires_at=now + lifetime,
                created_ip=ip,
            )
        )
        self.dbsession.flush()
        return code

    def request_password_reset(self, email: str, ip: str | None) -> bool:
        """Email a reset link if the address has an active account; True if one was queued.

        The caller must answer the same either way. Nothing about the account changes:
        the current password keeps working until the link is used."""
        try:
            email = clean_email(email)
        except InvalidEmail:
            return False
        account = self.find_account_by_email(email)
        if account is None or account.is_disabled:
            self.audit.record(events.RESET_REQUESTED, account.id if account else None, sent=False)
            return False
        self.audit.record(events.RESET_REQUESTED, account.id, sent=True)
        self.send_reset_link(account, ip)
        return True

    def send_reset_link(self, account: Account, ip: str | None) -> None:
        """Create a reset code and queue the email that carries it."""
        self._send_link(account, ip, PURPOSE_RESET)

    def create_invitation_link(self, account: Account, ip: str | None) -> str:
        """A one-time link with which the account's owner chooses a password."""
        return self.reset_link(self._new_code(account, ip, PURPOSE_INVITE))

    def send_invitation(self, account: Account, ip: str | None) -> str:
        """Email an invitation link to choose a password; returns the link."""
        return self._send_link(account, ip, PURPOSE_INVITE)

    def _send_link(self, account: Account, ip: str | None, purpose: str) -> str:
        link = self.reset_link(self._new_code(account, ip, purpose))
        minutes = int(self._lifetime(purpose).total_seconds() // 60)
        if purpose == PURPOSE_INVITE:
            what, content = "invitation", self.mail_templates.invitation
        else:
            what, content = "password reset", self.mail_templates.password_reset
        self.outbox.queue(account.email, content(account.email, link, minutes))
        if self.policy.log_reset_links:
            log.info("Development only: %s link for account %s: %s", what, account.id, link)
        return link

    def _lifetime(self, purpose: str) -> timedelta:
        if purpose == PURPOSE_INVITE:
            return self.policy.invite_code_lifetime
        return self.policy.reset_code_lifetime

    def reset_link(self, code: str) -> str:
        return f"{self.policy.base_url}/account/reset_password/{code}"

    def find_reset_code(self, code: str) -> PasswordReset | None:
        if not code or len(code) > MAX_CODE_LENGTH:
            return None
        return self.dbsession.scalars(
            select(PasswordReset).where(PasswordReset.code_hash == digest(code))
        ).first()

    def check_reset_code(self, code: str) -> PasswordReset:
        """The code's record if it can still be used; else raises the reason."""
        reset = self.find_reset_code(code)
        state = None
        if reset is not None:
            state = CodeState(
                reset.account_id,
                reset.purpose,
                reset.used_at,
                reset.expires_at,
                reset.account.is_disabled,
            )
        self._refuse_unusable(state)
        assert reset is not None
        return reset

    def check_reset_link(self, code: str) -> None:
        """check_reset_code for opening the emailed link, where only the verdict is
        needed: raises the same reasons, and loads nothing into the session."""
        state = None
        if code and len(code) <= MAX_CODE_LENGTH:
            # A read that needs nothing of the request's transaction: a pooled connection
            # of its own spares the session's bookkeeping, the costliest part of it.
            with self.dbsession.get_bind().connect() as connection:
                if connection.dialect.name == "postgresql":
                    # Spares PostgreSQL the BEGIN and ROLLBACK round trips. (SQLite
                    # starts no transaction for a SELECT, and switching modes costs it.)
                    connection.execution_options(isolation_level="AUTOCOMMIT")
                row = connection.execute(_CODE_STATE, {"code_hash": digest(code)}).first()
            state = CodeState(*row) if row is not None else None
        self._refuse_unusable(state)

    def _refuse_unusable(self, state: CodeState | None) -> None:
        """Raises why a code cannot be used (recording it), if it cannot."""
        if state is None or state.account_disabled:
            self.audit.record(events.CODE_UNKNOWN, state.account_id if state else None)
            raise ResetCodeUnknown("This link is not valid. Ask for a new one.")
        if state.used_at is not None:
            self.audit.record(events.CODE_USED, state.account_id, purpose=state.purpose)
            raise ResetCodeUsed("This link has already been used. Ask for a new one if needed.")
        if state.expires_at <= self.clock.now():
            self.audit.record(events.CODE_EXPIRED, state.account_id, purpose=state.purpose)
            raise ResetCodeExpired("This link has expired. Ask for a new one.")

    def use_reset_code(self, code: str, user_ip: str | None) -> PasswordReset:
        """Spend the code: exactly one caller wins, even when many race with the same code.

        The check and the spending are one conditional UPDATE, so the database decides
        the race; on SQLite writers are serialized, on PostgreSQL the losers wait for the
        winner's row lock and then see used_at set. Raises the reason on loss."""
        return self._spend(self.check_reset_code(code), code, user_ip)

    def _spend(self, reset: PasswordReset, code: str, user_ip: str | None) -> PasswordReset:
        now = self.clock.now()
        result = self.dbsession.execute(
            update(PasswordReset)
            .where(
                PasswordReset.code_hash == digest(code),
                PasswordReset.used_at.is_(None),
                PasswordReset.expires_at > now,
            )
            .values(used_at=now, used_ip=user_ip)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            self.dbsession.refresh(reset)
            if reset.used_at is None:
                # Not taken by anyone: it ran out while the new password was hashed.
                self.audit.record(events.CODE_EXPIRED, reset.account_id, purpose=reset.purpose)
                raise ResetCodeExpired("This link has expired. Ask for a new one.")
            self.audit.record(events.CODE_USED, reset.account_id, purpose=reset.purpose)
            raise ResetCodeUsed("This link has already been used. Ask for a new one if needed.")
        self.dbsession.expire(reset)
        return reset

    def reset_password(self, code: str, plain_text_password: str, ip: str | None) -> Account:
        """Choose a new password with a code: spends it and every other open code of the
        account, ends all of its sessions, and emails a notice. Does not sign in."""
        reset = self.check_reset_code(code)
        account = reset.account
        self.password_policy.check(plain_text_password, account.email)
        # Hash before taking the code, so the slow part happens outside the write lock.
        password_hash = self.hasher.hash(plain_text_password)
        self._spend(reset, code, ip)
        now = self.clock.now()
        account.password_hash = password_hash
        account.password_changed_at = now
        self.spend_open_codes(account.id)
        self.login_sessions.revoke_all(account.id)
        done = events.INVITATION_ACCEPTED if reset.purpose == PURPOSE_INVITE else events.RESET_DONE
        self.audit.record(done, account.id)
        if reset.purpose != PURPOSE_INVITE:
            # After an invitation the owner has only just chosen the first password.
            self.outbox.queue(
                account.email, self.mail_templates.password_changed(account.email, now, ip)
            )
        self.dbsession.flush()
        return account

    def change_password(
        self,
        account: Account,
        current_password: str,
        new_password: str,
        ip: str | None,
        keep_session_id: int | None,
    ) -> None:
        """Change a password, knowing the current one; ends the other sessions and spends
        open codes."""
        matches, _ = self.hasher.verify(current_password, account.password_hash)
        if not matches:
            self.audit.record(events.PASSWORD_CHANGE_FAILED, account.id)
            raise AccountError("Your current password is not correct.")
        self.password_policy.check(new_password, account.email)
        account.password_hash = self.hasher.hash(new_password)
        now = self.clock.now()
        account.password_changed_at = now
        self.spend_open_codes(account.id)
        self.login_sessions.revoke_all(account.id, except_id=keep_session_id)
        self.audit.record(events.PASSWORD_CHANGED, account.id)
        self.outbox.queue(
            account.email, self.mail_templates.password_changed(account.email, now, ip)
        )
        self.dbsession.flush()

    def spend_open_codes(self, account_id: int) -> int:
        """Mark every unused code of the account used, so none of them works any more."""
        now = self.clock.now()
        result = self.dbsession.execute(
            update(PasswordReset)
            .where(PasswordReset.account_id == account_id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount
