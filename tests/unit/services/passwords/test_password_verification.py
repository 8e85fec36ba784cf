"""What checking a password computes: a missing hash or an overlong password costs one
verification all the same (against the hasher's own dummy hash, so that an account
without a password cannot be told apart by time), and a password of exactly the longest
length checked is still checked."""

from __future__ import annotations

from typing import Any

from passlib.context import CryptContext

from app.services.passwords.hashing import MAX_VERIFIED_LENGTH, PasswordHasher, make_crypt_context
from tests.conftest import CHEAP_ARGON2, STRONG_PASSWORD


class RecordingContext:
    """A CryptContext that notes each verification and the stored hash it was against."""

    def __init__(self) -> None:
        self._context: CryptContext = make_crypt_context(**CHEAP_ARGON2)
        self.checked: list[str | None] = []

    def hash(self, secret: str) -> str:
        return self._context.hash(secret)

    def verify(self, secret: str, stored: Any) -> bool:
        self.checked.append(stored)
        return self._context.verify(secret, stored)

    def verify_and_update(self, secret: str, stored: Any) -> tuple[bool, str | None]:
        self.checked.append(stored)
        return self._context.verify_and_update(secret, stored)


def _hasher() -> tuple[PasswordHasher, RecordingContext, str]:
    context = RecordingContext()
    hasher = PasswordHasher(context, concurrency=1)  # type: ignore[arg-type]
    return hasher, context, hasher._dummy_hash  # noqa: SLF001 - what timing checks against


def test_an_account_without_a_password_costs_one_verification_of_the_dummy_hash() -> None:
    hasher, context, dummy = _hasher()

    assert hasher.verify(STRONG_PASSWORD, None) == (False, None)
    assert hasher.verify(STRONG_PASSWORD, "") == (False, None)
    assert context.checked == [dummy, dummy]


def test_an_overlong_password_costs_one_verification_of_the_dummy_hash() -> None:
    hasher, context, dummy = _hasher()
    stored = hasher.hash("p" * (MAX_VERIFIED_LENGTH + 1))

    assert hasher.verify("p" * (MAX_VERIFIED_LENGTH + 1), stored) == (False, None)
    assert context.checked == [dummy]


def test_a_password_of_exactly_the_longest_length_checked_is_checked() -> None:
    # Longer than any password the policy accepts now, as a hash from an older system
    # may have been made from.
    hasher, context, _ = _hasher()
    longest = "p" * MAX_VERIFIED_LENGTH
    stored = hasher.hash(longest)

    assert hasher.verify(longest, stored)[0] is True
    assert context.checked == [stored]
