"""Password hashing: argon2id through passlib, with one worker thread per core."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from passlib.context import CryptContext

_T = TypeVar("_T")

MAX_PASSWORD_LENGTH = 128
# No password the policy accepts is longer than this after NFKC; anything longer is a
# mismatch without hashing it (passlib refuses inputs over 4096 characters).
MAX_VERIFIED_LENGTH = 1024

# OWASP's argon2id parameters: 19 MiB of memory, 2 passes, 1 lane. pbkdf2_sha256 is
# accepted for hashes from older systems and upgraded at the next sign-in.
ARGON2_MEMORY_KIB = 19456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1


def normalize_password(password: str) -> str:
    """NFKC, so that the same password typed on two keyboards gives the same bytes.
    Used both when a password is set and when it is checked."""
    return unicodedata.normalize("NFKC", password)


def make_crypt_context(
    memory_kib: int = ARGON2_MEMORY_KIB,
    time_cost: int = ARGON2_TIME_COST,
    parallelism: int = ARGON2_PARALLELISM,
) -> CryptContext:
    return CryptContext(
        schemes=["argon2", "pbkdf2_sha256"],
        default="argon2",
        deprecated=["pbkdf2_sha256"],
        argon2__type="ID",
        argon2__memory_cost=memory_kib,
        argon2__rounds=time_cost,
        argon2__parallelism=parallelism,
    )


class PasswordHasher:
    """argon2id hashing and verification, run on one worker thread per core.

    Each computation holds 19 MiB and a core. Running more at once than there are cores
    only adds memory and slows every one of them, so requests hand the work to this small
    pool and wait for it. The pool's threads also keep memory flat: glibc keeps a freed
    19 MiB buffer in the heap of the thread that used it, so if every request thread
    hashed, each would keep one; this way only the pool's threads do, and reuse it."""

    def __init__(self, context: CryptContext | None = None, concurrency: int | None = None) -> None:
        self._context = context or make_crypt_context()
        self._workers = ThreadPoolExecutor(
            max_workers=concurrency or os.cpu_count() or 1, thread_name_prefix="argon2"
        )
        # Unknown emails are checked against this, so that a sign-in for an account that
        # does not exist costs the same time as one for an account that does.
        self._dummy_hash = self._context.hash("dummy password for timing")

    def hash(self, password: str) -> str:
        normalized = normalize_password(password)
        return self._run(self._context.hash, normalized)

    def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """(matches, new_hash): new_hash is set when the stored hash should be upgraded."""
        normalized = normalize_password(password)
        if not password_hash or len(normalized) > MAX_VERIFIED_LENGTH:
            self._spend_one_verify()
            return False, None
        try:
            return self._run(self._context.verify_and_update, normalized, password_hash)
        except (ValueError, TypeError):
            # A malformed stored hash must not become a 500; treat it as a mismatch.
            return False, None

    def dummy_verify(self) -> None:
        """Cost the same as checking a real password, and reveal nothing: a fixed
        password is checked against the dummy hash (the typed one is not needed)."""
        self._spend_one_verify()

    def _spend_one_verify(self) -> None:
        self._run(self._context.verify, "dummy password for timing", self._dummy_hash)

    def _run(self, function: Callable[..., _T], *args: Any) -> _T:
        return self._workers.submit(function, *args).result()
