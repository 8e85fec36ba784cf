"""What administrators do to accounts: list, invite, disable, enable, send links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, true, update

from app.models import Account, UpstreamIdentity
from app.services.accounts.accounts import AccountService
from app.services.accounts.administrators import other_active_administrators
from app.services.kernel import audit as events
from app.services.kernel.audit import clean_text
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.errors import AdminActionRefused
from app.services.kernel.pagination import Page, paginate
from app.services.kernel.statements import rows_changed
from app.services.mfa.passkeys import PasskeyService
from app.services.mfa.two_factor import TwoFactorService
from app.services.sessions.known_devices import KnownDeviceService
from app.services.sessions.login_sessions import LoginSessionService
from app.translation import _

PER_PAGE = 50


@dataclass(frozen=True)
class SecondFactors:
    authenticator_app: bool
    recovery_codes: int
    passkeys: list[str]


MAX_QUERY_LENGTH = 254


# The account list's orders, by name.
SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (Account.created_at.desc(), Account.id.desc()),
    "oldest": (Account.created_at.asc(), Account.id.asc()),
    "email": (Account.email.asc(),),
    "last_sign_in": (Account.last_login_at.desc().nulls_last(), Account.id.desc()),
}

# Neither disabled nor waiting to be erased.
_LIVE = and_(Account.is_disabled.is_(False), Account.deletion_requested_at.is_(None))
# What each status of account_status() is, as SQL.
STATUS_CONDITIONS: dict[str, tuple[Any, ...]] = {
    "disabled": (Account.is_disabled.is_(True),),
    "deleting": (Account.is_disabled.is_(False), Account.deletion_requested_at.is_not(None)),
    "invited": (_LIVE, Account.password_hash.is_(None)),
    "unconfirmed": (
        _LIVE,
        Account.password_hash.is_not(None),
        Account.email_verified_at.is_(None),
    ),
    "active": (
        _LIVE,
        Account.password_hash.is_not(None),
        Account.email_verified_at.is_not(None),
    ),
}


def account_status(account: Account) -> str:
    if account.is_disabled:
        return "disabled"
    if account.deletion_requested_at is not None:
        return "deleting"
    if account.password_hash is None:
        return "invited"
    if account.email_verified_at is None:
        return "unconfirmed"
    return "active"


class AccountAdminService(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        accounts: AccountService,
        login_sessions: LoginSessionService,
        devices: KnownDeviceService,
        two_factor: TwoFactorService,
        passkeys: PasskeyService,
    ) -> None:
        super().__init__(context)
        self.accounts = accounts
        self.login_sessions = login_sessions
        self.devices = devices
        self.two_factor = two_factor
        self.passkeys = passkeys

    def appoint_administrator(self, email: str) -> tuple[Account, bool]:
        """What app-create-admin does: a new administrator account without a password, or
        an existing account made an administrator (and enabled); (account, created).

        An existing account gets nothing from whoever held it before: its password,
        passkeys, authenticator app and links to other providers go, its sessions end,
        its open codes are spent and no browser stays known.
        Only the one-time link printed next makes it usable, so an address registered by
        someone else in advance cannot turn into their administrator account."""
        account = self.accounts.find_account_by_email(email)
        if account is None:
            account = self.accounts.create_account(email, None, is_admin=True)
            self.audit.record(events.ADMINISTRATOR_APPOINTED, account.id, existing=False)
            return account, True
        account.is_admin = True
        account.is_disabled = False
        account.password_hash = None
        account.password_changed_at = None
        # Nor any other way in it had: passkeys, an authenticator app (which would lock
        # the new administrator out), accounts at other providers.
        self.passkeys.remove_all(account)
        if self.two_factor.has_totp(account):
            self.two_factor.disable_totp(account)
        rows_changed(
            self.dbsession,
            delete(UpstreamIdentity).where(UpstreamIdentity.account_id == account.id),
        )
        self.accounts.spend_open_codes(account.id)
        self.login_sessions.revoke_all(account.id)
        self.devices.forget_all(account.id)
        self.audit.record(events.ADMINISTRATOR_APPOINTED, account.id, existing=True)
        self.dbsession.flush()
        return account, False

    @staticmethod
    def clean_query(query: str) -> str:
        """A search as it is applied: printable, trimmed, lower-cased, bounded."""
        return (clean_text(query, MAX_QUERY_LENGTH) or "").strip().lower()

    def list_accounts(
        self,
        query: str = "",
        page: int = 1,
        per_page: int = PER_PAGE,
        status: str | None = None,
        sort: str = "newest",
    ) -> Page[Account]:
        """Accounts whose email contains `query` (or whose id it is), of one status if
        asked, in the order asked (see SORTS), one page at a time."""
        query = self.clean_query(query)
        statement = select(Account).order_by(*SORTS.get(sort, SORTS["newest"]))
        if query:
            # Escape LIKE's wildcards, so a search for "a_b" means that text.
            escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            matches: ColumnElement[bool] = Account.email.like(f"%{escaped}%", escape="\\")
            digits = query.lstrip("#")
            if digits.isdigit() and len(digits) <= 9:
                matches = or_(matches, Account.id == int(digits))
            statement = statement.where(matches)
        if status in STATUS_CONDITIONS:
            statement = statement.where(*STATUS_CONDITIONS[status])
        return paginate(self.dbsession, statement, page, per_page)

    def emails_by_id(self, ids: set[int]) -> dict[int, str]:
        """The addresses of these accounts (those that still exist), by id: who did
        what on an account's activity."""
        if not ids:
            return {}
        rows = self.dbsession.execute(select(Account.id, Account.email).where(Account.id.in_(ids)))
        return {account_id: email for account_id, email in rows}

    def invite(self, email: str, is_admin: bool, actor: Account) -> Account:
        """Create an account without a password and email it an invitation to choose one.
        Raises EmailTaken for an address that already has an account."""
        account = self.accounts.create_account(email, None, is_admin=is_admin)
        self.dbsession.flush()
        self.accounts.send_invitation(account)
        self.audit.record(
            events.ADMIN_CREATED_ACCOUNT, account.id, actor_id=actor.id, is_admin=is_admin
        )
        return account

    def resend_invitation(self, account: Account, actor: Account) -> None:
        if account.password_hash is not None:
            raise AdminActionRefused(
                _("This account has already chosen a password."), code="already_has_password"
            )
        if account.is_disabled:
            raise AdminActionRefused(
                _("Enable the account before inviting it again."), code="enable_first"
            )
        self.accounts.send_invitation(account)
        self.audit.record(events.ADMIN_SENT_INVITATION, account.id, actor_id=actor.id)

    def disable(self, account: Account, actor: Account) -> None:
        """Disable an account: its sessions end and its open codes are spent at once.

        The last active administrator cannot be disabled, even by two administrators
        disabling each other at the same moment: the active administrators' rows are
        locked first (PostgreSQL; SQLite has one writer at a time), and the UPDATE counts
        the others again under that lock, so the second of the two finds none left."""
        if account.id == actor.id:
            raise AdminActionRefused(
                _("You cannot disable your own account."), code="cannot_disable_yourself"
            )
        other_admins = self._other_active_administrators(account)
        changed = rows_changed(
            self.dbsession,
            update(Account)
            .where(Account.id == account.id, or_(Account.is_admin.is_(False), other_admins > 0))
            .values(is_disabled=True)
            .execution_options(synchronize_session=False),
        )
        self.dbsession.expire(account, ["is_disabled"])
        if changed != 1:
            raise AdminActionRefused(
                _("The last active administrator cannot be disabled."), code="last_administrator"
            )
        self.accounts.spend_open_codes(account.id)
        self.login_sessions.revoke_all(account.id)
        self.audit.record(events.ADMIN_DISABLED, account.id, actor_id=actor.id)

    def _other_active_administrators(self, account: Account) -> Any:
        return other_active_administrators(self.dbsession, account.id)

    def set_role(self, account: Account, is_admin: bool, actor: Account) -> bool:
        """Make the account an administrator, or take the role back; False if it had
        that role already. The last active administrator keeps it. The owner is told."""
        if account.is_admin == is_admin:
            return False
        condition: Any = true()
        if not is_admin:
            condition = or_(
                Account.is_disabled.is_(True), self._other_active_administrators(account) > 0
            )
        changed = rows_changed(
            self.dbsession,
            update(Account)
            .where(Account.id == account.id, Account.is_admin.is_(not is_admin), condition)
            .values(is_admin=is_admin)
            .execution_options(synchronize_session=False),
        )
        self.dbsession.expire(account, ["is_admin"])
        if changed != 1:
            raise AdminActionRefused(
                _("The last active administrator keeps the role."), code="last_administrator"
            )
        self.audit.record(
            events.ADMIN_ROLE_CHANGED, account.id, actor_id=actor.id, is_admin=is_admin
        )
        self.accounts.mail.role_changed(account.email, is_admin, self.clock.now())
        return True

    def enable(self, account: Account, actor: Account) -> None:
        account.is_disabled = False
        self.dbsession.flush()
        self.audit.record(events.ADMIN_ENABLED, account.id, actor_id=actor.id)

    def second_factors(self, account: Account) -> SecondFactors:
        """What the account's second factors are, as the confirmation page lists them."""
        return SecondFactors(
            authenticator_app=self.two_factor.has_totp(account),
            recovery_codes=self.two_factor.recovery_codes_left(account.id),
            passkeys=[passkey.name for passkey in self.passkeys.for_account(account.id)],
        )

    def remove_two_factor(self, account: Account, actor: Account) -> SecondFactors:
        """Turn off an account's second factors (the authenticator app, its recovery
        codes and the passkeys), for an owner who lost them: recorded as the
        administrator's, and told to the owner in one email that says an administrator
        did it and whom to ask. Returns what was removed."""
        if not self.two_factor.has_second_factor(account):
            raise AdminActionRefused(
                _("This account has no second factor to remove."), code="no_second_factor"
            )
        removed = self.second_factors(account)
        if removed.authenticator_app:
            self.two_factor.disable_totp(account, by_admin_id=actor.id)
        self.passkeys.remove_all(account, by_admin_id=actor.id)
        self.accounts.mail.second_factors_removed_by_admin(
            account.email, removed.authenticator_app, removed.passkeys, self.clock.now()
        )
        return removed

    def send_reset(self, account: Account, actor: Account) -> None:
        if account.is_disabled:
            raise AdminActionRefused(
                _("Enable the account before sending it a reset link."), code="enable_first"
            )
        if account.password_hash is None:
            self.resend_invitation(account, actor)
            return
        self.accounts.send_reset_link(account)
        self.audit.record(events.ADMIN_SENT_RESET, account.id, actor_id=actor.id)
