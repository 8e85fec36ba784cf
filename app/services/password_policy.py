"""The one password policy: length, no email, and a strength estimate (zxcvbn)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .errors import PasswordRejected
from .password_hashing import MAX_PASSWORD_LENGTH, normalize_password


def estimate_strength(password: str, user_inputs: list[str], max_length: int) -> dict[str, Any]:
    """zxcvbn's estimate. Imported on first use: its dictionaries take about 13 MB of
    memory, which a process that only signs people in never needs."""
    from zxcvbn import zxcvbn

    return zxcvbn(password, user_inputs=user_inputs, max_length=max_length)


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 12
    max_length: int = MAX_PASSWORD_LENGTH
    min_strength: int = 3

    # zxcvbn keeps the user inputs of the current call in a module-level dictionary,
    # so two threads checking at once could see each other's inputs.
    _zxcvbn_lock = threading.Lock()

    def check(self, password: str, email: str | None = None) -> None:
        """Raise PasswordRejected unless the password may be used for this account.

        Length is counted in code points after NFKC and checked first, before any
        costly work, so that a megabyte of text is refused at once."""
        if len(password) > self.max_length * 4:
            raise PasswordRejected(f"Use at most {self.max_length} characters.")
        normalized = normalize_password(password)
        length = len(normalized)
        if length < self.min_length:
            raise PasswordRejected(f"Use at least {self.min_length} characters.")
        if length > self.max_length:
            raise PasswordRejected(f"Use at most {self.max_length} characters.")
        if "\x00" in normalized:
            raise PasswordRejected("The password contains a character that cannot be used.")
        if email and normalized.strip().lower() == email.strip().lower():
            raise PasswordRejected("Do not use your email address as your password.")
        if self.min_strength <= 0:
            return
        inputs = [email, email.split("@")[0]] if email else []
        with self._zxcvbn_lock:
            result = estimate_strength(normalized, inputs, self.max_length)
        if result["score"] < self.min_strength:
            feedback = result.get("feedback") or {}
            reason = feedback.get("warning") or "This password is too easy to guess."
            suggestions = " ".join(feedback.get("suggestions") or [])
            message = f"{reason.rstrip('.')}." + (f" {suggestions}" if suggestions else "")
            raise PasswordRejected(message)
