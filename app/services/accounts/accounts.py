"""AccountService: accounts and their passwords, including resets with an emailed code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app.models import PURPOSE_INVITE, PURPOSE_RESET, Account, LoginSession, OneTimeCode
from app.models import one_time_codes as code_purposes
from app.services.kernel import audit as events
from app.services.kernel.codes import new_code
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.email_addresses import clean_email, normalize_email
from app.services.kernel.errors import (
    AccountNotFound,
    EmailTaken,
    InvalidEmail,
    PasswordChangedMeanwhile,
    WrongCurrentPassword,
)
from app.services.kernel.statements import insert_unless_present, rows_changed
from app.services.links.one_time_codes import CodeState, OneTimeCodeService
from app.services.notices.account_mail import AccountMail
from app.services.passwords.guesses import PasswordGuessLimits
from app.services.passwords.passwords import Passwords
from app.services.sessions.login_sessions import LoginSessionService
from app.settings.limits import FORGOT_PER_EMAIL, FORGOT_PER_IP, REGISTER_PER_IP

# The codes that open the form to choose a password.
PASSWORD_CODE_PURPOSES = (PURPOSE_RESET, PURPOSE_INVITE)


class AccountService(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        passwords: Passwords,
        codes: OneTimeCodeService,
        login_sessions: LoginSessionService,
        mail: AccountMail,
        guesses: PasswordGuessLimits,
    ) -> None:
        super().__init__(context)
        self.passwords = passwords
        self.codes = codes
        self.login_sessions = login_sessions
        self.mail = mail
        self.guesses = guesses

    # Finding

    def find_account_by_email(self, email: str) -> Account | None:
        try:
            email = clean_email(email)
        except InvalidEmail:
            # Not an address (or one with NUL bytes, which PostgreSQL refuses): no lookup.
            return None
        return self.dbsession.scalars(select(Account).where(Account.email == email)).first()

    def find_account_by_id(self, account_id: int) -> Account | None:
        return self.dbsession.get(Account, account_id)

    # Creating

    def create_account(
        self,
        email: str,
        plain_text_password: str | None,
        is_admin: bool = False,
        email_verified: bool = False,
    ) -> Account:
        """Create an account; the email is stored lower-cased and trimmed.

        A password of None makes an invited account that has to choose one first. The
        address counts as confirmed only if the caller says so (whoever proved it).
        Raises EmailTaken when the address already has an account."""
        email = clean_email(email)
        if self.find_account_by_email(email) is not None:
            raise EmailTaken()
        now = self.clock.now()
        values = {
            "email": email,
            "password_hash": None,
            "is_admin": is_admin,
            "is_disabled": False,
            "created_at": now,
            "login_count": 0,
            "email_verified_at": now if email_verified else None,
        }
        if plain_text_password is not None:
            values["password_hash"] = self.passwords.hash_new(plain_text_password, email)
            values["password_changed_at"] = now
        # Two requests may register one address at the same moment: the loser learns it
        # from getting no id back.
        account_id = insert_unless_present(self.dbsession, Account, values, [Account.email])
        if account_id is None:
            raise EmailTaken()
        account = self.dbsession.get(Account, account_id)
        assert account is not None
        return account

    def register(self, email: str, plain_text_password: str) -> Account:
        """Self-registration: limited per IP, checked before any costly work."""
        self.rate_limiter.hit(REGISTER_PER_IP, self.context.address_key)
        account = self.create_account(email, plain_text_password)
        self.audit.record(events.REGISTERED, account.id)
        return account

    # Passwords

    def set_password(self, plain_text_password: str, account_id: int) -> Account:
        """Store an argon2id hash of the password (which must meet the policy)."""
        account = self.find_account_by_id(account_id)
        if account is None:
            raise AccountNotFound()
        account.password_hash = self.passwords.hash_new(plain_text_password, account.email)
        account.password_changed_at = self.clock.now()
        account.password_breached_at = None
        self.dbsession.flush()
        return account

    def void_password(self, account: Account) -> None:
        """Replace the password with a random one that nobody knows: whoever knew the
        old one cannot sign in with it, and only a reset link lets anyone choose one."""
        account.password_hash = self.passwords.hasher.hash(new_code())
        account.password_changed_at = self.clock.now()
        account.password_breached_at = None
        self.dbsession.flush()

    def change_password(
        self,
        account: Account,
        current_password: str,
        new_password: str,
        keep_session_id: int | None,
    ) -> None:
        """Change a password, knowing the current one; ends the other sessions and spends
        open codes. Guessing the current password here counts like guessing it at
        sign-in, and the new password's policy runs only once the current one is right.

        The new hash is stored only if the stored one is still the one that was checked
        and the session asking is still live: a change racing a reset, or coming from a
        session the owner has just ended, fails instead of undoing what the owner did."""
        session = (
            self.login_sessions.find_live(account.id, keep_session_id)
            if keep_session_id is not None
            else None
        )
        allowance = self.guesses.allowance(account.email, account, session)
        self.guesses.count(allowance)
        checked_hash = account.password_hash
        matches, _ = self.passwords.verify(current_password, checked_hash)
        if not matches or checked_hash is None:
            self.audit.record(events.PASSWORD_CHANGE_FAILED, account.id)
            raise WrongCurrentPassword()
        new_hash = self.passwords.hash_new(new_password, account.email)
        now = self.clock.now()
        if not self._replace_password(account, checked_hash, new_hash, now, keep_session_id):
            self.audit.record(events.PASSWORD_CHANGE_FAILED, account.id, reason="changed_meanwhile")
            raise PasswordChangedMeanwhile()
        self.codes.spend_open(account.id)
        self.login_sessions.revoke_all(account.id, except_id=keep_session_id)
        self.audit.record(events.PASSWORD_CHANGED, account.id)
        self.mail.password_changed(account.email, now, self.context.ip)
        self.guesses.succeeded(allowance)
        self.dbsession.flush()

    def _replace_password(
        self,
        account: Account,
        checked_hash: str,
        new_hash: str,
        now: datetime,
        session_id: int | None,
    ) -> bool:
        """One conditional UPDATE: the new hash, if the checked one is still stored (and
        the session is still live). A reset that commits first changes the hash; one in
        progress holds the row, and the UPDATE waits for it, then finds the hash changed.
        The session's row is locked first for the same reason: a revocation in progress
        is waited for. (SQLite has one writer at a time, which gives the same order.)"""
        conditions = [Account.id == account.id, Account.password_hash == checked_hash]
        if session_id is not None:
            live = select(LoginSession.id).where(
                LoginSession.id == session_id, LoginSession.revoked_at.is_(None)
            )
            if self.dbsession.scalar(live.with_for_update()) is None:
                return False
            conditions.append(live.exists())
        changed = rows_changed(
            self.dbsession,
            update(Account)
            .where(*conditions)
            .values(password_hash=new_hash, password_changed_at=now, password_breached_at=None)
            .execution_options(synchronize_session=False),
        )
        # The address too: the notice that follows goes to the one the account has now,
        # should it have changed while the new password was hashed.
        self.dbsession.expire(
            account, ["password_hash", "password_changed_at", "password_breached_at", "email"]
        )
        return changed == 1

    # Resets and invitations

    def request_password_reset(self, email: str) -> bool:
        """Email a reset link if the address has an active account; True if one was queued.

        Limited per IP and per address. The caller must answer the same either way.
        Nothing about the account changes: the current password keeps working until the
        link is used."""
        self.rate_limiter.hit(FORGOT_PER_IP, self.context.address_key)
        self.rate_limiter.hit(FORGOT_PER_EMAIL, normalize_email(email))
        account = self.find_account_by_email(email)
        if account is None:
            self.audit.record(events.RESET_REQUESTED, None, sent=False)
            return False
        if not account.may_sign_in:
            # No link, which would not work; the owner of a disabled one is told why.
            self.audit.record(events.RESET_REQUESTED, account.id, sent=False)
            if account.is_disabled:
                self.mail.account_disabled(account.email)
            return False
        self.audit.record(events.RESET_REQUESTED, account.id, sent=True)
        self.codes.send_link(account, PURPOSE_RESET)
        return True

    def create_reset_code(
        self, email: str, ip: str | None, purpose: str = PURPOSE_RESET
    ) -> str | None:
        """A new one-time code for the account, or None if there is no such account.

        Only the code's SHA-256 is stored; the plain code is returned once, for the email."""
        account = self.find_account_by_email(email)
        if account is None:
            return None
        return self.codes.create(account, purpose, ip)

    def check_reset_code(self, code: str) -> OneTimeCode:
        """The reset or invitation code's record if it can still be used; else raises the
        reason (CodeUnknown, CodeUsed, CodeExpired)."""
        return self.codes.check(code, PASSWORD_CODE_PURPOSES)

    def check_reset_link(self, code: str) -> CodeState:
        """check_reset_code() for opening the emailed link: the verdict, and the state of
        the code it was based on (its account's address, its purpose and expiry)."""
        return self.codes.check_link(code, PASSWORD_CODE_PURPOSES)

    def use_reset_code(self, code: str, user_ip: str | None) -> OneTimeCode:
        """Spend a reset or invitation code: exactly one caller wins, even when many race
        with the same code. Raises the reason on loss."""
        return self.codes.spend(self.check_reset_code(code), user_ip)

    def reset_password(self, code: str, plain_text_password: str) -> Account:
        """Choose a new password with a code: spends it and every other open code of the
        account, ends all of its sessions, and emails a notice. Does not sign in.

        The code is checked and the password hashed before the code is spent, so the slow
        part happens outside the write lock, and a refused password keeps the code."""
        record = self.check_reset_code(code)
        account = record.account
        password_hash = self.passwords.hash_new(plain_text_password, account.email)
        self.use_reset_code(code, self.context.ip)
        now = self.clock.now()
        account.password_hash = password_hash
        account.password_changed_at = now
        account.password_breached_at = None
        if account.email_verified_at is None:
            # The link came by email: using it proves the mailbox.
            account.email_verified_at = now
        self.codes.spend_open(account.id)
        self.login_sessions.revoke_all(account.id)
        if record.purpose == PURPOSE_INVITE:
            # The owner has only just chosen the first password: nothing to warn about.
            self.audit.record(events.INVITATION_ACCEPTED, account.id)
        else:
            self.audit.record(events.RESET_DONE, account.id)
            self.mail.password_changed(account.email, now, self.context.ip)
        # The owner is back in control: failed sign-ins by others no longer lock them out.
        self.guesses.reset_for_owner(account.email)
        self.dbsession.flush()
        return account

    def send_reset_link(self, account: Account) -> str:
        """Create a reset code and queue the email that carries it; returns the link."""
        return self.codes.send_link(account, PURPOSE_RESET)

    def send_invitation(self, account: Account) -> str:
        """Email an invitation link to choose a password; returns the link."""
        return self.codes.send_link(account, PURPOSE_INVITE)

    def create_invitation_link(self, account: Account) -> str:
        """A link to choose a password, not emailed (app-create-admin prints it)."""
        code = self.create_reset_code(account.email, self.context.ip, purpose=PURPOSE_INVITE)
        assert code is not None
        return self.codes.link(PURPOSE_INVITE, code)

    def spend_open_codes(self, account_id: int) -> int:
        """Spend every unused code of the account, "this wasn't me" and undo links too."""
        return self.codes.spend_open(account_id, code_purposes.EVERY_PURPOSE)
