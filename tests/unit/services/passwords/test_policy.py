"""Password hashing (argon2id, NFKC, upgrades) and the one password policy."""

from __future__ import annotations

import re

import pytest
from passlib.hash import pbkdf2_sha256

from app.services.kernel.errors import PasswordRejected
from app.services.passwords import policy as password_policy
from app.services.passwords.hashing import PasswordHasher, make_crypt_context
from app.services.passwords.policy import PasswordPolicy
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD

OWASP_ARGON2_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$"
EMAIL = "alice@example.com"
# Long enough to be cut for a maximum-length test, and strong at any length over 12.
LONG_PASSPHRASE = (
    "umbrella quartz nimbus falcon ribbon tundra copper vivid meadow glacier saffron harbor "
    "orchid lantern pebble cobalt walnut ember juniper marble thistle canyon velvet"
)


def rejection(policy: PasswordPolicy, password: str, email: str | None = None) -> str:
    with pytest.raises(PasswordRejected) as caught:
        policy.check(password, email)
    return str(caught.value)


# Hashing


@pytest.fixture
def hasher(owasp_hasher: PasswordHasher) -> PasswordHasher:
    """These tests are about the hashing itself: OWASP's parameters, not the cheap ones."""
    return owasp_hasher


def test_hash_is_argon2id_with_owasp_parameters(hasher: PasswordHasher) -> None:
    assert hasher.hash(STRONG_PASSWORD).startswith(OWASP_ARGON2_PREFIX)


def test_equal_passwords_get_different_salts(hasher: PasswordHasher) -> None:
    first = hasher.hash(STRONG_PASSWORD)
    second = hasher.hash(STRONG_PASSWORD)

    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert hasher.verify(STRONG_PASSWORD, first) == (True, None)
    assert hasher.verify(STRONG_PASSWORD, second) == (True, None)


def test_hash_does_not_contain_the_password(hasher: PasswordHasher) -> None:
    assert STRONG_PASSWORD not in hasher.hash(STRONG_PASSWORD)


def test_wrong_password_is_refused(hasher: PasswordHasher) -> None:
    assert hasher.verify(OTHER_PASSWORD, hasher.hash(STRONG_PASSWORD)) == (False, None)


def test_password_is_not_truncated_after_72_bytes(hasher: PasswordHasher) -> None:
    stored = hasher.hash("A" * 72 + "x")

    assert hasher.verify("A" * 72 + "x", stored) == (True, None)
    assert hasher.verify("A" * 72 + "y", stored) == (False, None)
    assert hasher.verify("A" * 72, stored) == (False, None)


@pytest.mark.parametrize(
    ("typed_when_set", "typed_at_sign_in"),
    [
        # Fullwidth letters and the ideographic space, as an East Asian keyboard gives them.
        ("ｃｏｒｒｅｃｔ\u3000ｈｏｒｓｅ\u3000ｂａｔｔｅｒｙ", "correct horse battery"),
        ("correct horse battery", "ｃｏｒｒｅｃｔ\u3000ｈｏｒｓｅ\u3000ｂａｔｔｅｒｙ"),
        # Compatibility ligature and superscript digit.
        ("\ufb01sh and chips\u00b2 please", "fish and chips2 please"),
        # e + combining acute against the precomposed letter, both ways.
        ("cafe\u0301 au lait, s'il vous plait", "caf\u00e9 au lait, s'il vous plait"),
        ("caf\u00e9 au lait, s'il vous plait", "cafe\u0301 au lait, s'il vous plait"),
    ],
)
def test_password_is_nfkc_normalised_on_set_and_on_verify(
    hasher: PasswordHasher, typed_when_set: str, typed_at_sign_in: str
) -> None:
    assert typed_when_set != typed_at_sign_in

    matches, _ = hasher.verify(typed_at_sign_in, hasher.hash(typed_when_set))

    assert matches


def test_pbkdf2_hash_verifies_and_is_upgraded_to_argon2id(hasher: PasswordHasher) -> None:
    old_hash = pbkdf2_sha256.hash(STRONG_PASSWORD)

    matches, new_hash = hasher.verify(STRONG_PASSWORD, old_hash)

    assert matches
    assert new_hash is not None and new_hash.startswith(OWASP_ARGON2_PREFIX)
    assert hasher.verify(STRONG_PASSWORD, new_hash) == (True, None)


def test_pbkdf2_hash_with_wrong_password_is_refused_and_not_upgraded(
    hasher: PasswordHasher,
) -> None:
    assert hasher.verify(OTHER_PASSWORD, pbkdf2_sha256.hash(STRONG_PASSWORD)) == (False, None)


def test_weaker_argon2_hash_is_upgraded(hasher: PasswordHasher) -> None:
    weak_hash = make_crypt_context(memory_kib=8192, time_cost=1).hash(STRONG_PASSWORD)
    assert weak_hash.startswith("$argon2id$v=19$m=8192,t=1,p=1$")

    matches, new_hash = hasher.verify(STRONG_PASSWORD, weak_hash)

    assert matches
    assert new_hash is not None and new_hash.startswith(OWASP_ARGON2_PREFIX)


def test_current_hash_is_not_rehashed(hasher: PasswordHasher) -> None:
    assert hasher.verify(STRONG_PASSWORD, hasher.hash(STRONG_PASSWORD)) == (True, None)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=19456,t=2,p=1$bad",
        "$argon2id$v=19$m=19456,t=2,p=1$$",
        "$pbkdf2-sha256$29000$bad",
        "$2b$12$" + "x" * 53,
        "\x00",
    ],
)
def test_malformed_stored_hash_is_a_mismatch_not_an_error(
    hasher: PasswordHasher, stored: str
) -> None:
    assert hasher.verify(STRONG_PASSWORD, stored) == (False, None)


def test_missing_stored_hash_is_a_mismatch(hasher: PasswordHasher) -> None:
    assert hasher.verify(STRONG_PASSWORD, None) == (False, None)


# U+FDFA is one code point that NFKC turns into 18; 228 of them are well under every
# length guard before normalisation, but 4,104 characters after it, over passlib's
# MAX_PASSWORD_SIZE of 4,096.
EXPANDING_PASSWORD = "\ufdfa" * 228


def test_password_expanding_under_nfkc_against_a_real_hash_is_a_mismatch(
    hasher: PasswordHasher,
) -> None:
    assert hasher.verify(EXPANDING_PASSWORD, hasher.hash(STRONG_PASSWORD)) == (False, None)


def test_password_expanding_under_nfkc_without_a_stored_hash_is_a_mismatch_not_an_error(
    hasher: PasswordHasher,
) -> None:
    assert hasher.verify(EXPANDING_PASSWORD, None) == (False, None)


# Policy: length


def test_minimum_is_12_characters_by_default() -> None:
    assert PasswordPolicy().min_length == 12

    message = rejection(PasswordPolicy(), "kq7#Vz!m2Lp")

    assert message == "Use at least 12 characters."
    PasswordPolicy().check("kq7#Vz!m2Lp9")


def test_length_is_counted_in_code_points() -> None:
    # 11 emoji are 44 UTF-8 bytes and 22 UTF-16 units, but only 11 characters.
    emoji = [0x1F600, 0x1F40D, 0x1F389, 0x1F680, 0x1F30D, 0x1F525, 0x1F4A1, 0x1F3B8, 0x1F355]
    eleven_emoji = "".join(map(chr, [*emoji, 0x1F419, 0x1F308]))
    twelve_cjk = "\u6f22\u5b57\u304b\u306a\u4ea4\u3058\u308a\u6587\u7ae0\u3067\u3059\u306d"
    assert len(eleven_emoji) == 11 and len(twelve_cjk) == 12

    assert "12" in rejection(PasswordPolicy(), eleven_emoji)
    PasswordPolicy().check(eleven_emoji + "\U0001f984")
    PasswordPolicy().check(twelve_cjk)


def test_maximum_is_128_characters() -> None:
    PasswordPolicy().check(LONG_PASSPHRASE[:128])

    message = rejection(PasswordPolicy(), LONG_PASSPHRASE[:129])

    assert message == "Use at most 128 characters."


@pytest.mark.parametrize("size", [1_000_000, 10_000_000], ids=["1MB", "10MB"])
@pytest.mark.parametrize("unit", ["correct horse ", "\ufdfa"], ids=["ascii", "expanding"])
def test_huge_password_is_refused_before_any_costly_work(
    monkeypatch: pytest.MonkeyPatch, size: int, unit: str
) -> None:
    # NFKC of a megabyte of U+FDFA (18 code points each) takes over a second, and
    # zxcvbn far longer: neither may see more than a few times the maximum length.
    real_normalize = password_policy.normalize_password

    def bounded_normalize(password: str) -> str:
        assert len(password) <= 4 * 128, "normalised a password far over the maximum"
        return real_normalize(password)

    def zxcvbn_must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("zxcvbn ran on a password that is too long")

    monkeypatch.setattr(password_policy, "normalize_password", bounded_normalize)
    monkeypatch.setattr(password_policy, "estimate_strength", zxcvbn_must_not_run)

    message = rejection(PasswordPolicy(), (unit * size)[:size])

    assert "128" in message


# Four code points that NFKC composes into one (U+1F8F), the most it composes.
COMPOSING = "\u0391\u0314\u0342\u0345"


def test_the_cheap_guard_lets_through_what_nfkc_can_bring_down_to_the_maximum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    normalized: list[int] = []
    real_normalize = password_policy.normalize_password

    def recording_normalize(password: str) -> str:
        normalized.append(len(password))
        return real_normalize(password)

    monkeypatch.setattr(password_policy, "normalize_password", recording_normalize)
    policy = PasswordPolicy(min_strength=0)

    # 512 code points, 128 characters once normalised: accepted.
    policy.check(COMPOSING * 128)
    assert normalized == [512]
    # One more code point is refused before it is normalised, with the same words.
    assert rejection(policy, COMPOSING * 128 + "a") == "Use at most 128 characters."
    assert normalized == [512]


def test_password_expanding_past_the_maximum_under_nfkc_is_refused() -> None:
    # 100 characters that NFKC turns into 1,800.
    assert rejection(PasswordPolicy(), "\ufdfa" * 100) == "Use at most 128 characters."


def test_nul_byte_in_password_is_refused() -> None:
    assert (
        rejection(PasswordPolicy(), "correct horse\x00battery staple")
        == "The password contains a character that cannot be used."
    )


# Policy: strength, not composition


def test_a_password_is_refused_below_the_minimum_score_and_accepted_at_it() -> None:
    # zxcvbn scores "aaaaaaaaaaaa" 0 and "password1234" 1.
    assert rejection(PasswordPolicy(min_strength=1), "aaaaaaaaaaaa") == (
        'Repeats like "aaa" are easy to guess. Add another word or two.'
        " Uncommon words are better. Avoid repeated words and characters."
    )
    PasswordPolicy(min_strength=1).check("password1234")
    assert rejection(PasswordPolicy(min_strength=2), "password1234") == (
        "This is a very common password. Add another word or two. Uncommon words are better."
    )


def test_with_the_strength_check_off_no_estimate_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    def estimate_must_not_run(*args: object) -> None:
        raise AssertionError("the strength was estimated")

    monkeypatch.setattr(password_policy, "estimate_strength", estimate_must_not_run)
    PasswordPolicy(min_strength=0).check("aaaaaaaaaaaa", EMAIL)


def test_a_password_made_of_the_addresss_local_part_is_weak() -> None:
    # Random-looking on its own (zxcvbn's top score), but it is the user's own name.
    address = "xq7vlm9rtzk@example.com"
    PasswordPolicy().check("xq7vlm9rtzk!!")
    assert rejection(PasswordPolicy(), "xq7vlm9rtzk!!", email=address) == (
        "This password is too easy to guess. Add another word or two. Uncommon words are better."
    )


@pytest.mark.parametrize("password", ["password1234", "qwertyuiopasdf", "123456789012"])
def test_common_password_is_refused_with_the_reason(password: str) -> None:
    message = rejection(PasswordPolicy(), password)

    assert re.search(r"common|guess|predictable|pattern", message, re.IGNORECASE), message


@pytest.mark.parametrize("password", [EMAIL, "  Alice@Example.com "])
def test_email_address_is_refused_as_password(password: str) -> None:
    message = rejection(PasswordPolicy(), password, email=EMAIL)

    assert "email" in message.lower()


def test_email_address_is_refused_even_without_strength_check() -> None:
    assert (
        rejection(PasswordPolicy(min_strength=0), EMAIL, email=EMAIL)
        == "Do not use your email address as your password."
    )


@pytest.mark.parametrize(
    "password",
    [
        STRONG_PASSWORD,
        "café crème brûlée à minuit",
        "\u6f22\u5b57\u304b\u306a\u4ea4\u3058\u308a\u6587\u7ae0\u3067\u3059\u306d",
        "  leading and trailing spaces  ",
    ],
)
def test_spaces_and_unicode_are_allowed(password: str) -> None:
    PasswordPolicy().check(password, EMAIL)


@pytest.mark.parametrize("password", ["zebra lantern quietly mumbles", "glyphquartzvixen"])
def test_no_composition_rules(password: str) -> None:
    # All lower case: no digit, no capital, (the second) no symbol or space.
    assert password == password.lower() and not any(c.isdigit() for c in password)

    PasswordPolicy().check(password, EMAIL)
