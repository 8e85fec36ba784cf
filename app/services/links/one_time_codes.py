"""One-time codes sent by email: made, checked and spent the same way for every purpose.

A code is 256 random bits; only its SHA-256 is stored. Spending one is a single
conditional UPDATE, so when requests race with the same code exactly one wins. Every
code that is presented and refused counts against the client's limit on bad codes."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine, bindparam, select, update

from app.models import PURPOSE_NOT_ME, PURPOSE_UNDO_EMAIL_CHANGE, Account, OneTimeCode
from app.services.kernel import audit as events
from app.services.kernel.codes import digest, new_code
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.errors import CodeExpired, CodeInvalid, CodeUnknown, CodeUsed
from app.services.kernel.statements import rows_changed
from app.services.links.link_policy import FRONTEND_PATHS, LINK_PATHS, CodePolicy
from app.services.notices.account_mail import AccountMail
from app.settings.limits import BAD_CODE_PER_IP

log = logging.getLogger(__name__)

# Codes longer than this cannot be ours; refusing them early keeps a megabyte of text
# away from hashing and the database.
MAX_CODE_LENGTH = 100

# Codes refused again and again are one event per account (or address) in this window.
BAD_CODE_EVENT_WINDOW = timedelta(minutes=5)


class CodeState(NamedTuple):
    """What decides whether a code can still be used."""

    account_id: int
    purpose: str
    used_at: datetime | None
    expires_at: datetime
    account_disabled: bool
    email: str


_codes = OneTimeCode.__table__
_accounts = Account.__table__
# One prebuilt Core query for opening an emailed link, the hot path of every flow that
# starts with one: the same answer as loading the code and its account through the ORM,
# for less work.
_CODE_STATE = (
    select(
        _codes.c.account_id,
        _codes.c.purpose,
        _codes.c.used_at,
        _codes.c.expires_at,
        _accounts.c.is_disabled,
        _accounts.c.email,
    )
    .join_from(_codes, _accounts, _codes.c.account_id == _accounts.c.id)
    .where(_codes.c.code_hash == bindparam("code_hash"))
)


class OneTimeCodeService(ContextService):
    def __init__(self, context: ServiceContext, mail: AccountMail, policy: CodePolicy) -> None:
        super().__init__(context)
        self.mail = mail
        self.policy = policy
        # Codes already checked in this request, by digest: a form that checks the code
        # before the action that spends it reads it once.
        self._checked: dict[str, OneTimeCode] = {}

    # Making and sending

    def create(
        self,
        account: Account,
        purpose: str,
        created_ip: str | None,
        new_email: str | None = None,
    ) -> str:
        """A new code for the account; only its SHA-256 is stored, the code is returned
        once, for the email. A change of address names the new one."""
        now = self.clock.now()
        code = new_code()
        self.dbsession.add(
            OneTimeCode(
                account_id=account.id,
                purpose=purpose,
                code_hash=digest(code),
                created_at=now,
                expires_at=now + self.policy.lifetime(purpose),
                created_ip=created_ip,
                new_email=new_email,
            )
        )
        self.dbsession.flush()
        return code

    def link(self, purpose: str, code: str) -> str:
        """The emailed link: always built from app.base_url (or api.frontend_url), never
        from the request."""
        if self.policy.frontend_url and purpose in FRONTEND_PATHS:
            return f"{self.policy.frontend_url}{FRONTEND_PATHS[purpose]}{code}"
        return f"{self.policy.base_url}{LINK_PATHS[purpose]}{code}"

    def send_link(
        self,
        account: Account,
        purpose: str,
        new_email: str | None = None,
        password_voided: bool = False,
    ) -> str:
        """Make a code and queue the email that carries its link (to the new address, for
        a change of address); returns the link. A reset link sent because the password
        was just voided says so."""
        code = self.create(account, purpose, self.context.ip, new_email)
        link = self.link(purpose, code)
        lifetime = self.policy.lifetime(purpose)
        minutes = int(lifetime.total_seconds() // 60)
        recipient = new_email or account.email
        expires = self.clock.now() + lifetime
        self.mail.link(recipient, purpose, link, minutes, expires, password_voided)
        if self.policy.log_links:
            log.info("Development only: %s link for account %s: %s", purpose, account.id, link)
        return link

    # Checking

    def check(self, code: str, purposes: Collection[str]) -> OneTimeCode:
        """The code's record if it can still be used for one of these purposes; else
        raises why not (CodeUnknown, CodeUsed, CodeExpired) or RateLimited."""
        key = digest(code) if code and len(code) <= MAX_CODE_LENGTH else None
        if key is not None and key in self._checked:
            return self._checked[key]
        self.rate_limiter.check(BAD_CODE_PER_IP, self.context.address_key)
        record = None
        if key is not None:
            record = self.dbsession.scalars(
                select(OneTimeCode).where(OneTimeCode.code_hash == key)
            ).first()
        state = None
        if record is not None:
            state = CodeState(
                record.account_id,
                record.purpose,
                record.used_at,
                record.expires_at,
                record.account.is_disabled,
                record.account.email,
            )
        self._refuse_unusable(state, purposes)
        assert record is not None and key is not None
        self._checked[key] = record
        return record

    def check_link(self, code: str, purposes: Collection[str]) -> CodeState:
        """check() for opening an emailed link, where only the verdict is needed: raises
        the same reasons, and loads nothing into the session; returns what it read."""
        self.rate_limiter.check(BAD_CODE_PER_IP, self.context.address_key)
        state = None
        if code and len(code) <= MAX_CODE_LENGTH:
            # A read that needs nothing of the request's transaction: a pooled connection
            # of its own spares the session's bookkeeping, the costliest part of it.
            engine = self.dbsession.get_bind()
            assert isinstance(engine, Engine)
            with engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    # Spares PostgreSQL the BEGIN and ROLLBACK round trips. (SQLite
                    # starts no transaction for a SELECT, and switching modes costs it.)
                    connection.execution_options(isolation_level="AUTOCOMMIT")
                row = connection.execute(_CODE_STATE, {"code_hash": digest(code)}).first()
            state = CodeState(*row) if row is not None else None
        self._refuse_unusable(state, purposes)
        assert state is not None
        return state

    def _refuse_unusable(self, state: CodeState | None, purposes: Collection[str]) -> None:
        """Raises why a code cannot be used (recording it, and counting it against the
        client's bad-code limit), if it cannot."""
        error: CodeInvalid | None = None
        if state is None or state.account_disabled or state.purpose not in purposes:
            kind, error = events.CODE_UNKNOWN, CodeUnknown()
        elif state.used_at is not None:
            kind, error = events.CODE_USED, CodeUsed()
        elif state.expires_at <= self.clock.now():
            kind, error = events.CODE_EXPIRED, CodeExpired()
        if error is not None:
            details: dict[str, Any] = {} if state is None else {"purpose": state.purpose}
            account_id = state.account_id if state is not None else None
            self.audit.record_once_per_window(kind, account_id, BAD_CODE_EVENT_WINDOW, **details)
            self.rate_limiter.hit(BAD_CODE_PER_IP, self.context.address_key)
            raise error

    # Spending

    def spend(self, record: OneTimeCode, used_ip: str | None) -> OneTimeCode:
        """Spend a checked code: exactly one caller wins, even when many race with it.

        The check and the spending are one conditional UPDATE, so the database decides
        the race; on SQLite writers are serialized, on PostgreSQL the losers wait for the
        winner's row lock and then see used_at set. Raises the reason on loss."""
        now = self.clock.now()
        changed = rows_changed(
            self.dbsession,
            update(OneTimeCode)
            .where(
                OneTimeCode.id == record.id,
                OneTimeCode.used_at.is_(None),
                OneTimeCode.expires_at > now,
            )
            .values(used_at=now, used_ip=used_ip)
            .execution_options(synchronize_session=False),
        )
        self._checked.pop(record.code_hash, None)
        if changed != 1:
            self.dbsession.refresh(record)
            if record.used_at is None:
                # Not taken by anyone: it ran out while the new password was hashed.
                self.audit.record(events.CODE_EXPIRED, record.account_id, purpose=record.purpose)
                raise CodeExpired()
            self.audit.record(events.CODE_USED, record.account_id, purpose=record.purpose)
            raise CodeUsed()
        self.dbsession.expire(record)
        return record

    def spend_open(self, account_id: int, purposes: Collection[str] | None = None) -> int:
        """Mark the account's unused codes of these purposes used, so none of them works
        any more. Without purposes: every one but the "this wasn't me" links and the
        links that undo a change of address, which must outlive whatever is done by
        whoever signed in (a password change, a reset, another change of address)."""
        # Records checked earlier in this unit of work would now be out of date.
        self._checked.clear()
        if purposes is None:
            which = OneTimeCode.purpose.not_in((PURPOSE_NOT_ME, PURPOSE_UNDO_EMAIL_CHANGE))
        else:
            which = OneTimeCode.purpose.in_(purposes)
        return rows_changed(
            self.dbsession,
            update(OneTimeCode)
            .where(
                OneTimeCode.account_id == account_id,
                OneTimeCode.used_at.is_(None),
                which,
            )
            .values(used_at=self.clock.now())
            .execution_options(synchronize_session=False),
        )

    def spend_undo_links_since(self, account_id: int, first: OneTimeCode) -> int:
        """Spend the links undoing the changes of address made since the code `first`: the
        addresses moved to since then (an intruder's) cannot take the account again."""
        self._checked.clear()
        return rows_changed(
            self.dbsession,
            update(OneTimeCode)
            .where(
                OneTimeCode.account_id == account_id,
                OneTimeCode.used_at.is_(None),
                OneTimeCode.purpose == PURPOSE_UNDO_EMAIL_CHANGE,
                OneTimeCode.id > first.id,
            )
            .values(used_at=self.clock.now())
            .execution_options(synchronize_session=False),
        )
