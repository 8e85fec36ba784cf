"""Telling the owner about a sign-in from a browser new to the account, and the
"this wasn't me" answer to it.

A browser is known to an account by its device cookie (known_devices.py). A sign-in
from one the account has not seen emails the owner when, which browser, from where, and
a one-time link (seven days) to say it was not them. No email for an account's first
browser (the sign-in that ends registration or an invitation, or the first after every
browser was forgotten), and at most one a minute per account: a burst of sign-ins from
new browsers is one email. Opening the link changes nothing; confirming on the page it
leads to replaces the password with one nobody knows, signs every device out, forgets
every browser, voids the account's open links, removes the second factors added since
that sign-in, and emails a reset link. The link that undoes a change of address, sent
to the old address, does the same after putting that address back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from app.models import (
    PURPOSE_NOT_ME,
    PURPOSE_RESET,
    PURPOSE_UNDO_EMAIL_CHANGE,
    Account,
    UpstreamIdentity,
    WebAuthnCredential,
)
from app.services.accounts.accounts import AccountService
from app.services.accounts.email_changes import move_address
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.errors import EmailTaken, RateLimited
from app.services.kernel.statements import rows_changed
from app.services.links.link_policy import NOT_ME_LINK_LIFETIME
from app.services.links.one_time_codes import OneTimeCodeService
from app.services.mfa.passkeys import PasskeyService
from app.services.mfa.two_factor import TwoFactorService
from app.services.notices.account_mail import AccountMail, masked
from app.services.sessions.known_devices import KnownDeviceService, RememberedDevice
from app.services.sessions.login_sessions import LoginSessionService
from app.settings.limits import NEW_DEVICE_ALERTS_PER_ACCOUNT
from app.translation import _

# At most one new-device email per account in this window.
ALERT_WINDOW = timedelta(minutes=1)


class NewDeviceAlerts(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        devices: KnownDeviceService,
        codes: OneTimeCodeService,
        mail: AccountMail,
        accounts: AccountService,
        login_sessions: LoginSessionService,
        two_factor: TwoFactorService,
        passkeys: PasskeyService,
    ) -> None:
        super().__init__(context)
        self.devices = devices
        self.codes = codes
        self.mail = mail
        self.accounts = accounts
        self.login_sessions = login_sessions
        self.two_factor = two_factor
        self.passkeys = passkeys

    def signed_in(self, account: Account) -> RememberedDevice:
        """Remember the browser that signed in (the token for its device cookie) and, if
        it is new to an account that knew others, tell the owner."""
        origin = self.context.origin
        knew_others = self.devices.knows_any(account.id)
        device = self.devices.remember(account, origin.device_token)
        if device.is_new and knew_others:
            self._alert(account)
        return device

    def _alert(self, account: Account) -> None:
        # Repeated sign-ins of one browser at one address (one that drops its cookies)
        # are one alert; another browser or address is always told of, however soon
        # after (docs/security.md 56), up to an hourly number of emails an account.
        event = self.audit.record_once_per_window(
            events.NEW_DEVICE_SIGN_IN, account.id, ALERT_WINDOW, same_origin=True
        )
        if event.details.get("repeats"):
            return  # the owner was emailed about this browser already
        try:
            self.rate_limiter.hit(NEW_DEVICE_ALERTS_PER_ACCOUNT, str(account.id))
        except RateLimited:
            return  # the owner has had this hour's alerts; the activity page lists the rest
        now = self.clock.now()
        origin = self.context.origin
        code = self.codes.create(account, PURPOSE_NOT_ME, origin.ip)
        self.mail.new_device(
            account.email,
            when=now,
            user_agent=origin.user_agent,
            ip=origin.ip,
            not_me_link=self.codes.link(PURPOSE_NOT_ME, code),
            expires_at=now + NOT_ME_LINK_LIFETIME,
        )

    # "This wasn't me"

    def check_link(self, code: str) -> None:
        self.codes.check_link(code, (PURPOSE_NOT_ME,))

    def check_code(self, code: str) -> Account:
        """The account a "this wasn't me" code is for, if it can still be used."""
        return self.codes.check(code, (PURPOSE_NOT_ME,)).account

    def report(self, code: str) -> Account:
        """The owner says the sign-in was not them: lock the intruder out and send the
        owner a link to choose a new password. Raises CodeInvalid (or RateLimited)."""
        record = self.codes.check(code, (PURPOSE_NOT_ME,))
        account = record.account
        since = record.created_at
        self.codes.spend(record, self.context.ip)
        self.accounts.void_password(account)
        self.login_sessions.revoke_all(account.id)
        self.devices.forget_all(account.id)
        # Links the intruder may have asked for (a change of address) stop working, and
        # so do the undo links of the changes of address made since that sign-in.
        self.codes.spend_open(account.id)
        self.codes.spend_undo_links_since(account.id, record)
        removed = self._remove_factors_added_since(account, since)
        self.codes.send_link(account, PURPOSE_RESET, password_voided=True)
        self.audit.record(events.NOT_ME_REPORTED, account.id, factors_removed=removed)
        return account

    # Undoing a change of address, from the link the old address was sent

    def check_undo_link(self, code: str) -> None:
        self.codes.check_link(code, (PURPOSE_UNDO_EMAIL_CHANGE,))

    def check_undo_code(self, code: str) -> tuple[Account, str]:
        """The account and the old address an undo code would put back."""
        record = self.codes.check(code, (PURPOSE_UNDO_EMAIL_CHANGE,))
        assert record.new_email is not None
        return record.account, record.new_email

    def undo_email_change(self, code: str) -> Account:
        """The old address takes the account back: the address restored, then as for
        "this wasn't me": the password replaced by one nobody knows, every device signed
        out, every browser forgotten, every open link voided, what was added since the
        change removed, and a reset link to the old address. Raises CodeInvalid, or
        EmailTaken if another account has the old address by now."""
        record = self.codes.check(code, (PURPOSE_UNDO_EMAIL_CHANGE,))
        account, old_email = record.account, record.new_email
        assert old_email is not None
        self.codes.spend(record, self.context.ip)
        moved_to = account.email
        if not move_address(self.dbsession, account, moved_to, old_email, self.clock.now()):
            raise EmailTaken(_("Another account has that address by now. Ask the administrator."))
        self.accounts.void_password(account)
        self.login_sessions.revoke_all(account.id)
        self.devices.forget_all(account.id)
        self.codes.spend_open(account.id)
        self.codes.spend_open(account.id, (PURPOSE_NOT_ME,))
        # The undo links of later changes would move it back to an address set since.
        self.codes.spend_undo_links_since(account.id, record)
        removed = self._remove_factors_added_since(account, record.created_at)
        self.codes.send_link(account, PURPOSE_RESET, password_voided=True)
        self.audit.record(
            events.EMAIL_CHANGE_UNDONE, account.id, to=masked(old_email), factors_removed=removed
        )
        return account

    def _remove_factors_added_since(self, account: Account, since: datetime) -> int:
        """Second factors set up after the reported sign-in were set up by the intruder,
        who could otherwise keep signing in (a passkey) or lock the owner out (an
        authenticator app)."""
        removed = 0
        added: list[WebAuthnCredential] = [
            p for p in self.passkeys.for_account(account.id) if p.created_at >= since
        ]
        for passkey in added:
            self.passkeys.remove(account, passkey)
            removed += 1
        if account.totp_enabled_at is not None and account.totp_enabled_at >= since:
            self.two_factor.disable_totp(account)
            removed += 1
        # So are accounts at other providers linked since: each would sign in again.
        removed += rows_changed(
            self.dbsession,
            delete(UpstreamIdentity).where(
                UpstreamIdentity.account_id == account.id, UpstreamIdentity.linked_at >= since
            ),
        )
        return removed
