"""Signing in with a code emailed to the address (docs/security.md 73): the first factor
for people who would rather not remember a password.

A code is 8 characters of Crockford's base-32 alphabet (40 random bits), shown as
XXXX-XXXX, good for 10 minutes and three tries, and single use. It works only in the
browser that asked: that browser keeps a random binding token (encrypted, in its
session), and the stored digest covers the token and the code together, so a code read
from the email, or guessed, is worth nothing anywhere else. Each try is counted before
the code is compared (a conditional UPDATE), so even tries that race cannot pass three.

Asking answers the same for every address: an address with no account (or one that may
not sign in) gets a binding token and no email, and its form refuses every code alike;
every refusal (a wrong code, a spent, expired or exhausted one) is the same answer, so
that a browser replaying its old session cannot tell the two apart either."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, NoReturn

from sqlalchemy import update

from app.models import PURPOSE_SIGN_IN, Account, OneTimeCode
from app.services.accounts.accounts import AccountService
from app.services.kernel import audit as events
from app.services.kernel.codes import digest, new_code
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.email_addresses import normalize_email
from app.services.kernel.errors import InvalidEmail
from app.services.kernel.lifecycle_errors import SignInCodeInvalid
from app.services.kernel.statements import rows_changed
from app.services.notices.account_mail import AccountMail
from app.settings.limits import BAD_CODE_PER_IP, SIGNIN_CODE_PER_EMAIL, SIGNIN_CODE_PER_IP

# Crockford's base 32: no I, L, O or U, so that what is read is what is typed.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
MAX_TRIES = 3
# What people type for the letters left out.
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Longer input cannot be a code: refused before any work.
MAX_TYPED_LENGTH = 40


def new_sign_in_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def shown(code: str) -> str:
    """The code as the email shows it: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def typed_code(text: str) -> str | None:
    """The code someone typed, as it was made (case, spaces, a dash and look-alike
    letters forgiven); None if it cannot be one."""
    if len(text) > MAX_TYPED_LENGTH:
        return None
    code = "".join(text.split()).replace("-", "").upper().translate(_LOOK_ALIKES)
    if len(code) != CODE_LENGTH or not all(ch in ALPHABET for ch in code):
        return None
    return code


def _sealed(binding: str, code: str) -> str:
    return digest(f"{binding}:{code}")


@dataclass(frozen=True)
class CodeRequest:
    """What the browser that asked keeps (encrypted, in its session): its binding token
    and the code's row (none for an address that got no code)."""

    binding: str
    code_id: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> CodeRequest | None:
        try:
            code_id = value["code_id"]
            return cls(str(value["binding"]), None if code_id is None else int(code_id))
        except (KeyError, TypeError, ValueError):
            return None


class EmailedSignInCodes(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        accounts: AccountService,
        mail: AccountMail,
        lifetime: timedelta,
    ) -> None:
        super().__init__(context)
        self.accounts = accounts
        self.mail = mail
        self.lifetime = lifetime

    def send(self, email: str) -> CodeRequest:
        """Email a code to the address, if it has an account that may sign in; the same
        answer either way. Raises InvalidEmail (a mistyped address, before any limit is
        spent) or RateLimited (per client and per address)."""
        address = normalize_email(email)
        if "@" not in address:
            raise InvalidEmail()
        self.rate_limiter.hit(SIGNIN_CODE_PER_IP, self.context.address_key)
        self.rate_limiter.hit(SIGNIN_CODE_PER_EMAIL, address)
        binding, now = new_code(), self.clock.now()
        account = self.accounts.find_account_by_email(email)
        if account is None or not account.may_sign_in:
            return CodeRequest(binding, None)
        code = new_sign_in_code()
        record = OneTimeCode(
            account_id=account.id,
            purpose=PURPOSE_SIGN_IN,
            code_hash=_sealed(binding, code),
            created_at=now,
            expires_at=now + self.lifetime,
            created_ip=self.context.ip,
            attempts=0,
        )
        self.dbsession.add(record)
        self.dbsession.flush()
        minutes = int(self.lifetime.total_seconds() // 60)
        self.mail.sign_in_code(account.email, shown(code), minutes, now + self.lifetime)
        self.audit.record(events.SIGN_IN_CODE_SENT, account.id)
        return CodeRequest(binding, record.id)

    def verify(self, request: CodeRequest, typed: str) -> Account:
        """The account whose code this browser typed, the code spent. Raises
        SignInCodeInvalid (the same for every reason) or RateLimited (wrong codes from
        one client count against its limit on bad codes)."""
        self.rate_limiter.check(BAD_CODE_PER_IP, self.context.address_key)
        record = None
        if request.code_id is not None:
            record = self.dbsession.get(OneTimeCode, request.code_id)
        if record is None or record.purpose != PURPOSE_SIGN_IN:
            self._wrong()
        now = self.clock.now()
        # The try is counted first: of tries that race, no more than three are compared.
        counted = rows_changed(
            self.dbsession,
            update(OneTimeCode)
            .where(
                OneTimeCode.id == record.id,
                OneTimeCode.used_at.is_(None),
                OneTimeCode.expires_at > now,
                OneTimeCode.attempts < MAX_TRIES,
            )
            .values(attempts=OneTimeCode.attempts + 1)
            .execution_options(synchronize_session=False),
        )
        if counted != 1:
            self._wrong()
        code = typed_code(typed)
        sealed = _sealed(request.binding, code) if code is not None else ""
        if not hmac.compare_digest(sealed, record.code_hash):
            self.audit.record(events.SIGN_IN_CODE_FAILED, record.account_id)
            self._wrong()
        changed = rows_changed(
            self.dbsession,
            update(OneTimeCode)
            .where(OneTimeCode.id == record.id, OneTimeCode.used_at.is_(None))
            .values(used_at=now, used_ip=self.context.ip)
            .execution_options(synchronize_session=False),
        )
        if changed != 1:
            self._wrong()
        account = record.account
        self.dbsession.expire(record)
        return account

    def _wrong(self) -> NoReturn:
        """A refused code, counted against the client."""
        self.rate_limiter.hit(BAD_CODE_PER_IP, self.context.address_key)
        raise SignInCodeInvalid()
