"""Moving an account to another email address: asked for with the current password,
confirmed from a link sent to the new address, told to the old one.

Asking answers the same whether or not the new address has an account (that address is
told someone tried, instead). On confirmation the address changes only if nobody took it
in the meantime: the unique index decides between two accounts moving to one address."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.models import (
    PURPOSE_CHANGE_EMAIL,
    PURPOSE_NOT_ME,
    PURPOSE_UNDO_EMAIL_CHANGE,
    Account,
    LoginSession,
)
from app.services.accounts.accounts import AccountService
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.email_addresses import clean_email
from app.services.kernel.errors import EmailTaken, SameEmail, WrongCurrentPassword
from app.services.kernel.statements import rows_changed
from app.services.links.one_time_codes import OneTimeCodeService
from app.services.notices.account_mail import AccountMail, masked
from app.services.passwords.guesses import PasswordGuessLimits
from app.services.passwords.passwords import Passwords
from app.services.sessions.login_sessions import LoginSessionService
from app.settings.limits import CHANGE_EMAIL_PER_ACCOUNT, CHANGE_EMAIL_PER_ADDRESS
from app.translation import _


class EmailChangeService(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        passwords: Passwords,
        accounts: AccountService,
        codes: OneTimeCodeService,
        login_sessions: LoginSessionService,
        mail: AccountMail,
        guesses: PasswordGuessLimits,
    ) -> None:
        super().__init__(context)
        self.passwords = passwords
        self.accounts = accounts
        self.codes = codes
        self.login_sessions = login_sessions
        self.mail = mail
        self.guesses = guesses

    def request(
        self,
        account: Account,
        current_password: str,
        new_email: str,
        session: LoginSession | None = None,
    ) -> None:
        """Send a confirmation link to the new address (or, if it has an account, tell it
        someone tried). Raises WrongCurrentPassword, InvalidEmail, SameEmail or
        RateLimited; the answer is otherwise the same whoever owns the new address.
        `session` is the one asking, whose device has its own allowance of guesses."""
        self.rate_limiter.hit(CHANGE_EMAIL_PER_ACCOUNT, str(account.id))
        allowance = self.guesses.allowance(account.email, account, session)
        self.guesses.count(allowance)
        matches, _ = self.passwords.verify(current_password, account.password_hash)
        if not matches:
            self.audit.record(events.EMAIL_CHANGE_FAILED, account.id)
            raise WrongCurrentPassword()
        self.guesses.succeeded(allowance)
        new_email = clean_email(new_email)
        if new_email == account.email:
            raise SameEmail()
        # Every request emails the new address, whoever asks: counted per address too, so
        # that several accounts cannot flood one mailbox (docs/security.md 55).
        self.rate_limiter.hit(CHANGE_EMAIL_PER_ADDRESS, new_email)
        if self.accounts.find_account_by_email(new_email) is not None:
            self.mail.address_in_use(new_email)
        else:
            self.codes.send_link(account, PURPOSE_CHANGE_EMAIL, new_email=new_email)
        self.audit.record(events.EMAIL_CHANGE_REQUESTED, account.id, to=masked(new_email))

    def check_code(self, code: str) -> tuple[Account, str]:
        """The account and the new address a change code is for, if it can still be used."""
        record = self.codes.check(code, (PURPOSE_CHANGE_EMAIL,))
        assert record.new_email is not None
        return record.account, record.new_email

    def check_link(self, code: str) -> None:
        self.codes.check_link(code, (PURPOSE_CHANGE_EMAIL,))

    def confirm(self, code: str, keep_session_id: int | None) -> Account:
        """Move the account to the confirmed address: its other sessions end, its open
        codes are spent, and the old address is told. Raises EmailTaken if another
        account has taken the address since the link was sent."""
        record = self.codes.check(code, (PURPOSE_CHANGE_EMAIL,))
        account, new_email = record.account, record.new_email
        assert new_email is not None
        old_email = account.email
        self.codes.spend(record, self.context.ip)
        now = self.clock.now()
        if not move_address(self.dbsession, account, old_email, new_email, now):
            raise EmailTaken(_("That address has been taken by another account meanwhile."))
        self.codes.spend_open(account.id)
        # The "this wasn't me" links went to the old address: whoever holds it now must not
        # be able to end the new owner's sessions and be sent a reset link
        # (docs/security.md 54). The old address is told of the change instead.
        self.codes.spend_open(account.id, (PURPOSE_NOT_ME,))
        self.login_sessions.revoke_all(account.id, except_id=keep_session_id)
        # The old address is told, with a link that undoes the change (for 7 days): an
        # intruder who had the password cannot keep the account by moving it.
        undo = self.codes.create(account, PURPOSE_UNDO_EMAIL_CHANGE, self.context.ip, old_email)
        undo_link = self.codes.link(PURPOSE_UNDO_EMAIL_CHANGE, undo)
        self.mail.email_changed(old_email, new_email, now, undo_link)
        self.audit.record(events.EMAIL_CHANGED, account.id, to=masked(new_email))
        self.dbsession.flush()
        return account


def move_address(
    dbsession: Session, account: Account, old_email: str, new_email: str, now: Any
) -> bool:
    """One conditional UPDATE, done only if no account has the new address. On
    SQLite writers take turns, so the condition sees every committed change; on
    PostgreSQL two moves to one address can both pass it, and the unique index stops
    the second, inside a savepoint so that the request can still say why."""
    other = aliased(Account)
    statement = (
        update(Account)
        .where(
            Account.id == account.id,
            Account.email == old_email,
            ~exists().where(other.email == new_email),
        )
        .values(email=new_email, email_verified_at=now)
        .execution_options(synchronize_session=False)
    )
    try:
        if dbsession.get_bind().dialect.name == "postgresql":
            with dbsession.begin_nested():
                changed = rows_changed(dbsession, statement)
        else:
            changed = rows_changed(dbsession, statement)
    except IntegrityError:
        return False
    dbsession.expire(account, ["email", "email_verified_at"])
    return changed == 1
