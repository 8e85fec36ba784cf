"""Which accounts at other providers are linked to which local accounts: found by the
provider's subject (never by address), linked only with the local account's own proof,
unlinked unless it is the last way in; the owner told of each change. An account made
for someone new who came from a provider is made here too, its address the one the
provider verified."""

from __future__ import annotations

from sqlalchemy import delete, exists, or_, select

from app.models import Account, UpstreamIdentity, WebAuthnCredential
from app.services.accounts.accounts import AccountService
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.email_addresses import clean_email
from app.services.kernel.errors import (
    EmailTaken,
    InvalidEmail,
    LastWayIn,
    UpstreamAddressUnverified,
    UpstreamIdentityInUse,
    UpstreamLinkUnknown,
    UpstreamRegistrationClosed,
)
from app.services.kernel.statements import insert_unless_present, rows_changed
from app.services.mfa.passkeys import PasskeyService
from app.services.notices.account_mail import AccountMail
from app.services.upstream.journeys import UpstreamAnswer


class UpstreamLinks(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        accounts: AccountService,
        passkeys: PasskeyService,
        mail: AccountMail,
        labels: dict[str, str],
        *,
        allow_registration: bool,
    ) -> None:
        super().__init__(context)
        self.accounts = accounts
        self.passkeys = passkeys
        self.mail = mail
        # Each configured provider's name, and the label people know it by.
        self.labels = labels
        self.allow_registration = allow_registration

    def label(self, provider: str) -> str:
        return self.labels.get(provider, provider)

    # Finding

    def linked_account(self, answer: UpstreamAnswer) -> Account | None:
        """The local account this provider's subject is linked to, if any (its use
        noted)."""
        link = self.dbsession.scalar(
            select(UpstreamIdentity).where(
                UpstreamIdentity.provider == answer.provider,
                UpstreamIdentity.subject == answer.subject,
            )
        )
        if link is None:
            return None
        link.last_used_at = self.clock.now()
        return self.accounts.find_account_by_id(link.account_id)

    def account_with_address(self, answer: UpstreamAnswer) -> Account | None:
        """The local account whose address the provider verified, if any: it is never
        linked by this alone (its owner proves it first). An address the provider does
        not vouch for finds nothing: UpstreamAddressUnverified."""
        email = self._verified_address(answer)
        return self.accounts.find_account_by_email(email)

    def links_of(self, account: Account) -> list[UpstreamIdentity]:
        return list(
            self.dbsession.scalars(
                select(UpstreamIdentity)
                .where(UpstreamIdentity.account_id == account.id)
                .order_by(UpstreamIdentity.linked_at, UpstreamIdentity.id)
            )
        )

    # Changing

    def link(self, account: Account, answer: UpstreamAnswer) -> UpstreamIdentity:
        """Link the provider's account to this one, whose owner has just proved it.
        Linked to it already: nothing changes. Linked to another account (or linked
        there by a request racing this one): UpstreamIdentityInUse."""
        values = {
            "account_id": account.id,
            "provider": answer.provider,
            "subject": answer.subject,
            "email": answer.email[:254] if answer.email else None,
            "linked_at": self.clock.now(),
        }
        columns = [UpstreamIdentity.provider, UpstreamIdentity.subject]
        link_id = insert_unless_present(self.dbsession, UpstreamIdentity, values, columns)
        if link_id is None:
            existing = self.dbsession.scalar(
                select(UpstreamIdentity).where(
                    UpstreamIdentity.provider == answer.provider,
                    UpstreamIdentity.subject == answer.subject,
                )
            )
            if existing is None or existing.account_id != account.id:
                raise UpstreamIdentityInUse(self.label(answer.provider))
            return existing
        link = self.dbsession.get(UpstreamIdentity, link_id)
        assert link is not None
        self.audit.record(events.UPSTREAM_LINKED, account.id, provider=answer.provider)
        self.mail.upstream_changed(
            account.email, "linked", self.label(answer.provider), self.clock.now()
        )
        return link

    def unlink(self, account: Account, link_id: int) -> None:
        """Remove one of the account's links, unless nothing else would sign in: no
        password, no passkey and no other link (LastWayIn). Decided by one conditional
        DELETE, after the account's row is locked (PostgreSQL), so that two unlinks at
        once cannot each leave the other as the last way in and both go."""
        link = self.dbsession.get(UpstreamIdentity, link_id)
        if link is None or link.account_id != account.id:
            raise UpstreamLinkUnknown()
        provider = link.provider
        self.dbsession.execute(select(Account.id).where(Account.id == account.id).with_for_update())
        another_way_in = or_(
            exists().where(
                UpstreamIdentity.account_id == account.id, UpstreamIdentity.id != link_id
            ),
            exists().where(WebAuthnCredential.account_id == account.id),
            exists().where(Account.id == account.id, Account.password_hash.is_not(None)),
        )
        deleted = rows_changed(
            self.dbsession,
            delete(UpstreamIdentity)
            .where(UpstreamIdentity.id == link_id, another_way_in)
            .execution_options(synchronize_session=False),
        )
        if deleted != 1:
            raise LastWayIn()
        self.dbsession.expunge(link)
        self.audit.record(events.UPSTREAM_UNLINKED, account.id, provider=provider)
        self.mail.upstream_changed(
            account.email, "unlinked", self.label(provider), self.clock.now()
        )

    def create_account(self, answer: UpstreamAnswer) -> Account:
        """An account for someone new, at the address the provider verified (confirmed
        by that), with no password yet, linked to the provider's account. Refused when
        registration is closed, or when the address has an account by now (EmailTaken:
        its owner proves it instead)."""
        if not self.allow_registration:
            raise UpstreamRegistrationClosed()
        email = self._verified_address(answer)
        now = self.clock.now()
        values = {
            "email": email,
            "password_hash": None,
            "is_admin": False,
            "is_disabled": False,
            "created_at": now,
            "email_verified_at": now,
            "login_count": 0,
        }
        # One savepoint: an account whose link fails (the subject linked meanwhile to
        # another account) is not kept without any way in.
        with self.dbsession.begin_nested():
            account_id = insert_unless_present(self.dbsession, Account, values, [Account.email])
            if account_id is None:
                raise EmailTaken()
            account = self.accounts.find_account_by_id(account_id)
            assert account is not None
            self.link(account, answer)
        self.audit.record(events.REGISTERED, account.id, provider=answer.provider)
        return account

    def _verified_address(self, answer: UpstreamAnswer) -> str:
        email = answer.verified_email
        if email is None:
            raise UpstreamAddressUnverified(self.label(answer.provider))
        try:
            return clean_email(email)
        except InvalidEmail:
            raise UpstreamAddressUnverified(self.label(answer.provider)) from None
