"""Second factors: an authenticator app (TOTP, RFC 6238) and recovery codes.

TOTP codes are 6 digits for 30-second steps, with one step of drift either way; each time
step is accepted once per account, decided by a conditional UPDATE of the last step
used, so a code seen over a shoulder or replayed in a race does not work twice. The
shared secret is stored encrypted. Recovery codes carry 100 random bits, are stored as
SHA-256 digests and spent by a conditional UPDATE; a new set deletes the old one."""

from __future__ import annotations

import base64
import hmac
import io
import secrets
from collections.abc import Callable

import pyotp
import segno
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, or_, select, update

from app.models import Account, RecoveryCode
from app.services.kernel import audit as events
from app.services.kernel.codes import digest
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.errors import InvalidSecondFactorCode
from app.services.kernel.statements import rows_changed
from app.services.notices.account_mail import AccountMail
from app.settings.limits import SECOND_FACTOR_PER_ACCOUNT
from app.translation import _

TOTP_STEP_SECONDS = 30
TOTP_DRIFT_STEPS = 1
RECOVERY_CODES_PER_SET = 10
# 20 characters of base32: 100 bits, shown as xxxxx-xxxxx-xxxxx-xxxxx.
RECOVERY_CODE_BYTES = 13
RECOVERY_CODE_LENGTH = 20


def normalize_recovery_code(code: str) -> str:
    """How a recovery code is compared: lower case, without spaces or dashes."""
    return "".join(ch for ch in code.lower() if ch not in " -\t")


def new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode("ascii").lower()
    code = raw[:RECOVERY_CODE_LENGTH]
    return "-".join(code[i : i + 5] for i in range(0, RECOVERY_CODE_LENGTH, 5))


class TwoFactorService(ContextService):
    def __init__(
        self,
        context: ServiceContext,
        cipher: Fernet,
        mail: AccountMail,
        issuer: str,
        other_factors: Callable[[Account], bool] | None = None,
    ) -> None:
        super().__init__(context)
        self.cipher = cipher
        self.mail = mail
        self.issuer = issuer
        # Whether the account has a second factor of another kind (passkeys).
        self.other_factors = other_factors

    # What the account has

    def has_totp(self, account: Account) -> bool:
        return account.totp_secret is not None

    def has_second_factor(self, account: Account) -> bool:
        """Whether a sign-in with the password must pass a second factor."""
        if self.has_totp(account):
            return True
        return bool(self.other_factors and self.other_factors(account))

    def takes_codes(self, account: Account) -> bool:
        """Whether a code can be its second factor: an authenticator app's, or one of
        the recovery codes left."""
        return self.has_totp(account) or self.recovery_codes_left(account.id) > 0

    def recovery_codes_left(self, account_id: int) -> int:
        return (
            self.dbsession.scalar(
                select(func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None))
            )
            or 0
        )

    # Setting up the authenticator app

    @staticmethod
    def new_totp_secret() -> str:
        return pyotp.random_base32()

    def provisioning_uri(self, account: Account, secret: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=self.issuer)

    @staticmethod
    def qr_code_svg(uri: str, title: str) -> str:
        """The QR code as inline SVG, drawn here: no image service sees the secret."""
        buffer = io.BytesIO()
        segno.make(uri, error="m").save(
            buffer, kind="svg", xmldecl=False, svgns=True, scale=4, border=2, title=title
        )
        return buffer.getvalue().decode("utf-8")

    def enable_totp(self, account: Account, secret: str, code: str) -> list[str]:
        """Turn the authenticator app on, once it has produced a valid code; returns a new
        set of recovery codes, to be shown once. Raises InvalidSecondFactorCode."""
        step = self._matching_step(secret, code)
        if step is None:
            raise InvalidSecondFactorCode(
                _(
                    "That code does not match. Check the time on your phone, and type the"
                    " code the app shows now."
                )
            )
        account.totp_secret = self.cipher.encrypt(secret.encode("ascii"))
        account.totp_last_step = step
        account.totp_enabled_at = self.clock.now()
        codes = self._replace_recovery_codes(account)
        self.audit.record(events.SECOND_FACTOR_ADDED, account.id, factor="totp")
        self.mail.second_factor_changed(account.email, "added", self.clock.now())
        self.dbsession.flush()
        return codes

    def disable_totp(self, account: Account, by_admin_id: int | None = None) -> None:
        """Turn the authenticator app off (and delete the recovery codes, which stand in
        for it, unless the account keeps passkeys); the owner is told."""
        account.totp_secret = None
        account.totp_last_step = None
        account.totp_enabled_at = None
        if not (self.other_factors and self.other_factors(account)):
            self.dbsession.execute(
                delete(RecoveryCode).where(RecoveryCode.account_id == account.id)
            )
        self.audit.record(
            events.SECOND_FACTOR_REMOVED, account.id, actor_id=by_admin_id, factor="totp"
        )
        if by_admin_id is None:
            # An administrator's removal is told in one email of its own (account_admin.py).
            self.mail.second_factor_changed(account.email, "removed", self.clock.now())
        self.dbsession.flush()

    def new_recovery_codes(self, account: Account) -> list[str]:
        """A new set of recovery codes; the old ones stop working. Shown once."""
        codes = self._replace_recovery_codes(account)
        self.audit.record(events.RECOVERY_CODES_RENEWED, account.id)
        self.mail.recovery_codes_renewed(account.email, self.clock.now())
        return codes

    def _replace_recovery_codes(self, account: Account) -> list[str]:
        self.dbsession.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
        now = self.clock.now()
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES_PER_SET)]
        for code in codes:
            self.dbsession.add(
                RecoveryCode(
                    account_id=account.id,
                    code_hash=digest(normalize_recovery_code(code)),
                    created_at=now,
                )
            )
        self.dbsession.flush()
        return codes

    # Passing the second factor

    def verify(self, account: Account, code: str) -> str:
        """Check a code typed at the second-factor step: an authenticator code or a
        recovery code. Returns which ("totp" or "recovery"); raises RateLimited or
        InvalidSecondFactorCode. Guesses are limited per account."""
        self.rate_limiter.hit(SECOND_FACTOR_PER_ACCOUNT, str(account.id))
        typed = code.strip().replace(" ", "")
        if typed.isdigit() and len(typed) == 6:
            if self.use_totp_code(account, typed):
                return "totp"
        elif self.use_recovery_code(account, code):
            return "recovery"
        self.audit.record(events.SECOND_FACTOR_FAILED, account.id)
        raise InvalidSecondFactorCode()

    def use_totp_code(self, account: Account, code: str) -> bool:
        """Accept the code if it is valid now (one step of drift) and its time step is
        later than the last one used: one conditional UPDATE decides, so of two requests
        with the same code only one wins."""
        if account.totp_secret is None:
            return False
        secret = self.cipher.decrypt(account.totp_secret).decode("ascii")
        step = self._matching_step(secret, code)
        if step is None:
            return False
        changed = rows_changed(
            self.dbsession,
            update(Account)
            .where(
                Account.id == account.id,
                Account.totp_secret.is_not(None),
                or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False),
        )
        self.dbsession.expire(account, ["totp_last_step"])
        return changed == 1

    def _matching_step(self, secret: str, code: str) -> int | None:
        # "790 859", as some apps show it, is the code 790859.
        code = "".join(code.split())
        if not (code.isdigit() and len(code) == 6):
            return None
        totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
        now_step = int(self.clock.now().timestamp()) // TOTP_STEP_SECONDS
        for step in range(now_step - TOTP_DRIFT_STEPS, now_step + TOTP_DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    def use_recovery_code(self, account: Account, code: str) -> bool:
        """Spend a recovery code (one conditional UPDATE: it works once, even when two
        requests race with it); the owner is told, with how many remain."""
        normalized = normalize_recovery_code(code)
        if len(normalized) != RECOVERY_CODE_LENGTH or not normalized.isalnum():
            return False
        changed = rows_changed(
            self.dbsession,
            update(RecoveryCode)
            .where(
                RecoveryCode.account_id == account.id,
                RecoveryCode.code_hash == digest(normalized),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=self.clock.now())
            .execution_options(synchronize_session=False),
        )
        if changed != 1:
            return False
        left = self.recovery_codes_left(account.id)
        self.audit.record(events.RECOVERY_CODE_USED, account.id, left=left)
        self.mail.recovery_code_used(account.email, left, self.clock.now())
        return True
