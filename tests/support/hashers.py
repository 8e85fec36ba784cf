"""Password hashers for the tests: cheap argon2id, and one that pauses mid-hash."""

from __future__ import annotations

from collections.abc import Callable

from app.services.passwords.hashing import PasswordHasher, make_crypt_context

# Hashing with OWASP's argon2id parameters costs about 30 ms a password; the tests that
# are not about hashing use the same algorithm with the smallest parameters argon2
# allows, and the tests of hashing itself (and of timing) ask for owasp_hasher.
CHEAP_ARGON2 = {"memory_kib": 8, "time_cost": 1}

Meanwhile = Callable[[], None]


class HasherWithAGap(PasswordHasher):
    """A real (cheap) hasher that runs `meanwhile` once, just before its first hash or
    its first verification: the moment a request has read the account or the code and
    not yet written anything (a reset has checked its code but not spent it; a change
    has checked the current password and is hashing the new one)."""

    def __init__(
        self, before_hash: Meanwhile | None = None, before_verify: Meanwhile | None = None
    ):
        super().__init__(context=make_crypt_context(**CHEAP_ARGON2))
        self.before_hash = before_hash
        self.before_verify = before_verify

    def hash(self, password: str) -> str:
        meanwhile, self.before_hash = self.before_hash, None
        if meanwhile is not None:
            meanwhile()
        return super().hash(password)

    def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        meanwhile, self.before_verify = self.before_verify, None
        if meanwhile is not None:
            meanwhile()
        return super().verify(password, password_hash)
