"""The one password policy: length, no email, a strength estimate (zxcvbn), and not a
password known from a breach (Pwned Passwords, when configured)."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.kernel.errors import PasswordRejected
from app.services.passwords.breaches import BreachedPasswords
from app.services.passwords.feedback import advice
from app.services.passwords.hashing import MAX_PASSWORD_LENGTH, normalize_password
from app.services.passwords.strength import FALLBACK_WARNING, estimate_strength
from app.translation import _


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 12
    max_length: int = MAX_PASSWORD_LENGTH
    min_strength: int = 3
    breaches: BreachedPasswords | None = None

    def check(self, password: str, email: str | None = None) -> None:
        """Raise PasswordRejected unless the password may be used for this account.

        The cheap checks come first: length is counted in code points after NFKC, and a
        megabyte of text is refused before anything else. The strength estimate comes
        next, and costs a bounded time whatever the password (password_strength.py); the
        breach check last, as it waits on another service (at most its timeout)."""
        if len(password) > self.max_length * 4:
            raise PasswordRejected(
                _("Use at most ${n} characters.", mapping={"n": self.max_length}),
                code="password_too_long",
            )
        normalized = normalize_password(password)
        length = len(normalized)
        if length < self.min_length:
            raise PasswordRejected(
                _("Use at least ${n} characters.", mapping={"n": self.min_length}),
                code="password_too_short",
            )
        if length > self.max_length:
            raise PasswordRejected(
                _("Use at most ${n} characters.", mapping={"n": self.max_length}),
                code="password_too_long",
            )
        if "\x00" in normalized:
            raise PasswordRejected(
                _("The password contains a character that cannot be used."),
                code="password_bad_character",
            )
        if email and normalized.strip().lower() == email.strip().lower():
            raise PasswordRejected(
                _("Do not use your email address as your password."),
                code="password_is_the_email",
            )
        if self.min_strength > 0:
            inputs = [email, email.split("@")[0]] if email else []
            estimate = estimate_strength(normalized, inputs)
            if estimate.score < self.min_strength:
                warning = estimate.warning or FALLBACK_WARNING
                raise PasswordRejected(
                    advice(warning, list(estimate.suggestions)), code="password_too_weak"
                )
        if self.is_breached(normalized):
            raise PasswordRejected(BREACHED_MESSAGE, code="password_breached")

    def is_breached(self, password: str) -> bool:
        """Whether the password is known from a breach; False when the check is off or
        the service did not answer in time."""
        if self.breaches is None:
            return False
        return bool(self.breaches.times_seen(normalize_password(password)))


BREACHED_MESSAGE = _(
    "This password appears in a list of passwords leaked from other sites, which"
    " attackers try first. Choose a different one."
)
