"""Deleting an account (docs/security.md 71): its owner asks after a recent sign-in,
every session ends at once, and during the grace period (accounts.deletion_grace_days)
nothing signs in while the emailed restore link can bring it back. Then the account is
erased: its rows go, its events keep no address, IP or user agent, and the goodbye email
is the last outbox row to hold the address, deleted once it is sent. An administrator's
deletion erases at once.

Races end in one state. Asking for deletion and counting a sign-in are conditional
UPDATEs of the account's row, so a sign-in that completes first has its session ended
by the deletion, and one that completes after finds the account closing. Restoring
(an UPDATE of the row) and erasing (which locks the row first) take the same lock: the
second finds the account back, or gone."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from app.models import PURPOSE_RESTORE, Account, AccountEvent, OneTimeCode, OutgoingEmail
from app.services.accounts.accounts import AccountService
from app.services.accounts.administrators import other_active_administrators
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.errors import CodeExpired, CodeUsed
from app.services.kernel.lifecycle_errors import DeletionRefused
from app.services.kernel.statements import rows_changed
from app.services.links.one_time_codes import OneTimeCodeService
from app.services.notices.account_mail import AccountMail
from app.services.sessions.login_sessions import LoginSessionService

# Accounts erased by one run of the housekeeping at most (each in its own transaction).
ERASED_PER_RUN = 100


class AccountDeletion(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        accounts: AccountService,
        codes: OneTimeCodeService,
        login_sessions: LoginSessionService,
        mail: AccountMail,
        grace: timedelta,
    ) -> None:
        super().__init__(context)
        self.accounts = accounts
        self.codes = codes
        self.login_sessions = login_sessions
        self.mail = mail
        self.grace = grace

    def erase_at(self, account: Account) -> datetime | None:
        """When an account waiting to be erased goes; None if it is not waiting."""
        if account.deletion_requested_at is None:
            return None
        return account.deletion_requested_at + self.grace

    def is_last_administrator(self, account: Account) -> bool:
        """Whether deleting the account would leave the site with no active administrator
        (told on the page before the owner tries)."""
        if not account.is_admin:
            return False
        others = other_active_administrators(self.dbsession, account.id)
        return self.dbsession.scalar(select(others)) == 0

    def request(self, account: Account) -> datetime | None:
        """The owner deletes the account: every session ends (and every application
        holding tokens of one is told), every emailed link stops working, and the
        restore link is emailed. Returns when it will be erased; None when there is no
        grace period and it was erased now. Raises DeletionRefused for the last active
        administrator."""
        now = self.clock.now()
        changed = rows_changed(
            self.dbsession,
            update(Account)
            .where(
                Account.id == account.id,
                Account.deletion_requested_at.is_(None),
                or_(
                    Account.is_admin.is_(False),
                    other_active_administrators(self.dbsession, account.id) > 0,
                ),
            )
            .values(deletion_requested_at=now)
            .execution_options(synchronize_session=False),
        )
        self.dbsession.expire(account, ["deletion_requested_at"])
        if changed != 1:
            raise DeletionRefused()
        self.accounts.spend_open_codes(account.id)
        self.login_sessions.revoke_all(account.id)
        self.audit.record(events.DELETION_REQUESTED, account.id)
        if not self.grace:
            self.erase(account.id)
            return None
        self.codes.send_link(account, PURPOSE_RESTORE)
        return now + self.grace

    # Restoring

    def check_restore_link(self, code: str) -> None:
        """Whether an emailed restore link can be used (raises why not)."""
        self.codes.check_link(code, (PURPOSE_RESTORE,))

    def check_restore_code(self, code: str) -> Account:
        """The account a restore code would bring back (raises why it would not)."""
        return self.codes.check(code, (PURPOSE_RESTORE,)).account

    def restore(self, code: str) -> Account:
        """Bring the account back with its restore link: it may sign in again. Of two
        restores at once, one wins (the other finds the link used); a restore that loses
        to the erasure finds the link expired."""
        record = self.codes.check(code, (PURPOSE_RESTORE,))
        account_id = record.account_id
        changed = rows_changed(
            self.dbsession,
            update(Account)
            .where(Account.id == account_id, Account.deletion_requested_at.is_not(None))
            .values(deletion_requested_at=None)
            .execution_options(synchronize_session=False),
        )
        if changed != 1:
            # Erased meanwhile (the link went with it), or restored by the other request.
            still_there = select(Account.id).where(Account.id == account_id)
            raise CodeExpired() if self.dbsession.scalar(still_there) is None else CodeUsed()
        self.codes.spend(record, self.context.ip)
        account = record.account
        self.dbsession.expire(account, ["deletion_requested_at"])
        self.audit.record(events.ACCOUNT_RESTORED, account_id)
        return account

    # Erasing

    def due(self) -> list[int]:
        """The accounts whose grace period is over, oldest first."""
        cutoff = self.clock.now() - self.grace
        return list(
            self.dbsession.scalars(
                select(Account.id)
                .where(Account.deletion_requested_at <= cutoff)
                .order_by(Account.deletion_requested_at)
                .limit(ERASED_PER_RUN)
            )
        )

    def erase(self, account_id: int, *, due_only: bool = False, by: Account | None = None) -> bool:
        """Erase the account (if it is still due, with `due_only`: it may have been
        restored meanwhile); False if there was nothing to erase. `by`: the
        administrator who deleted it, whom the goodbye names."""
        conditions = [Account.id == account_id]
        if due_only:
            conditions.append(Account.deletion_requested_at <= self.clock.now() - self.grace)
        # The row is claimed by a conditional UPDATE before anything is read: it waits
        # for a restore under way to commit and then sees it, on PostgreSQL (the row's
        # lock) and on SQLite (the write lock, which a SELECT ... FOR UPDATE would not
        # take: a restore could commit between that read and the first write).
        claimed = rows_changed(
            self.dbsession,
            update(Account)
            .where(*conditions)
            .values(deletion_requested_at=Account.deletion_requested_at)
            .execution_options(synchronize_session=False),
        )
        if claimed != 1:
            return False
        account = self.dbsession.scalars(
            select(Account)
            .where(Account.id == account_id)
            .execution_options(populate_existing=True)
        ).one()
        # The addresses it had: its own, and those of its changes of address that no
        # other account holds now.
        addresses = {account.email} | set(
            self.dbsession.scalars(
                select(OneTimeCode.new_email).where(
                    OneTimeCode.account_id == account_id,
                    OneTimeCode.new_email.is_not(None),
                    OneTimeCode.new_email.not_in(
                        select(Account.email).where(Account.id != account_id)
                    ),
                )
            )
        )
        anonymous = {"ip": None, "user_agent": None}
        self.dbsession.execute(
            update(AccountEvent)
            .where(AccountEvent.account_id == account_id)
            .values(**anonymous, details={})
            .execution_options(synchronize_session=False)
        )
        # What it did as an administrator stays in the others' trails, without its origin,
        # as the doing of an administrator since erased.
        for acted in self.dbsession.scalars(
            select(AccountEvent).where(AccountEvent.actor_id == account_id)
        ):
            acted.ip = acted.user_agent = None
            acted.details = {**(acted.details or {}), "actor_erased": True}
        self.dbsession.execute(
            delete(OutgoingEmail)
            .where(OutgoingEmail.recipient.in_(addresses))
            .execution_options(synchronize_session=False)
        )
        # Queued while the account still names the recipient's language.
        self.mail.account_erased(account.email, by_administrator=by is not None)
        self.dbsession.expunge(account)
        self.dbsession.execute(
            delete(Account)
            .where(Account.id == account_id)
            .execution_options(synchronize_session=False)
        )
        erased = self.audit.record(
            events.ACCOUNT_ERASED, None, actor_id=by.id if by is not None else None
        )
        if by is None:
            # The owner's own address is not kept even for this line.
            erased.ip = erased.user_agent = None
        self.dbsession.flush()
        return True
