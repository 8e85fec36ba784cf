"""Registering an address, and confirming it from the emailed link.

Registration answers the same, does the same work and takes the same time whether or not
the address has an account: a new address gets a confirmation link, an address that has
an account gets an email telling its owner, and nothing about that account changes.
Confirming asks for the password chosen at registration, so that whoever registered
someone else's address cannot have its owner confirm it for them by clicking a link."""

from __future__ import annotations

from app.models import PURPOSE_VERIFY_EMAIL, Account
from app.services.accounts.accounts import AccountService
from app.services.accounts.profile import clean_display_name
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.email_addresses import clean_email
from app.services.kernel.errors import CodeUsed, RateLimited, WrongRegistrationPassword
from app.services.kernel.statements import insert_unless_present
from app.services.links.one_time_codes import OneTimeCodeService
from app.services.notices.account_mail import AccountMail
from app.services.passwords.guesses import PasswordGuessLimits
from app.services.passwords.passwords import Passwords
from app.settings.limits import CONFIRMATION_PER_ACCOUNT, REGISTER_PER_EMAIL, REGISTER_PER_IP


class RegistrationService(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        passwords: Passwords,
        accounts: AccountService,
        codes: OneTimeCodeService,
        mail: AccountMail,
        guesses: PasswordGuessLimits,
    ) -> None:
        super().__init__(context)
        self.passwords = passwords
        self.accounts = accounts
        self.codes = codes
        self.mail = mail
        self.guesses = guesses

    def register(
        self, email: str, plain_text_password: str, display_name: str | None = None
    ) -> None:
        """Register an address, or tell its owner that someone tried to.

        Limited per IP and per address before any costly work; then the password is
        checked against the policy and hashed in both cases, so that neither the answer
        nor its timing says whether the address has an account. The name is given only
        to a new account. Raises InvalidEmail, PasswordRejected, DisplayNameRefused or
        RateLimited, the same for new and existing addresses."""
        self.rate_limiter.hit(REGISTER_PER_IP, self.context.address_key)
        email = clean_email(email)
        name = clean_display_name(display_name or "")
        self.rate_limiter.hit(REGISTER_PER_EMAIL, email)
        password_hash = self.passwords.hash_new(plain_text_password, email)
        now = self.clock.now()
        values = {
            "email": email,
            "password_hash": password_hash,
            "password_changed_at": now,
            "is_admin": False,
            "is_disabled": False,
            "created_at": now,
            "login_count": 0,
            "display_name": name,
        }
        account_id = insert_unless_present(self.dbsession, Account, values, [Account.email])
        if account_id is None:
            existing = self.accounts.find_account_by_email(email)
            self.mail.registration_attempt(email)
            self.audit.record(events.REGISTRATION_ATTEMPT, existing.id if existing else None)
            return
        account = self.dbsession.get(Account, account_id)
        assert account is not None
        self.audit.record(events.REGISTERED, account.id)
        self.codes.send_link(account, PURPOSE_VERIFY_EMAIL)

    def check_confirmation_code(self, code: str) -> Account:
        """The account a confirmation code is for, if the code can still be used."""
        return self.codes.check(code, (PURPOSE_VERIFY_EMAIL,)).account

    def check_confirmation_link(self, code: str) -> None:
        self.codes.check_link(code, (PURPOSE_VERIFY_EMAIL,))

    def confirm(self, code: str, plain_text_password: str) -> Account:
        """Confirm the address with the emailed code and the password chosen at
        registration (guesses limited as at sign-in); the code is spent."""
        record = self.codes.check(code, (PURPOSE_VERIFY_EMAIL,))
        account = record.account
        allowance = self.guesses.allowance(account.email, account)
        self.guesses.count(allowance)
        matches, _ = self.passwords.verify(plain_text_password, account.password_hash)
        if not matches:
            self.audit.record(events.EMAIL_CONFIRMATION_FAILED, account.id)
            raise WrongRegistrationPassword()
        self.codes.spend(record, self.context.ip)
        if account.email_verified_at is not None:
            # Confirmed already, with another link: this one confirms nothing, and must
            # not start a session (docs/security.md 53).
            self.audit.record(events.CODE_USED, account.id, purpose=PURPOSE_VERIFY_EMAIL)
            raise CodeUsed()
        account.email_verified_at = self.clock.now()
        # Every other confirmation link of the account is spent with this one.
        self.codes.spend_open(account.id, (PURPOSE_VERIFY_EMAIL,))
        self.audit.record(events.EMAIL_CONFIRMED, account.id)
        self.guesses.succeeded(allowance)
        self.dbsession.flush()
        return account

    def send_another_link(self, account: Account) -> bool:
        """After a sign-in with the right password on an unconfirmed account: a new
        confirmation link, at most a few an hour; False if none was sent."""
        try:
            self.rate_limiter.hit(CONFIRMATION_PER_ACCOUNT, str(account.id))
        except RateLimited:
            return False
        self.codes.send_link(account, PURPOSE_VERIFY_EMAIL)
        return True
