"""The password policy and the password hash together, as the services use them."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.passwords.hashing import PasswordHasher
from app.services.passwords.policy import PasswordPolicy


@dataclass(frozen=True)
class Passwords:
    hasher: PasswordHasher
    policy: PasswordPolicy

    def hash_new(self, plain_text_password: str, email: str) -> str:
        """The hash to store for a new password; raises PasswordRejected, with the
        reason, unless the policy accepts it. The policy's cheap checks come first."""
        self.policy.check(plain_text_password, email)
        return self.hasher.hash(plain_text_password)

    def verify(
        self, plain_text_password: str, password_hash: str | None
    ) -> tuple[bool, str | None]:
        """(matches, new_hash), new_hash set when the stored hash should be upgraded."""
        return self.hasher.verify(plain_text_password, password_hash)

    def dummy_verify(self) -> None:
        """Cost what a real check costs, for accounts that do not exist."""
        self.hasher.dummy_verify()

    def is_too_long_to_check(self, plain_text_password: str) -> bool:
        """Far longer than any accepted password: refused before any hashing."""
        return len(plain_text_password) > self.policy.max_length * 4
